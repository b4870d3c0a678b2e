"""generate_sequence writes a valid, deterministic KITTI odometry layout."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from depth_ros.errors import ConfigError, OutputError
from depth_ros.geometry import se3
from depth_ros.geometry.intrinsics import kitti_intrinsics, read_kitti_calib
from depth_ros.synth import generate_sequence, render_sequence, synth_intrinsics
from depth_ros.synth.writer import decode_depth, encode_depth


W, H, FRAMES = 320, 96, 4


def _generate(root: Path, seed: int = 2, **kwargs):
    args = dict(frames=FRAMES, width=W, height=H, progress=False) | kwargs
    return generate_sequence(root, seed, **args)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*'))
            if p.is_file()}


@pytest.fixture(scope='module')
def sequence(tmp_path_factory):
    return _generate(tmp_path_factory.mktemp('synth'))


def test_layout_files_and_counts(sequence):
    seq_dir = sequence.root / 'sequences' / '00'
    assert sequence.sequence_dir == seq_dir
    assert sorted(p.name for p in (seq_dir / 'image_2').iterdir()) == [
        f'{i:06d}.png' for i in range(FRAMES)]
    assert sorted(p.name for p in (seq_dir / 'depth_2').iterdir()) == [
        f'{i:06d}.png' for i in range(FRAMES)]
    assert list(sequence.image_paths) == sorted((seq_dir / 'image_2').iterdir())
    assert sequence.poses_path == sequence.root / 'poses' / '00.txt'
    times = np.loadtxt(seq_dir / 'times.txt')
    np.testing.assert_allclose(times, np.arange(FRAMES) * 0.1)
    with Image.open(sequence.image_paths[0]) as img:
        assert img.mode == 'RGB' and img.size == (W, H)


def test_calib_parses_and_matches_rendering_intrinsics(sequence):
    calib = read_kitti_calib(sequence.calib_path)
    assert {'P0', 'P1', 'P2', 'P3', 'Tr'} <= set(calib)
    assert all(v.size == 12 for v in calib.values())
    k = kitti_intrinsics(sequence.calib_path, 2, W, H)
    assert k == synth_intrinsics(W, H) == sequence.intrinsics
    np.testing.assert_allclose(calib['P2'].reshape(3, 4)[:, 3], 0.0)


def test_poses_file_is_rigid_and_matches_returned_poses(sequence):
    rows = np.loadtxt(sequence.poses_path).reshape(-1, 3, 4)
    assert rows.shape[0] == FRAMES
    poses = np.tile(np.eye(4), (FRAMES, 1, 1))
    poses[:, :3, :] = rows
    se3.check_rigid(poses, tol=1e-6)
    np.testing.assert_allclose(poses[0], np.eye(4), atol=1e-12)
    np.testing.assert_allclose(poses, sequence.poses, atol=1e-8)
    assert np.linalg.norm(poses[-1, :3, 3]) > 1.0  # it moved


def test_files_hold_the_rendered_frames(sequence):
    meta = sequence.meta_path.read_text()
    assert '"seed": 2' in meta and '"camera_height_m": 1.65' in meta
    for i, frame in enumerate(render_sequence(2, 2, W, H)):
        np.testing.assert_array_equal(np.asarray(Image.open(sequence.image_paths[i])), frame.rgb)
        with Image.open(sequence.depth_paths[i]) as img:
            assert img.mode in ('I;16', 'I')
            depth = decode_depth(np.asarray(img))
        assert np.array_equal(depth == 0, frame.depth_m == 0)
        assert np.abs(depth - frame.depth_m)[depth > 0].max() <= 0.5 / 256 + 1e-6


def test_depth_encoding_follows_kitti():
    depth = np.array([[0.0, 1.0, 10.5, 255.99, 300.0, np.nan, -1.0, np.inf]])
    np.testing.assert_array_equal(encode_depth(depth), [[0, 256, 2688, 65533, 0, 0, 0, 0]])


def test_same_seed_gives_identical_bytes_and_other_seeds_differ(tmp_path, sequence):
    again = _files(_generate(tmp_path / 'a').root)
    assert again == _files(sequence.root)
    other = _files(_generate(tmp_path / 'b', seed=3).root)
    image = 'sequences/00/image_2/000000.png'
    assert other[image] != again[image]


def test_worker_processes_write_the_same_bytes(tmp_path, sequence):
    parallel = _generate(tmp_path / 'p', workers=2)
    assert _files(parallel.root) == _files(sequence.root)


def test_existing_sequence_is_kept_unless_overwrite(tmp_path):
    root = tmp_path / 'out'
    _generate(root, frames=3)
    with pytest.raises(OutputError, match='--overwrite'):
        _generate(root, frames=2)
    seq = _generate(root, frames=2, overwrite=True)
    assert len(list((seq.sequence_dir / 'image_2').iterdir())) == 2


def test_bad_arguments(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a folder')
    with pytest.raises(OutputError):
        _generate(blocker)
    with pytest.raises(ConfigError):
        _generate(tmp_path / 'x', frames=1)
    with pytest.raises(ConfigError):
        _generate(tmp_path / 'x', sequence='../00')
    with pytest.raises(ConfigError):
        _generate(tmp_path / 'x', workers=0)
