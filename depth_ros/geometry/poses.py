"""Differentiable pose parameterisation: axis-angle + translation -> 4x4 (torch).

The pose network predicts an axis-angle vector and a translation; these functions turn them into
rigid transforms exactly as Monodepth2 does, so its checkpoints and published numbers carry over.
"""
from __future__ import annotations

import torch


# Added to the rotation angle before dividing, as Monodepth2 does, so a zero rotation is finite.
_ANGLE_EPS = 1e-7


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula: R = cos(a) I + sin(a) [k]x + (1 - cos(a)) k k^T.

    Args:
        axis_angle: [B, 1, 3] or [B, 3] rotation vectors (angle = norm, radians).

    Returns:
        [B, 4, 4] homogeneous rotations.
    """
    vec = axis_angle.reshape(-1, 1, 3)
    angle = torch.linalg.norm(vec, dim=2, keepdim=True)
    axis = vec / (angle + _ANGLE_EPS)
    ca, sa = torch.cos(angle), torch.sin(angle)
    c1 = 1 - ca
    x, y, z = axis[..., 0:1], axis[..., 1:2], axis[..., 2:3]
    xs, ys, zs = x * sa, y * sa, z * sa
    row0 = torch.cat([x * x * c1 + ca, x * y * c1 - zs, z * x * c1 + ys], dim=2)
    row1 = torch.cat([x * y * c1 + zs, y * y * c1 + ca, y * z * c1 - xs], dim=2)
    row2 = torch.cat([z * x * c1 - ys, y * z * c1 + xs, z * z * c1 + ca], dim=2)
    rot3 = torch.cat([row0, row1, row2], dim=1)
    out = torch.zeros(vec.shape[0], 4, 4, dtype=vec.dtype, device=vec.device)
    out[:, :3, :3] = rot3
    out[:, 3, 3] = 1.0
    return out


def translation_to_matrix(translation: torch.Tensor) -> torch.Tensor:
    """[B, 1, 3] or [B, 3] translations -> [B, 4, 4] pure translations."""
    t = translation.reshape(-1, 3)
    out = torch.eye(4, dtype=t.dtype, device=t.device).repeat(t.shape[0], 1, 1)
    out[:, :3, 3] = t
    return out


def pose_from_parameters(axis_angle: torch.Tensor, translation: torch.Tensor,
                         invert: bool = False) -> torch.Tensor:
    """4x4 transform from the pose network's outputs (Monodepth2's transformation_from_parameters).

    Without `invert` the result is T @ R; with it, the inverse R^T @ T(-t), which is how Monodepth2
    turns the prediction for the pair (source, target) into target-from-source motion.

    Args:
        axis_angle: [B, 1, 3] or [B, 3].
        translation: [B, 1, 3] or [B, 3], same units as the depth.

    Returns:
        [B, 4, 4].
    """
    rot = axis_angle_to_matrix(axis_angle)
    t = translation.reshape(-1, 3)
    if invert:
        rot = rot.transpose(1, 2)
        t = -t
    trans = translation_to_matrix(t)
    return rot @ trans if invert else trans @ rot


def invert_rigid(target_from_source: torch.Tensor) -> torch.Tensor:
    """Inverse of [B, 4, 4] rigid transforms without a general matrix inverse."""
    r = target_from_source[:, :3, :3]
    t = target_from_source[:, :3, 3:]
    out = torch.zeros_like(target_from_source)
    out[:, :3, :3] = r.transpose(1, 2)
    out[:, :3, 3:] = -r.transpose(1, 2) @ t
    out[:, 3, 3] = 1.0
    return out
