"""Edge-aware smoothness: reference value and constructed cases."""
import numpy as np
import torch

from training.losses.smoothness import edge_aware_smoothness, mean_normalised


def test_matches_monodepth2_reference(md2_reference):
    ref = np.load(md2_reference / 'layers_io.npz')
    out = edge_aware_smoothness(torch.from_numpy(ref['sigmoid_output']),
                                torch.from_numpy(ref['smooth_image']))
    np.testing.assert_allclose(out.item(), float(ref['smooth_loss']), rtol=1e-5, atol=1e-7)


def test_constant_inverse_depth_costs_nothing():
    image = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    assert edge_aware_smoothness(torch.full((1, 1, 8, 8), 0.3), image) == 0


def test_image_edges_discount_depth_edges():
    step = torch.zeros(1, 1, 8, 8)
    step[..., 4:] = 1.0
    flat_image = torch.zeros(1, 3, 8, 8)
    edge_image = step.repeat(1, 3, 1, 1)
    assert edge_aware_smoothness(step, edge_image) < edge_aware_smoothness(step, flat_image)


def test_known_value_of_a_ramp():
    # Horizontal ramp with unit steps on a flat image: mean |dx| = 1, |dy| = 0.
    ramp = torch.arange(5.0).repeat(1, 1, 3, 1)
    assert edge_aware_smoothness(ramp, torch.zeros(1, 3, 3, 5)).item() == 1.0


def test_mean_normalised_has_unit_mean():
    x = torch.rand(3, 1, 6, 7, generator=torch.Generator().manual_seed(0)) + 0.1
    torch.testing.assert_close(mean_normalised(x).mean(dim=(1, 2, 3)), torch.ones(3))
