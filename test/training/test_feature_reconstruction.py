"""Feature reconstruction loss: constructed warps with known errors, minimum over sources."""
import pytest
import torch

from depth_ros.errors import ConfigError
from training.losses.feature_reconstruction import (
    feature_error,
    feature_reconstruction,
    feature_reconstruction_loss,
)


B, C, HEIGHT, WIDTH = 2, 8, 16, 24


def _k() -> torch.Tensor:
    k = torch.eye(4)
    k[0, 0], k[1, 1], k[0, 2], k[1, 2] = 0.58 * WIDTH, 1.92 * HEIGHT, WIDTH / 2, HEIGHT / 2
    return k.unsqueeze(0).repeat(B, 1, 1)


def _identity() -> torch.Tensor:
    return torch.eye(4).unsqueeze(0).repeat(B, 1, 1)


def _lateral(shift_px: float, depth_m: float) -> torch.Tensor:
    pose = _identity()
    pose[:, 0, 3] = shift_px * depth_m / _k()[0, 0, 0]  # x_s = x_t + fx t / z
    return pose


@pytest.fixture
def features() -> torch.Tensor:
    """A different constant per image and channel: every warp reproduces it exactly. (The
    identity warp is not an exact copy of a textured map: Monodepth2's grid normalisation by
    size - 1 with align_corners=False reads up to half a pixel off, see geometry.projection.)"""
    gen = torch.Generator().manual_seed(0)
    return torch.randn(B, C, 1, 1, generator=gen).expand(B, C, HEIGHT, WIDTH).contiguous()


def _ramp(shift_px: float = 0.0) -> torch.Tensor:
    """Features linear in x (a different slope per channel), moved right by `shift_px`."""
    slopes = torch.linspace(0.5, 2.0, C).view(1, C, 1, 1)
    x = (torch.arange(WIDTH, dtype=torch.float32) - shift_px).view(1, 1, 1, WIDTH)
    return (slopes * x / WIDTH).expand(B, C, HEIGHT, WIDTH).contiguous()


def test_zero_for_identical_features_under_identity_pose(features):
    depth = torch.full((B, 1, HEIGHT, WIDTH), 3.0)
    loss = feature_reconstruction_loss(features, [features.clone()], depth, _k(), [_identity()])
    assert loss.item() <= 1e-6


def test_known_error_for_offset_features(features):
    # Identity pose and constant depth: the warp is the identity, so the error is the offset.
    depth = torch.full((B, 1, HEIGHT, WIDTH), 3.0)
    result = feature_reconstruction(features, [features + 0.25], depth, _k(), [_identity()])
    assert result.per_pixel.shape == (B, HEIGHT, WIDTH)
    torch.testing.assert_close(result.per_pixel, torch.full((B, HEIGHT, WIDTH), 0.25))


def test_the_right_warp_explains_the_motion_and_identity_does_not():
    # The source is the target moved six pixels right: the pose that explains the motion
    # leaves only the half-pixel grid offset, the identity pose the whole motion.
    depth_m, shift = 4.0, 6
    target, source = _ramp(), _ramp(shift)
    depth = torch.full((B, 1, HEIGHT, WIDTH), depth_m)
    right = feature_reconstruction_loss(target, [source], depth, _k(), [_lateral(shift, depth_m)])
    wrong = feature_reconstruction_loss(target, [source], depth, _k(), [_identity()])
    assert wrong > 0.2
    assert right < 0.2 * wrong


def test_minimum_over_sources_picks_the_matching_view(features):
    depth = torch.full((B, 1, HEIGHT, WIDTH), 3.0)
    noisy = features + torch.randn(features.shape, generator=torch.Generator().manual_seed(1))
    loss = feature_reconstruction_loss(features, [noisy, features], depth, _k(),
                                       [_identity(), _identity()])
    assert loss.item() <= 1e-6
    assert feature_reconstruction_loss(features, [noisy], depth, _k(), [_identity()]) > 0.5


def test_error_is_the_channel_mean_of_l1():
    a = torch.zeros(1, 4, 1, 1)
    b = torch.tensor([1.0, -2.0, 3.0, 0.0]).view(1, 4, 1, 1)
    torch.testing.assert_close(feature_error(a, b), torch.full((1, 1, 1, 1), 1.5))


def test_gradient_reaches_depth():
    depth = torch.full((B, 1, HEIGHT, WIDTH), 3.0, requires_grad=True)
    feature_reconstruction_loss(_ramp(), [_ramp(2)], depth, _k(), [_lateral(2, 4.0)]).backward()
    assert depth.grad is not None and depth.grad.abs().sum() > 0


def test_automask_prefers_the_unwarped_source_of_a_static_scene():
    depth = torch.full((B, 1, HEIGHT, WIDTH), 3.0)
    result = feature_reconstruction(_ramp(), [_ramp()], depth, _k(), [_lateral(4, 3.0)],
                                    automask=True, generator=torch.Generator().manual_seed(2))
    assert result.automask.mean() < 0.2
    assert result.per_pixel.abs().max() < 1e-3


def test_mismatched_inputs_raise(features):
    depth = torch.full((B, 1, HEIGHT, WIDTH), 3.0)
    with pytest.raises(ConfigError, match='one pose per source'):
        feature_reconstruction(features, [features], depth, _k(), [])
    with pytest.raises(ConfigError, match='differ'):
        feature_reconstruction(features, [features[:, :4]], depth, _k(), [_identity()])
    with pytest.raises(ConfigError, match='resize it'):
        feature_reconstruction(features, [features], depth[..., :8], _k(), [_identity()])
