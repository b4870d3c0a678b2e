"""A tiny, geometrically consistent image sequence in the KITTI odometry layout (the layout
depth_ros.synth also writes), for training tests.

The scene is a textured corridor (floor, ceiling, side walls, end wall) that the camera drives
down; frames are ray-cast, so consecutive frames agree with the depth and motion exactly and
view synthesis can explain them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
import torch

from depth_ros.models.outputs import PoseParameters


# Corridor half-width, floor and ceiling heights (y down), end wall distance, metres.
_WALL_X, _FLOOR_Y, _CEILING_Y, _END_Z = 4.0, 1.5, -3.0, 60.0
# Camera motion per frame: forward along z and sideways along x (metres).
STEP_Z_M, STEP_X_M = 0.6, 0.3


def _value_noise(u: np.ndarray, v: np.ndarray, rng_table: np.ndarray, cell: float) -> np.ndarray:
    """Bilinear value noise of coordinates (u, v) on a grid of `cell` metres."""
    size = rng_table.shape[0]
    x, y = u / cell, v / cell
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0

    def at(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return rng_table[i % size, j % size]

    top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
    bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
    return top * (1 - fy) + bottom * fy


def render_corridor(k: np.ndarray, width: int, height: int, camera_x: float, camera_z: float,
                    table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RGB uint8 [H, W, 3] and depth [H, W] (m) seen from (camera_x, 0, camera_z) looking
    down +z."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    dx, dy = (xs - k[0, 2]) / k[0, 0], (ys - k[1, 2]) / k[1, 1]
    with np.errstate(divide='ignore'):
        t_wall = np.where(dx > 0, (_WALL_X - camera_x) / np.where(dx > 0, dx, 1),
                          np.where(dx < 0, (_WALL_X + camera_x) / np.where(dx < 0, -dx, 1),
                                   np.inf))
        t_floor = np.where(dy > 0, _FLOOR_Y / np.where(dy > 0, dy, 1), np.inf)
        t_ceiling = np.where(dy < 0, _CEILING_Y / np.where(dy < 0, dy, -1), np.inf)
    t_end = np.full_like(dx, _END_Z - camera_z)
    candidates = np.stack([t_wall, t_floor, t_ceiling, t_end])
    surface = candidates.argmin(axis=0)
    depth = candidates.min(axis=0)
    px, py, pz = camera_x + dx * depth, dy * depth, camera_z + depth
    # Texture coordinates on each surface: (z, y) on walls, (x, z) on floor/ceiling, (x, y) end.
    u = np.choose(surface, [pz, px, px, px])
    v = np.choose(surface, [py, pz, pz, py])
    fine = _value_noise(u, v, table, 0.4) + 0.5 * _value_noise(u + 7, v + 3, table, 1.5)
    tint = np.array([[0.9, 0.7, 0.5], [0.5, 0.5, 0.55], [0.7, 0.8, 0.9], [0.6, 0.9, 0.6]])
    shade = np.clip(0.25 + 0.5 * fine / 1.5, 0, 1)[..., None] * tint[surface]
    return (np.clip(shade, 0, 1) * 255).round().astype(np.uint8), depth


def write_toy_sequence(root: Path, frames: int = 8, width: int = 320, height: int = 96,
                       sequence: str = '00', seed: int = 0) -> Path:
    """Write ROOT/sequences/SEQ/{image_2,depth_2,calib.txt,times.txt} and ROOT/poses/SEQ.txt."""
    rng = np.random.default_rng(seed)
    table = rng.random((64, 64))
    # An off-centre principal point, so that intrinsics bugs under flips and crops show.
    k = np.array([[0.58 * width, 0, 0.42 * width], [0, 1.92 * height, 0.55 * height], [0, 0, 1]])
    seq_dir = root / 'sequences' / sequence
    (seq_dir / 'image_2').mkdir(parents=True, exist_ok=True)
    (seq_dir / 'depth_2').mkdir(exist_ok=True)
    (root / 'poses').mkdir(exist_ok=True)
    projection = ' '.join(f'{v:.12e}' for v in np.hstack([k, np.zeros((3, 1))]).ravel())
    (seq_dir / 'calib.txt').write_text(f'P0: {projection}\nP2: {projection}\n')
    (seq_dir / 'times.txt').write_text(''.join(f'{0.1 * i:.6e}\n' for i in range(frames)))
    poses = []
    for i in range(frames):
        image, depth = render_corridor(k, width, height, i * STEP_X_M, i * STEP_Z_M, table)
        Image.fromarray(image).save(seq_dir / 'image_2' / f'{i:06d}.png')
        depth_png = np.clip(depth * 256, 0, 65535).round().astype(np.uint16)
        Image.fromarray(depth_png).save(seq_dir / 'depth_2' / f'{i:06d}.png')
        poses.append(f'1 0 0 {i * STEP_X_M:.6f} 0 1 0 0 0 0 1 {i * STEP_Z_M:.6f}\n')
    (root / 'poses' / f'{sequence}.txt').write_text(''.join(poses))
    return root


class FixedPoseNet(torch.nn.Module):
    """A pose 'network' with one learnable translation and no rotation, whatever the images."""

    def __init__(self) -> None:
        super().__init__()
        self.translation = torch.nn.Parameter(torch.tensor([0.02, 0.0, 0.3]))

    def predict_parameters(self, first: torch.Tensor, second: torch.Tensor) -> PoseParameters:
        batch = first.shape[0]
        return PoseParameters(torch.zeros(batch, 1, 3),
                              self.translation.view(1, 1, 3).expand(batch, 1, 3))


def tiny_train_overrides(data: Path, out: Path) -> list[str]:
    """Training overrides for a few deterministic steps on `write_toy_sequence(..., frames=4)`
    output: 2 examples, one batch of 2 per epoch, 4 epochs, checkpoints every 2."""
    return ['data.kind=kitti_odometry', f'data.path={data}', 'data.sequences=["00"]',
            'data.height=64', 'data.width=128', 'data.augmentation.flip_probability=0',
            'data.augmentation.jitter_probability=0', 'loss.tie_noise=0', 'optim.batch_size=2',
            'optim.epochs=4', 'num_workers=0', 'checkpoint_every_epochs=2',
            'validate_every_epochs=0', 'image_every_steps=0', f'output_dir={out}']
