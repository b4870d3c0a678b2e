"""KITTI odometry layout for a synthetic sequence.

    DIR/sequences/XX/image_2/000000.png   RGB, 8 bit
    DIR/sequences/XX/depth_2/000000.png   16-bit depth, metres * 256, 0 = invalid (KITTI depth)
    DIR/sequences/XX/times.txt            seconds, one line per frame
    DIR/sequences/XX/calib.txt            P0..P3 and Tr, KITTI odometry format
    DIR/sequences/XX/synth.json           generator metadata
    DIR/poses/XX.txt                      3x4 world_from_cam row-major per frame, frame 0 = I

Every file is a pure function of its inputs (no timestamps, fixed PNG settings), so the same seed
gives byte-identical files.
"""
from __future__ import annotations

from dataclasses import dataclass
import json
import os
from pathlib import Path
import re

import numpy as np
from PIL import Image

from depth_ros.errors import ConfigError, OutputError
from depth_ros.geometry.intrinsics import Intrinsics


DEPTH_SCALE = 256.0  # KITTI depth benchmark: uint16 = metres * 256
MAX_ENCODED_DEPTH_M = 65535 / DEPTH_SCALE
PNG_COMPRESS_LEVEL = 1  # fast; zlib output is deterministic for a given level
NOMINAL_BASELINE_M = 0.54  # KITTI stereo baseline, only for P1/P3 (no right images rendered)
_SEQUENCE_RE = re.compile(r'^[A-Za-z0-9_-]{1,32}$')


@dataclass(frozen=True)
class SequencePaths:
    """Where each file of sequence `sequence` under `root` goes."""

    root: Path
    sequence: str

    @property
    def sequence_dir(self) -> Path:
        return self.root / 'sequences' / self.sequence

    @property
    def image_dir(self) -> Path:
        return self.sequence_dir / 'image_2'

    @property
    def depth_dir(self) -> Path:
        return self.sequence_dir / 'depth_2'

    @property
    def times_path(self) -> Path:
        return self.sequence_dir / 'times.txt'

    @property
    def calib_path(self) -> Path:
        return self.sequence_dir / 'calib.txt'

    @property
    def meta_path(self) -> Path:
        return self.sequence_dir / 'synth.json'

    @property
    def poses_path(self) -> Path:
        return self.root / 'poses' / f'{self.sequence}.txt'

    def image_path(self, index: int) -> Path:
        return self.image_dir / f'{index:06d}.png'

    def depth_path(self, index: int) -> Path:
        return self.depth_dir / f'{index:06d}.png'


def prepare_output(root: str | os.PathLike, sequence: str, overwrite: bool) -> SequencePaths:
    """Create the folders of a sequence, refusing to mix with an existing one unless told to."""
    if not _SEQUENCE_RE.match(sequence):
        raise ConfigError(f'sequence id {sequence!r} must be 1-32 letters, digits, "_" or "-", '
                          'e.g. 00')
    paths = SequencePaths(Path(root), sequence)
    old = sorted(paths.image_dir.glob('*.png')) + sorted(paths.depth_dir.glob('*.png'))
    if old and not overwrite:
        raise OutputError(f'{paths.sequence_dir} already holds {len(old)} frames; choose another '
                          'output folder or sequence id, or pass --overwrite')
    try:
        for folder in (paths.image_dir, paths.depth_dir, paths.poses_path.parent):
            folder.mkdir(parents=True, exist_ok=True)
        for path in old:
            path.unlink()
        probe = paths.sequence_dir / '.write_test'
        probe.write_bytes(b'')
        probe.unlink()
    except OSError as exc:
        raise OutputError(f'cannot write the sequence under {root}: {exc.strerror or exc}; '
                          'choose a writable output folder') from exc
    return paths


def encode_depth(depth_m: np.ndarray) -> np.ndarray:
    """[H, W] metres -> uint16 metres * 256 (rounded); 0, non-finite or too far -> 0 (invalid)."""
    depth = np.asarray(depth_m, dtype=np.float64)
    valid = np.isfinite(depth) & (depth > 0) & (depth <= MAX_ENCODED_DEPTH_M)
    scaled = np.round(np.where(valid, depth, 0.0) * DEPTH_SCALE)
    return np.where(valid, scaled, 0).astype(np.uint16)


def decode_depth(depth_png: np.ndarray) -> np.ndarray:
    """uint16 KITTI depth -> float32 metres, 0 = invalid."""
    return (np.asarray(depth_png, dtype=np.float32) / DEPTH_SCALE).astype(np.float32)


def write_frame(paths: SequencePaths, index: int, rgb: np.ndarray, depth_m: np.ndarray) -> None:
    """Write the RGB and depth PNGs of frame `index`."""
    _save_png(Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)), paths.image_path(index))
    _save_png(Image.fromarray(encode_depth(depth_m)), paths.depth_path(index))


def _save_png(image: Image.Image, path: Path) -> None:
    try:
        image.save(path, format='PNG', compress_level=PNG_COMPRESS_LEVEL)
    except OSError as exc:
        raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from exc


def write_metadata(paths: SequencePaths, times_s: np.ndarray, world_from_cam: np.ndarray,
                   intrinsics: Intrinsics, meta: dict) -> None:
    """times.txt, calib.txt, poses/XX.txt and synth.json."""
    _write_text(paths.times_path, ''.join(f'{t:.6e}\n' for t in times_s))
    _write_text(paths.calib_path, calib_text(intrinsics))
    rows = np.asarray(world_from_cam, dtype=np.float64)[:, :3, :].reshape(-1, 12)
    _write_text(paths.poses_path, ''.join(' '.join(f'{v:.9e}' for v in row) + '\n'
                                          for row in rows))
    _write_text(paths.meta_path, json.dumps(meta, indent=2, sort_keys=True) + '\n')


def calib_text(intrinsics: Intrinsics) -> str:
    """KITTI odometry calib.txt: P2 (and P0) = [K | 0] of the rendering camera.

    The poses are those of this camera, so P0 = P2. P1/P3 carry a nominal KITTI baseline for
    readers that expect stereo projections; no right images are rendered. Tr (velodyne to
    camera 0) is the identity: there is no lidar.
    """
    k = intrinsics.matrix()
    p0 = np.hstack([k, np.zeros((3, 1))])
    p1 = p0.copy()
    p1[0, 3] = -intrinsics.fx * NOMINAL_BASELINE_M
    tr = np.hstack([np.eye(3), np.zeros((3, 1))])
    lines = [(f'P{i}', m) for i, m in enumerate((p0, p1, p0, p1))] + [('Tr', tr)]
    return ''.join(f'{key}: ' + ' '.join(f'{v:.12e}' for v in m.ravel()) + '\n'
                   for key, m in lines)


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding='utf-8', newline='\n')
    except OSError as exc:
        raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from exc
