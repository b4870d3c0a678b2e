"""`depth-ros evaluate`: the acceptance run on the real KITTI 06 frames, evo, and errors.

KITTI 06 (51 real frames) -> kitti-to-bag -> evaluate with a small random-weight checkpoint at
64x192 (fast on a CPU): metrics, result bag and plots are written, evo reads the result bag.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

from depth_ros.cli import main


FRAMES_06 = 51


@pytest.fixture(scope='module')
def one_thread():
    torch = pytest.importorskip('torch')
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the test machine's few cores are shared
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def evaluated06(shared_data, tiny_checkpoint, tmp_path_factory, one_thread) -> tuple:
    """(bag, output folder, JSON result) of the acceptance run."""
    seq = shared_data / 'kitti_odometry' / 'sequences' / '06'
    if not (seq / 'image_0').is_dir():
        pytest.skip(f'KITTI 06 frames not found at {seq}')
    root = tmp_path_factory.mktemp('eval06')
    bag, out = root / 'bag06', root / 'out'
    assert main(['kitti-to-bag', '--sequence-dir', str(seq), '--out', str(bag)]) == 0
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(['evaluate', '--bag', str(bag), '--weights', str(tiny_checkpoint), '--out',
                     str(out), '--json', '--previews', '3'])
    assert code == 0
    return bag, out, json.loads(stdout.getvalue())


def test_kitti06_acceptance_metrics(evaluated06):
    _, out, result = evaluated06
    assert result['frames'] == FRAMES_06 and result['gt_frames'] == FRAMES_06
    ate = result['ate_5frame']
    assert ate['n_tracks'] == FRAMES_06 - 1 and ate['mean'] > 0 and ate['std'] >= 0
    assert set(result['ape']) == {'se3', 'sim3'} and result['ape']['sim3']['n_poses'] == 51
    assert set(result['kitti_devkit']) == {'scale', '7dof', '6dof'}
    assert result['depth'] is None  # the real 06 frames come without depth ground truth
    assert result['frame_issues']['gaps'] == [] and result['frame_issues']['duplicates'] == 0
    assert json.loads((out / 'metrics.json').read_text())['ate_5frame'] == ate


def test_kitti06_acceptance_outputs(evaluated06):
    _, out, result = evaluated06
    assert (out / 'trajectory.png').stat().st_size > 1000
    assert len(result['outputs']['depth_previews']) == 3
    assert all(Path(p).is_file() for p in result['outputs']['depth_previews'])
    from depth_ros.evaluation.bag_io import BagReader
    with BagReader(out / 'result_bag') as reader:
        counts = {topic: info.count for topic, info in reader.topics.items()}
    assert counts == {'/depth_ros/depth': FRAMES_06, '/depth_ros/odom': FRAMES_06,
                      '/ground_truth/odom': FRAMES_06}


def _evo_ape() -> str:
    candidates = [Path(sys.executable).with_name('evo_ape'), shutil.which('evo_ape')]
    found = next((str(c) for c in candidates if c and os.access(c, os.X_OK)), None)
    if found is None:
        pytest.skip('evo is not installed (pip install evo, or the dev extra)')
    return found


def test_evo_reads_the_result_bag(evaluated06, tmp_path):
    _, out, result = evaluated06
    env = {**os.environ, 'HOME': str(tmp_path), 'MPLBACKEND': 'Agg'}  # evo writes ~/.evo
    done = subprocess.run([_evo_ape(), 'bag2', str(out / 'result_bag'), '/ground_truth/odom',
                           '/depth_ros/odom', '--align', '--correct_scale'],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    rmse = float(next(line.split()[1] for line in done.stdout.splitlines()
                      if line.strip().startswith('rmse')))
    assert rmse == pytest.approx(result['ape']['sim3']['rmse'], rel=1e-4)


def test_eval_trajectory_of_the_bag_against_itself_is_zero(evaluated06, capsys):
    bag, _, _ = evaluated06
    spec = f'{bag}:/ground_truth/odom'
    assert main(['eval-trajectory', '--gt', spec, '--pred', spec, '--json']) == 0
    report = json.loads(capsys.readouterr().out)
    assert report['ate_5frame']['mean'] == pytest.approx(0.0, abs=1e-9)
    assert report['ape']['sim3']['rmse'] == pytest.approx(0.0, abs=1e-6)


def test_errors_are_one_line(evaluated06, tiny_checkpoint, tmp_path, capsys):
    bag, _, _ = evaluated06
    assert main(['evaluate', '--bag', str(tmp_path / 'missing'), '--weights',
                 str(tiny_checkpoint), '--out', str(tmp_path / 'o1')]) == 2
    err = capsys.readouterr().err
    assert 'bag not found' in err and 'Traceback' not in err
    assert main(['evaluate', '--bag', str(bag), '--weights', str(tiny_checkpoint), '--out',
                 str(tmp_path / 'o2'), '--image-topic', '/camera/nothing']) == 2
    err = capsys.readouterr().err
    assert 'has no topic /camera/nothing' in err and '/camera/image_raw' in err
