"""Minimum reprojection and auto-masking on constructed error maps."""
import torch

from training.losses.reprojection import min_reprojection


def test_minimum_over_sources_without_automask():
    a = torch.tensor([[[[0.1, 0.5]]]])
    b = torch.tensor([[[[0.3, 0.2]]]])
    out = min_reprojection([a, b], None)
    torch.testing.assert_close(out.per_pixel, torch.tensor([[[0.1, 0.2]]]))
    assert out.automask.shape == (1, 1, 2) and bool((out.automask == 1).all())


def test_identity_wins_masks_the_pixel():
    warped = [torch.tensor([[[[0.4, 0.1]]]]), torch.tensor([[[[0.5, 0.3]]]])]
    identity = [torch.tensor([[[[0.2, 0.6]]]]), torch.tensor([[[[0.9, 0.7]]]])]
    out = min_reprojection(warped, identity, tie_noise=0)
    torch.testing.assert_close(out.per_pixel, torch.tensor([[[0.2, 0.1]]]))
    torch.testing.assert_close(out.automask, torch.tensor([[[0.0, 1.0]]]))


def test_exact_tie_goes_to_identity_and_noise_is_seeded():
    err = [torch.full((1, 1, 4, 4), 0.25)]
    assert min_reprojection(err, err, tie_noise=0).automask.sum() == 0
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    first = min_reprojection(err, err, generator=g1)
    second = min_reprojection(err, err, generator=g2)
    torch.testing.assert_close(first.automask, second.automask)
    assert 0 < first.automask.sum() < 16  # the noise splits the ties both ways
    assert (first.per_pixel - 0.25).abs().max() < 1e-4
