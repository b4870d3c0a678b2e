"""training.data.prepare_mix: real videos laid out as one KITTI odometry training tree."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from depth_ros.errors import ConfigError, InputError
from depth_ros.geometry.intrinsics import kitti_intrinsics
from training.data.prepare_mix import (
    SourceSpec,
    main,
    prepare_mix,
    read_sources,
    scene_segments,
)


P0 = '700 0 600 0 0 700 180 0 0 0 1 0'
P2 = '721.5 0 609.6 44.9 0 721.5 172.9 0.2 0 0 1 0.003'


def _video(root: Path, grey_levels: list[int], camera: int = 2, size=(64, 48),
           depth: bool = False) -> Path:
    """A sequence of flat frames of the given grey levels (a 'scene' is a level band)."""
    seq = root / 'sequences' / 'src'
    (seq / f'image_{camera}').mkdir(parents=True)
    for i, level in enumerate(grey_levels):
        rng = np.random.default_rng(i)
        pixels = np.clip(level + rng.integers(-2, 3, (size[1], size[0], 3)), 0, 255)
        Image.fromarray(pixels.astype(np.uint8)).save(seq / f'image_{camera}' / f'{i:06d}.png')
        if depth:
            (seq / f'depth_{camera}').mkdir(exist_ok=True)
            Image.fromarray(np.full((size[1], size[0]), 2560, np.uint16)).save(
                seq / f'depth_{camera}' / f'{i:06d}.png')
    (seq / 'calib.txt').write_text(f'P0: {P0}\nP1: {P0}\nP2: {P2}\nP3: {P2}\n')
    return seq


def test_scene_cuts_split_sequences(tmp_path):
    # Two scenes (grey 40 and 200) of 5 frames each: one cut, between frames 4 and 5.
    seq = _video(tmp_path, [40] * 5 + [200] * 5)
    paths = sorted((seq / 'image_2').iterdir())
    assert scene_segments(paths, 0.1) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert scene_segments(paths, 0.0) == [list(range(10))]
    names = prepare_mix([SourceSpec('cam', str(seq), cut_threshold=0.1)], tmp_path / 'mix')
    assert names == ['cam_a', 'cam_b']
    second = sorted((tmp_path / 'mix/sequences/cam_b/image_2').iterdir())
    assert [p.name for p in second] == [f'{i:06d}.png' for i in range(5)]
    assert second[0].resolve() == paths[5].resolve()  # linked, renumbered from 0


def test_grey_camera_becomes_p2_and_hood_crop_keeps_principal_point(tmp_path):
    seq = _video(tmp_path, [100] * 4, camera=0)
    prepare_mix([SourceSpec('grey', str(seq), camera=0, crop_bottom=8)], tmp_path / 'mix')
    out = tmp_path / 'mix/sequences/grey'
    with Image.open(out / 'image_2/000000.png') as image:
        assert image.size == (64, 40)  # 48 rows - 8 hood rows
    k = kitti_intrinsics(out / 'calib.txt', 2, 64, 40)
    # P0 of the source: fx 700, cx 600, cy 180 (a bottom crop moves no principal point).
    assert (k.fx, k.cx, k.cy) == (700.0, 600.0, 180.0)


def test_depth_is_carried_and_skipped_sources_are_left_out(tmp_path):
    seq = _video(tmp_path, [90] * 3, depth=True)
    names = prepare_mix([SourceSpec('d', str(seq)),
                         SourceSpec('x', str(seq), skip=True, note='distorted')],
                        tmp_path / 'mix')
    assert names == ['d']
    assert len(list((tmp_path / 'mix/sequences/d/depth_2').iterdir())) == 3
    assert not (tmp_path / 'mix/sequences/x').exists()


def test_bad_source_lists_are_refused(tmp_path):
    bad = tmp_path / 'bad.yaml'
    bad.write_text('sources:\n  - name: a\n    folder: nowhere\n')
    with pytest.raises(ConfigError, match='bad source entry'):
        read_sources(bad)
    bad.write_bytes(b'\xff\xfe\x00')
    with pytest.raises(ConfigError, match='cannot read source list'):
        read_sources(bad)
    seq = _video(tmp_path, [10] * 3)
    (seq / 'calib.txt').write_text('P0: 1 2 3\n')
    with pytest.raises(InputError, match='no P2 line'):
        prepare_mix([SourceSpec('s', str(seq))], tmp_path / 'mix')


def test_cli_reports_bad_input_on_one_line(tmp_path, capsys):
    sources = tmp_path / 'sources.yaml'
    sources.write_text(f'sources:\n  - name: a\n    sequence_dir: {tmp_path / "missing"}\n')
    assert main([str(sources), '--out', str(tmp_path / 'mix')]) == 2
    assert capsys.readouterr().out.startswith('error: image folder not found')


def test_shipped_source_list_reads_the_real_sets(shared_data):
    root = Path(__file__).resolve().parents[2]
    specs = read_sources(root / 'config/real_mix.yaml', root)
    used = [s for s in specs if not s.skip]
    assert {s.name for s in used} >= {'kitti_cgebbe', 'kitti_odom00', 'nuscenes_front'}
    assert all(Path(s.sequence_dir).is_dir() for s in used)
    # The measuring sets are never training sources.
    assert not any('dev' in s.sequence_dir or '/06' in s.sequence_dir for s in specs)
