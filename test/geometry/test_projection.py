"""Back-projection / projection: Monodepth2 vectors, round trip, gradients."""
import numpy as np
import pytest
import torch

from depth_ros.geometry.projection import (
    backproject,
    inv_depth_to_depth,
    project_to_grid,
    project_to_pixels,
)


@pytest.fixture(scope='module')
def layers(md2_reference):
    return np.load(md2_reference / 'layers_io.npz')


def test_backproject_matches_reference(layers):
    k = torch.from_numpy(layers['K'])
    points = backproject(torch.from_numpy(layers['depth']), torch.linalg.inv(k))
    np.testing.assert_allclose(points.numpy(), layers['backprojected_points'], atol=1e-5)


def test_projected_grid_matches_reference(layers):
    k = torch.from_numpy(layers['K'])
    _, _, h, w = layers['depth'].shape
    points = torch.from_numpy(layers['backprojected_points'])
    grid = project_to_grid(points, k, torch.from_numpy(layers['pose_matrix']), h, w)
    np.testing.assert_allclose(grid.numpy(), layers['projected_pixel_grid'], atol=1e-5)


def test_inverse_depth_scaling_matches_reference(layers):
    scaled, depth = inv_depth_to_depth(torch.from_numpy(layers['sigmoid_output']), 0.1, 100.0)
    np.testing.assert_allclose(scaled.numpy(), layers['scaled_inv_depth'], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(depth.numpy(), layers['depth_from_sigmoid'], rtol=1e-5)


def test_inverse_depth_range_known_values():
    scaled, depth = inv_depth_to_depth(torch.tensor([0.0, 1.0]), 0.5, 20.0)
    np.testing.assert_allclose(depth.numpy(), [20.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(scaled.numpy(), [1 / 20.0, 2.0], rtol=1e-6)


def _k(b=1, h=24, w=32):
    k = torch.tensor([[0.6 * w, 0, 0.5 * w, 0], [0, 1.2 * h, 0.45 * h, 0], [0, 0, 1, 0],
                      [0, 0, 0, 1]], dtype=torch.float64)
    return k.repeat(b, 1, 1)


def test_unproject_then_project_returns_pixel_grid():
    b, h, w = 2, 24, 32
    depth = torch.rand(b, 1, h, w, dtype=torch.float64) * 50 + 1
    k = _k(b, h, w)
    pix = project_to_pixels(backproject(depth, torch.linalg.inv(k)), k)
    ys, xs = np.mgrid[0:h, 0:w]
    expected = np.stack([xs.ravel(), ys.ravel()])
    for i in range(b):
        np.testing.assert_allclose(pix[i].numpy(), expected, atol=1e-6)


def test_identity_grid_spans_minus_one_to_one():
    h, w = 6, 8
    k = _k(1, h, w)
    points = backproject(torch.full((1, 1, h, w), 3.0, dtype=torch.float64), torch.linalg.inv(k))
    grid = project_to_grid(points, k, torch.eye(4, dtype=torch.float64)[None], h, w)
    np.testing.assert_allclose(grid[0, 0, 0].numpy(), [-1, -1], atol=1e-6)
    np.testing.assert_allclose(grid[0, -1, -1].numpy(), [1, 1], atol=1e-6)


def test_projection_gradcheck():
    h, w = 4, 5
    k = _k(1, h, w)
    depth = (torch.rand(1, 1, h, w, dtype=torch.float64) + 1).requires_grad_()
    pose = torch.eye(4, dtype=torch.float64)[None].clone()
    pose[0, :3, 3] = torch.tensor([0.1, -0.05, 0.3])

    def fn(d):
        return project_to_grid(backproject(d, torch.linalg.inv(k)), k, pose, h, w)

    assert torch.autograd.gradcheck(fn, (depth,))
