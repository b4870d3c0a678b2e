"""Every refused input of the evaluation tools: exit 2, one error line, nothing left behind.

The README's evaluation section lists the same cases in a table between the markers
`<!-- bad-inputs:start -->` and `<!-- bad-inputs:end -->`; `test_readme_table_matches` checks that
the table names exactly these cases and that each quoted message is what the command prints.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from depth_ros.cli import main
from depth_ros.evaluation.bag_io import BagWriter, typestore
from depth_ros.ros.codecs import MsgTypes, make_header


ROOT = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000 * 10**9


def _sequence(root: Path, frames: int = 3, times: str | bytes | None = None) -> Path:
    """A tiny KITTI odometry sequence folder."""
    seq = root / 'sequences' / '00'
    (seq / 'image_2').mkdir(parents=True)
    for i in range(frames):
        rgb = np.random.default_rng(i).integers(0, 255, (16, 32, 3), np.uint8)
        Image.fromarray(rgb).save(seq / 'image_2' / f'{i:06d}.png')
    (seq / 'calib.txt').write_text(''.join(f'P{c}: 30 0 16 0 0 30 8 0 0 0 1 0\n'
                                           for c in range(4)))
    if isinstance(times, bytes):
        (seq / 'times.txt').write_bytes(times)
    elif times is not None:
        (seq / 'times.txt').write_text(times)
    return seq


def _tum(path: Path, rows: list[tuple[float, float]]) -> Path:
    path.write_text(''.join(f'{t} {x} 0 0 0 0 0 1\n' for t, x in rows))
    return path


def _bag_with_bad_image(path: Path) -> Path:
    types = MsgTypes.from_typestore(typestore())
    with BagWriter(path) as writer:
        for i in range(3):
            header = make_header(types, T0 + i * 10**8, 'camera')
            encoding, step = ('rgb8', 96) if i < 2 else ('yuv422', 64)
            image = types.Image(header=header, height=16, width=32, encoding=encoding,
                                is_bigendian=0, step=step, data=np.zeros(16 * step, np.uint8))
            writer.write('/camera/image_raw', T0 + i * 10**8, image)
    return path


# case id (the README table's first column) -> (argv and paths that must not exist afterwards).
Case = Callable[[Path, Path], tuple[list[str], list[Path]]]


def _binary_pose_file(tmp: Path, weights: Path):
    (tmp / 'random.bin').write_bytes(bytes(range(256)) * 8)
    _tum(tmp / 'gt.txt', [(0.1 * i, i) for i in range(5)])
    return ['eval-trajectory', '--gt', str(tmp / 'gt.txt'), '--pred', str(tmp / 'random.bin')], []


def _latin1_pose_file(tmp: Path, weights: Path):
    (tmp / 'poses.txt').write_bytes('0 0 0 0 0 0 0 1 # caf\xe9\n'.encode('latin-1'))
    return ['eval-trajectory', '--gt', str(tmp / 'poses.txt'), '--pred',
            str(tmp / 'poses.txt')], []


def _folder_not_a_bag(tmp: Path, weights: Path):
    (tmp / 'notabag').mkdir()
    (tmp / 'notabag' / 'data.db3').write_bytes(b'')
    return ['evaluate', '--bag', str(tmp / 'notabag'), '--weights', str(weights), '--out',
            str(tmp / 'out')], [tmp / 'out']


def _file_not_a_bag(tmp: Path, weights: Path):
    (tmp / 'notes.txt').write_text('hello\n')
    return ['evaluate', '--bag', str(tmp / 'notes.txt'), '--weights', str(weights), '--out',
            str(tmp / 'out')], [tmp / 'out']


def _partial_output(tmp: Path, weights: Path):
    (tmp / 'kitti09.partial').mkdir()
    (tmp / 'kitti09.partial' / 'metadata.yaml').write_text('rosbag2_bagfile_information: {}\n')
    return ['evaluate', '--bag', str(tmp / 'kitti09.partial'), '--weights', str(weights),
            '--out', str(tmp / 'out')], [tmp / 'out']


def _conflicting_stamps(tmp: Path, weights: Path):
    _tum(tmp / 'gt.txt', [(0.0, 0), (0.1, 1), (0.1, 5), (0.2, 2), (0.3, 3)])
    return ['eval-trajectory', '--gt', str(tmp / 'gt.txt'), '--pred', str(tmp / 'gt.txt')], []


def _times_not_increasing(tmp: Path, weights: Path):
    seq = _sequence(tmp, times='0.0\n0.1\n0.1\n')
    return ['kitti-to-bag', '--sequence-dir', str(seq), '--out', str(tmp / 'bag')], [tmp / 'bag']


def _binary_times(tmp: Path, weights: Path):
    seq = _sequence(tmp, times=b'\x00\xff\xfe\x00' * 4)
    return ['kitti-to-bag', '--sequence-dir', str(seq), '--out', str(tmp / 'bag')], [tmp / 'bag']


def _binary_calibration(tmp: Path, weights: Path):
    seq = _sequence(tmp)
    (seq / 'calib.txt').write_bytes(bytes(range(256)))
    return ['kitti-to-bag', '--sequence-dir', str(seq), '--out', str(tmp / 'bag')], [tmp / 'bag']


def _corrupt_image(tmp: Path, weights: Path):
    seq = _sequence(tmp, frames=4)
    (seq / 'image_2' / '000002.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'broken' * 10)
    return ['kitti-to-bag', '--sequence-dir', str(seq), '--out', str(tmp / 'bag')], [tmp / 'bag']


def _start_time_zero(tmp: Path, weights: Path):
    seq = _sequence(tmp)
    return ['kitti-to-bag', '--sequence-dir', str(seq), '--out', str(tmp / 'bag'),
            '--start-time', '0'], [tmp / 'bag']


def _output_not_empty(tmp: Path, weights: Path):
    _bag_with_bad_image(tmp / 'bag')
    (tmp / 'out').mkdir()
    (tmp / 'out' / 'mine.txt').write_text('keep me\n')
    return ['evaluate', '--bag', str(tmp / 'bag'), '--weights', str(weights), '--out',
            str(tmp / 'out')], []


def _scale_min_confidence_above_1(tmp: Path, weights: Path):
    _bag_with_bad_image(tmp / 'bag')
    return ['evaluate', '--bag', str(tmp / 'bag'), '--weights', str(weights), '--scale',
            'camera_height', '--scale-min-confidence', '2', '--out', str(tmp / 'out')], \
        [tmp / 'out']


def _failure_mid_run(tmp: Path, weights: Path):
    _bag_with_bad_image(tmp / 'bag')
    return ['evaluate', '--bag', str(tmp / 'bag'), '--weights', str(weights), '--out',
            str(tmp / 'out')], [tmp / 'out']


CASES: dict[str, Case] = {
    'binary pose file': _binary_pose_file,
    'non-UTF-8 pose file': _latin1_pose_file,
    'folder that is not a bag': _folder_not_a_bag,
    'file that is not a bag': _file_not_a_bag,
    'unfinished `.partial` output': _partial_output,
    'stamp repeated with different poses': _conflicting_stamps,
    'times file not increasing': _times_not_increasing,
    'binary times file': _binary_times,
    'binary calibration file': _binary_calibration,
    'corrupt image in a sequence': _corrupt_image,
    'start time out of range': _start_time_zero,
    'output folder not empty': _output_not_empty,
    'frame the pipeline cannot read': _failure_mid_run,
    'scale minimum confidence out of range': _scale_min_confidence_above_1,
}


def _readme_rows() -> dict[str, str]:
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    table = text.split('<!-- bad-inputs:start -->')[1].split('<!-- bad-inputs:end -->')[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        rows[cells[0]] = cells[-1].strip('`')
    return rows


def test_readme_table_matches():
    assert set(_readme_rows()) == set(CASES)


@pytest.mark.parametrize('case', sorted(CASES))
def test_refused_with_one_line_and_nothing_left(case, tmp_path, tiny_checkpoint, capsys):
    argv, must_not_exist = CASES[case](tmp_path, tiny_checkpoint)
    before = {p for p in tmp_path.rglob('*')}
    assert main(argv) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if ': error: ' in line]
    assert len(errors) == 1 and 'Traceback' not in err, err
    assert _readme_rows()[case] in errors[0]
    for path in must_not_exist:
        assert not path.exists(), path
    left = {p for p in tmp_path.rglob('*')} - before
    assert not left, f'{case} left {sorted(map(str, left))}'
    assert not [p for p in tmp_path.rglob('*.partial') if p not in before]


def test_unsorted_and_repeated_stamps_are_sorted_and_counted(tmp_path, capsys):
    rows = [(0.1 * i, float(i) ** 1.5) for i in range(8)]
    truth = _tum(tmp_path / 'gt.txt', rows)
    swapped = rows[:3] + [rows[4], rows[3]] + rows[5:] + [rows[6]]  # two swapped, one repeat
    pred = _tum(tmp_path / 'pred.txt', [(t, 1.1 * x) for t, x in swapped])
    in_order = _tum(tmp_path / 'pred_sorted.txt', [(t, 1.1 * x) for t, x in rows])
    import json
    assert main(['eval-trajectory', '--gt', str(truth), '--pred', str(pred), '--json']) == 0
    report = json.loads(capsys.readouterr().out)
    assert report['duplicates'] == {'gt': 0, 'pred': 1}
    assert report['reordered'] == {'gt': False, 'pred': True}
    assert main(['eval-trajectory', '--gt', str(truth), '--pred', str(in_order), '--json']) == 0
    reference = json.loads(capsys.readouterr().out)
    assert report['ate_5frame'] == reference['ate_5frame']
    assert report['kitti_devkit'] == reference['kitti_devkit']
