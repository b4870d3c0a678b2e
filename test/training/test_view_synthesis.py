"""View synthesis: reference sampling grid, and constructed warps with known answers."""
import numpy as np
import torch

from training.view_synthesis import source_sampling_grid, synthesize_view


def test_grid_matches_monodepth2_reference(md2_reference):
    ref = np.load(md2_reference / 'layers_io.npz')
    grid = source_sampling_grid(torch.from_numpy(ref['depth']), torch.from_numpy(ref['K']),
                                torch.from_numpy(ref['pose_matrix']))
    np.testing.assert_allclose(grid.numpy(), ref['projected_pixel_grid'], atol=1e-4, rtol=1e-5)


def _k(height: int, width: int) -> torch.Tensor:
    k = torch.eye(4)
    k[0, 0], k[1, 1], k[0, 2], k[1, 2] = 0.58 * width, 1.92 * height, 0.5 * width, 0.5 * height
    return k.unsqueeze(0)


def test_constant_image_stays_constant():
    source = torch.full((1, 3, 8, 12), 0.7)
    pose = torch.eye(4).unsqueeze(0)
    pose[0, :3, 3] = torch.tensor([0.3, -0.1, 0.5])
    out = synthesize_view(source, torch.full((1, 1, 8, 12), 5.0), _k(8, 12), pose)
    torch.testing.assert_close(out, source)


def test_lateral_translation_shifts_by_focal_times_baseline_over_depth():
    height, width, depth_m, shift_px = 8, 16, 4.0, 2.0
    k = _k(height, width)
    pose = torch.eye(4).unsqueeze(0)
    pose[0, 0, 3] = shift_px * depth_m / k[0, 0, 0]  # x_s = x_t + fx t / z
    grid = source_sampling_grid(torch.full((1, 1, height, width), depth_m), k, pose)
    identity = source_sampling_grid(torch.full((1, 1, height, width), depth_m), k,
                                    torch.eye(4).unsqueeze(0))
    # Grid units are 2 / (size - 1) per pixel.
    dx = (grid - identity)[..., 0] * (width - 1) / 2
    torch.testing.assert_close(dx, torch.full_like(dx, shift_px))
    torch.testing.assert_close(grid[..., 1], identity[..., 1])
