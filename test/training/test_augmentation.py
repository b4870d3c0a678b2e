"""Colour jitter and flips."""
import torch

from depth_ros.geometry.intrinsics import Intrinsics
from training.data.augmentation import AugmentationConfig, ColourJitter, flip_intrinsics, shift_hue


def test_neutral_jitter_is_identity():
    images = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(ColourJitter()(images), images, atol=1e-6, rtol=0)


def test_hue_rotation_known_values():
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    green = torch.tensor([0.0, 1.0, 0.0]).view(1, 3, 1, 1)
    torch.testing.assert_close(shift_hue(red, 1 / 3), green)
    grey = torch.full((1, 3, 2, 2), 0.4)
    torch.testing.assert_close(shift_hue(grey, 0.25), grey)
    images = torch.rand(2, 3, 5, 5, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(shift_hue(shift_hue(images, 0.3), -0.3), images, atol=1e-5,
                               rtol=0)


def test_one_draw_treats_every_frame_alike():
    frame = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(2))
    jitter = ColourJitter.sample(AugmentationConfig(), torch.Generator().manual_seed(3))
    out = jitter(frame.repeat(3, 1, 1, 1))
    torch.testing.assert_close(out[0], out[1])
    torch.testing.assert_close(out[0], out[2])
    assert out.min() >= 0 and out.max() <= 1


def test_flip_intrinsics_round_trip():
    k = Intrinsics(100.0, 90.0, 30.0, 20.0, 64, 48)
    flipped = flip_intrinsics(k)
    assert flipped.cx == 63 - 30 and flipped.fx == k.fx and flipped.cy == k.cy
    assert flip_intrinsics(flipped) == k
