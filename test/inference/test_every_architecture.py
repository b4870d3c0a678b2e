"""Every registered depth architecture runs through the Predictor the node uses, on each CPU
backend: a checkpoint of it loads, predicts depth at the camera's own size and, with a pose
network, relative poses."""
import numpy as np
import pytest
import torch

from depth_ros.inference import Predictor
from depth_ros.models import ArchSpec, depth_net_names, save_checkpoint
from depth_ros.models.registry import build_for_weights


H, W = 64, 192
BACKENDS = ['torch', 'onnxruntime']


@pytest.fixture(scope='module', params=depth_net_names())
def checkpoint(request, tmp_path_factory):
    torch.manual_seed(0)
    depth_net = build_for_weights('depth', request.param)
    # A supervised architecture ships without a pose network; the others with pose_lite.
    pose_net = None if request.param == 'drn' else build_for_weights('pose', 'pose_lite')
    path = tmp_path_factory.mktemp(request.param) / 'model.safetensors'
    pose_arch = None if pose_net is None else ArchSpec.of('pose_lite')
    save_checkpoint(path, depth_net, pose_net, depth_arch=ArchSpec.of(request.param),
                    pose_arch=pose_arch, height=H, width=W, min_depth=0.1, max_depth=80.0)
    return path


@pytest.mark.parametrize('backend', BACKENDS)
def test_predicts_depth_and_pose_at_the_camera_size(checkpoint, backend, tmp_path):
    if backend == 'onnxruntime':
        pytest.importorskip('onnxruntime')
        pytest.importorskip('onnx')
    predictor = Predictor.from_checkpoint(checkpoint, backend=backend,
                                          **({'cache_dir': tmp_path} if backend != 'torch'
                                             else {}))
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (75, 250, 3), dtype=np.uint8) for _ in range(2)]
    result = predictor.predict(frames[1])
    assert result.depth_m.shape == (75, 250) and result.depth_m.dtype == np.float32
    assert np.all(np.isfinite(result.depth_m))
    # Inside the checkpoint's range (bilinear resizing of inverse depth stays inside it).
    assert result.depth_m.min() >= 0.1 * (1 - 1e-5) and result.depth_m.max() <= 80.0 * (1 + 1e-5)
    if predictor.has_pose:
        pose = predictor.relative_pose(frames[0], frames[1])
        assert pose.shape == (4, 4) and np.all(np.isfinite(pose))
        np.testing.assert_allclose(pose[:3, :3] @ pose[:3, :3].T, np.eye(3), atol=1e-5)
