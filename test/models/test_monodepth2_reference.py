"""The networks and the Monodepth2 importer against Monodepth2's own outputs."""
import numpy as np
import pytest
import torch

from depth_ros.errors import WeightsError
from depth_ros.models import import_monodepth2


@pytest.fixture(scope='module')
def reference(md2_reference):
    md2 = import_monodepth2(md2_reference / 'weights_resnet18_random')
    return md2.depth_net, md2.pose_net, np.load(md2_reference / 'networks_io.npz')


def test_importer_returns_eval_modules(reference):
    depth_net, pose_net, _ = reference
    assert not depth_net.training and not pose_net.training


@pytest.mark.parametrize('scale', [0, 1, 2, 3])
def test_depth_outputs_match(reference, scale):
    depth_net, _, io = reference
    with torch.no_grad():
        out = depth_net(torch.from_numpy(io['image_t']))
    assert out.sigmoids[scale].shape == io[f'inv_depth_scale{scale}'].shape
    np.testing.assert_allclose(out.sigmoids[scale].numpy(), io[f'inv_depth_scale{scale}'],
                               atol=1e-4)


def test_pose_parameters_and_matrix_match(reference):
    _, pose_net, io = reference
    target, source = torch.from_numpy(io['image_t']), torch.from_numpy(io['image_s'])
    with torch.no_grad():
        params = pose_net.predict_parameters(target, source)
        matrix = pose_net(target, source)
    np.testing.assert_allclose(params.axis_angle.numpy(), io['pose_axisangle'][:, 0], atol=1e-4)
    np.testing.assert_allclose(params.translation.numpy(), io['pose_translation'][:, 0],
                               atol=1e-4)
    np.testing.assert_allclose(matrix.numpy(), io['pose_matrix'], atol=1e-4)


def test_missing_or_corrupt_files_are_clear_errors(md2_reference, tmp_path):
    with pytest.raises(WeightsError, match='encoder.pth'):
        import_monodepth2(tmp_path)
    (tmp_path / 'encoder.pth').write_bytes(b'not a checkpoint')
    with pytest.raises(WeightsError, match='cannot read'):
        import_monodepth2(tmp_path)
    with pytest.raises(WeightsError, match='not found'):
        import_monodepth2(tmp_path / 'nothing_here')
