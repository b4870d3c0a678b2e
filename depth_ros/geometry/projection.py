"""Back-projection of depth maps and projection of points to a sampling grid (torch).

These are the differentiable pieces of view synthesis: pixels of the target view are lifted to 3D
with their depth, moved into the source camera and projected there; `grid_sample` then reads the
source image at those positions.
"""
from __future__ import annotations

import torch


# Added to the projected depth before dividing, as Monodepth2 does.
_DEPTH_EPS = 1e-7


def pixel_grid(height: int, width: int, dtype: torch.dtype = torch.float32,
               device: torch.device | str | None = None) -> torch.Tensor:
    """Homogeneous pixel coordinates [3, H*W], x varying fastest: (x, y, 1) with x in 0..W-1."""
    ys, xs = torch.meshgrid(torch.arange(height, dtype=dtype, device=device),
                            torch.arange(width, dtype=dtype, device=device), indexing='ij')
    ones = torch.ones_like(xs)
    return torch.stack([xs.reshape(-1), ys.reshape(-1), ones.reshape(-1)], dim=0)


def backproject(depth: torch.Tensor, inv_k: torch.Tensor) -> torch.Tensor:
    """Lift every pixel to a homogeneous camera point: X = depth * K^-1 (x, y, 1).

    Args:
        depth: [B, 1, H, W] depth along the optical axis.
        inv_k: [B, 3, 3] or [B, 4, 4] inverse intrinsics in pixels.

    Returns:
        [B, 4, H*W] homogeneous points in the camera frame.
    """
    b, _, h, w = depth.shape
    pix = pixel_grid(h, w, depth.dtype, depth.device)
    rays = inv_k[:, :3, :3] @ pix.unsqueeze(0)
    points = depth.reshape(b, 1, -1) * rays
    ones = torch.ones(b, 1, h * w, dtype=depth.dtype, device=depth.device)
    return torch.cat([points, ones], dim=1)


def project_to_pixels(points: torch.Tensor, k: torch.Tensor,
                      cam_from_points: torch.Tensor | None = None) -> torch.Tensor:
    """Project homogeneous points to pixel coordinates: p = K [R|t] X / z.

    Args:
        points: [B, 4, N] homogeneous points.
        k: [B, 3, 3] or [B, 4, 4] intrinsics in pixels.
        cam_from_points: optional [B, 4, 4] transform applied first.

    Returns:
        [B, 2, N] pixel coordinates (x, y).
    """
    k4 = _as_4x4(k)
    proj = k4 if cam_from_points is None else k4 @ cam_from_points
    cam = proj[:, :3, :] @ points
    return cam[:, :2] / (cam[:, 2:3] + _DEPTH_EPS)


def project_to_grid(points: torch.Tensor, k: torch.Tensor, cam_from_points: torch.Tensor,
                    height: int, width: int) -> torch.Tensor:
    """Project points into a camera and normalise for `grid_sample`.

    Normalisation is Monodepth2's, (p / (size - 1) - 0.5) * 2, used with align_corners=False.

    Returns:
        [B, H, W, 2] sampling grid in [-1, 1] (x then y).
    """
    pix = project_to_pixels(points, k, cam_from_points)
    b = points.shape[0]
    pix = pix.reshape(b, 2, height, width).permute(0, 2, 3, 1)
    scale = torch.tensor([width - 1, height - 1], dtype=pix.dtype, device=pix.device)
    return (pix / scale - 0.5) * 2


def _as_4x4(k: torch.Tensor) -> torch.Tensor:
    if k.shape[-2:] == (4, 4):
        return k
    out = torch.eye(4, dtype=k.dtype, device=k.device).repeat(k.shape[0], 1, 1)
    out[:, :3, :3] = k[:, :3, :3]
    return out


def inv_depth_to_depth(sigmoid: torch.Tensor, min_depth: float = 0.1,
                       max_depth: float = 100.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Map the decoder's sigmoid output to inverse depth in [1/max, 1/min] and to depth.

    Returns:
        (scaled inverse depth, depth), same shape as the input.
    """
    min_inv, max_inv = 1.0 / max_depth, 1.0 / min_depth
    scaled = min_inv + (max_inv - min_inv) * sigmoid
    return scaled, 1.0 / scaled
