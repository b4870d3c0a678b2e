"""training.pose_fit on the toy corridor (known poses): the cached ground truth and its mirror,
the cached trunk features, and the supervised term of the loss."""
import numpy as np
import pytest
import torch
from toy_corridor import STEP_X_M, STEP_Z_M, tiny_train_overrides, write_toy_sequence

from depth_ros.models import build_depth_net
from depth_ros.models.pose_corr import pose_corr_net
from training.config import load_config
from training.data.factory import build_dataset
from training.pose_fit import batch_loss, build_cache


METRES_PER_UNIT = 2.0


@pytest.fixture(scope='module')
def fitted(tmp_path_factory):
    root = write_toy_sequence(tmp_path_factory.mktemp('corridor'), frames=5, width=256,
                              height=128)
    config = load_config(None, tiny_train_overrides(root, root / 'out'))
    dataset = build_dataset(config.data, 'train', num_scales=1)
    dataset.augmentation = None
    torch.manual_seed(0)
    depth_net = build_depth_net('smalldepth').eval()
    pose_net = pose_corr_net(pretrained=False, fine_displacement=2)
    cache = build_cache(dataset, depth_net, pose_net.encoder.trunk, root / 'poses',
                        METRES_PER_UNIT, progress=False)
    return dataset, cache, pose_net, depth_net


def test_known_poses_are_cached_in_network_units_and_mirrored(fitted):
    dataset, cache, _, _ = fitted
    assert len(cache) == 2 * len(dataset) and cache.offsets == (0, -1, 1)
    gt, mirrored = cache.gt_poses[0], cache.gt_poses[1]
    torch.testing.assert_close(gt[0], torch.eye(4))
    # The camera moves (+x, +z) each frame, so target points sit at (-x, -z) in the next camera.
    expected = torch.tensor([-STEP_X_M, 0.0, -STEP_Z_M]) / METRES_PER_UNIT
    torch.testing.assert_close(gt[2, :3, 3], expected)
    torch.testing.assert_close(gt[1, :3, 3], -expected)
    torch.testing.assert_close(mirrored[2, :3, 3], expected * torch.tensor([-1.0, 1.0, 1.0]))
    width = cache.images.shape[-1]
    torch.testing.assert_close(cache.ks[1, 0, 2], width - 1 - cache.ks[0, 0, 2])
    torch.testing.assert_close(cache.images[1], cache.images[0].flip(-1))


def test_cached_features_are_the_trunks(fitted):
    dataset, cache, pose_net, depth_net = fitted
    frames = dataset[0].images[0]
    with torch.no_grad():
        fine, coarse = pose_net.encoder.trunk(frames)
        sigmoid = depth_net(frames[:1]).sigmoids[0][0]
    torch.testing.assert_close(cache.fine[0].float(), fine, atol=2e-3, rtol=2e-3)  # float16
    torch.testing.assert_close(cache.coarse[0].float(), coarse, atol=2e-3, rtol=2e-3)
    torch.testing.assert_close(cache.sigmoids[0].float(), sigmoid, atol=1e-3, rtol=1e-3)


def test_supervised_term_adds_the_mean_pose_error(fitted):
    _, cache, pose_net, _ = fitted
    from depth_ros.geometry.poses import pose_from_parameters
    from training.pose_fit import pair_parameters

    index = torch.arange(len(cache))
    losses = [batch_loss(pose_net, cache, index, 1, 0.1, 100.0,
                         torch.Generator().manual_seed(3), weight).item()
              for weight in (0.0, 5.0)]
    errors = []
    with torch.no_grad():
        target = cache.features(index, 0)
        for offset in (-1, 1):
            source = cache.features(index, offset)
            pair = (source, target) if offset < 0 else (target, source)
            params = pair_parameters(pose_net, *pair)
            pose = pose_from_parameters(params.axis_angle, params.translation,
                                        invert=offset < 0)
            gt = cache.gt_poses[:, cache.offsets.index(offset)]
            errors.append(np.abs((pose[:, :3] - gt[:, :3]).numpy()).mean())
    assert losses[1] - losses[0] == pytest.approx(5.0 * np.mean(errors), rel=1e-4)
