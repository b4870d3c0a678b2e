"""SSIM dissimilarity: Monodepth2 reference vectors and constructed cases."""
import numpy as np
import torch

from training.losses.ssim import _local_mean, ssim_dissimilarity


def test_matches_monodepth2_reference(md2_reference):
    ref = np.load(md2_reference / 'layers_io.npz')
    out = ssim_dissimilarity(torch.from_numpy(ref['ssim_x']), torch.from_numpy(ref['ssim_y']))
    assert out.shape == ref['ssim_out'].shape
    # Float32 rounding of E[x^2] - E[x]^2 differs with the summation order of the 3x3 window:
    # the reference itself is 6e-6 from a float64 evaluation of the same formula.
    np.testing.assert_allclose(out.numpy(), ref['ssim_out'], atol=2e-5, rtol=0)
    exact = ssim_dissimilarity(torch.from_numpy(ref['ssim_x']).double(),
                               torch.from_numpy(ref['ssim_y']).double())
    np.testing.assert_allclose(exact.numpy(), ref['ssim_out'], atol=1e-5, rtol=0)


def test_box_average_equals_pooling():
    x = torch.rand(2, 5, 17, 23, dtype=torch.float64)
    expected = torch.nn.functional.avg_pool2d(x, kernel_size=3, stride=1)
    torch.testing.assert_close(_local_mean(x), expected, atol=1e-12, rtol=0)


def test_identical_images_are_zero():
    x = torch.rand(2, 3, 16, 20, generator=torch.Generator().manual_seed(0))
    assert ssim_dissimilarity(x, x).abs().max() < 1e-5


def test_symmetric_and_in_unit_range():
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(1, 3, 12, 12, generator=g), torch.rand(1, 3, 12, 12, generator=g)
    a, b = ssim_dissimilarity(x, y), ssim_dissimilarity(y, x)
    torch.testing.assert_close(a, b)
    assert a.min() >= 0 and a.max() <= 1 and a.mean() > 0.1


def test_inverted_patch_is_dissimilar():
    x = torch.linspace(0, 1, 64).reshape(1, 1, 8, 8).repeat(1, 3, 1, 1)
    assert ssim_dissimilarity(x, 1 - x)[..., 2:-2, 2:-2].min() > 0.5
