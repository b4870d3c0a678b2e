"""Photometric error: 0.85 SSIM + 0.15 L1, averaged over channels."""
import torch

from training.losses.photometric import photometric_error
from training.losses.ssim import ssim_dissimilarity


def _pair():
    g = torch.Generator().manual_seed(0)
    return torch.rand(2, 3, 10, 14, generator=g), torch.rand(2, 3, 10, 14, generator=g)


def test_shape_and_zero_for_identical():
    a, _ = _pair()
    out = photometric_error(a, a)
    assert out.shape == (2, 1, 10, 14)
    assert out.abs().max() < 1e-5


def test_weights_combine_ssim_and_l1():
    a, b = _pair()
    l1 = (a - b).abs().mean(1, keepdim=True)
    ssim = ssim_dissimilarity(a, b).mean(1, keepdim=True)
    torch.testing.assert_close(photometric_error(a, b), 0.85 * ssim + 0.15 * l1)
    torch.testing.assert_close(photometric_error(a, b, ssim_weight=0.0), l1)
    torch.testing.assert_close(photometric_error(a, b, ssim_weight=1.0), ssim)
