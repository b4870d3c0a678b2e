"""benchmarks/gpu_check.py: its dry run on the CPU runs every step at toy sizes and writes the
JSON and markdown reports; the speed-goal verdicts of its report."""
import json
import os
from pathlib import Path
import subprocess
import sys
import time

import pytest

from depth_ros.models.registry import depth_net_names


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))

import gpu_check  # noqa: E402
from gpu_report import goals, markdown  # noqa: E402
from gpu_steps import STEPS, run_group  # noqa: E402


@pytest.fixture(scope='module')
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('gpu_check')
    argv = [sys.executable, str(ROOT / 'benchmarks' / 'gpu_check.py'), '--dry-run', '--device',
            'cpu', '--out', str(out), '--train-real', '0.1']
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return proc, out


@pytest.mark.slow
def test_dry_run_runs_every_step_and_writes_both_reports(dry_run):
    proc, out = dry_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((out / 'gpu_check.json').read_text())
    assert list(results['steps']) == list(STEPS)
    assert {name: s['status'] for name, s in results['steps'].items()} == dict.fromkeys(
        STEPS, 'ok')
    assert '--dry-run' in results['command'] and results['machine']['torch']
    text = (out / 'gpu_check.md').read_text()
    assert results['command'] in text and 'DRY RUN' in text
    assert sorted(f.name for f in out.iterdir()) == ['gpu_check.json', 'gpu_check.log',
                                                      'gpu_check.md']


@pytest.mark.slow
def test_dry_run_measures_every_registered_architecture(dry_run):
    _, out = dry_run
    bench = json.loads((out / 'gpu_check.json').read_text())['steps']['bench']
    assert sorted(bench['archs']) == depth_net_names()
    measured = {(r['arch'], r['mode']) for r in bench['rows'] if not r['error'] and r['fps'] > 0}
    assert measured == {(a, m) for a in depth_net_names() for m in ('network', 'end_to_end')}


@pytest.mark.slow
def test_dry_run_training_and_tests_figures(dry_run):
    _, out = dry_run
    steps = json.loads((out / 'gpu_check.json').read_text())['steps']
    for name in ('train_monodepth2', 'train_default'):
        train = steps[name]
        assert train['timed_steps'] >= 1 and train['steps_per_s'] > 0
        assert 0 < train['data_share'] < 1
    assert steps['train_default']['recipe']['depth_arch'] == 'dna_lite0'
    # Without a GPU every CUDA test skips; none fails.
    assert set(steps['tests']['counts']) <= {'skipped', 'passed'}
    assert steps['tests']['counts'] and not steps['tests']['failed']
    assert steps['compile']['rows'][0]['fps'] > 0


def _row(arch, mode, fps, ms):
    return {'arch': arch, 'mode': mode, 'backend': 'torch-fp16-cl-graphs', 'height': 192,
            'width': 640, 'batch': 1, 'fps': fps, 'median_ms': ms, 'error': ''}


def test_goal_verdicts_of_constructed_figures():
    results = {'steps': {
        'bench': {'rows': [_row('resnet18', 'network', 1060.0, 0.94),
                           _row('resnet18', 'end_to_end', 400.0, 2.5),
                           _row('smalldepth', 'network', 1114.0, 0.9)]},
        'train_monodepth2': {'recipe': {'height': 192, 'width': 640, 'batch': 12},
                             'steps_per_s': 12.0, 'data_share': 0.05}}}
    verdicts = {g['goal']: (g['measured'], g['holds']) for g in goals(results)}
    assert verdicts['resnet18 depth network >= 1000 FPS'] == (1060.0, True)
    assert verdicts['smalldepth depth network >= 2000 FPS'] == (1114.0, False)
    assert verdicts['resnet18 Predictor.predict 375x1242 <= 3.0 ms'] == (2.5, True)
    assert verdicts['smalldepth Predictor.predict 375x1242 <= 3.0 ms'] == (None, None)
    assert verdicts['Monodepth2 recipe >= 15 steps/s'] == (12.0, False)
    assert verdicts['data loading <= 10% of the step'] == (0.05, True)
    ratios = {g['goal']: g.get('ratio_to_fa_depth') for g in goals(results)}
    assert ratios['resnet18 depth network >= 1000 FPS'] == pytest.approx(1060 / 212)
    assert ratios['smalldepth depth network >= 2000 FPS'] == pytest.approx(2.0)


def test_toy_training_figures_are_not_judged_against_the_goal():
    results = {'steps': {'train_monodepth2': {'recipe': {'height': 64, 'width': 128,
                                                         'batch': 2},
                                              'steps_per_s': 99.0, 'data_share': 0.01}}}
    verdicts = {g['goal']: g['holds'] for g in goals(results)}
    assert verdicts['Monodepth2 recipe >= 15 steps/s'] is None


def test_steps_fit_in_eight_minutes():
    assert sum(gpu_check.BUDGETS_S.values()) <= gpu_check.TOTAL_S
    assert gpu_check.TOTAL_S + gpu_check.GRACE_S <= 8 * 60
    args = gpu_check.parse_args(['--out', 'x'])
    assert [name for name, _ in gpu_check.plan(args)] == [s for s in STEPS if s != 'train_real']


def test_report_of_no_measurements_still_renders():
    results = {'command': 'c', 'dry_run': False, 'started_utc': 't', 'wall_s': 1.0,
               'machine': {}, 'steps': {'bench': {'status': 'stopped', 'notes': ['x']}}}
    text = markdown(results)
    assert '| bench | stopped | 0 | x |' in text and 'not measured' in text


def _step_args(tmp_path):
    return gpu_check.parse_args(['--dry-run', '--device', 'cpu', '--out', str(tmp_path)])


def _sleepers(marker: str) -> list[str]:
    """Ids of processes running `sleep <marker>`."""
    found = []
    for cmdline in Path('/proc').glob('[0-9]*/cmdline'):
        try:
            args = cmdline.read_bytes().split(b'\0')
        except OSError:
            continue
        if args[:2] == [b'sleep', marker.encode()]:
            found.append(cmdline.parent.name)
    return found


def _all_gone(marker: str, within_s: float = 5.0) -> list[str]:
    """The `sleep <marker>` processes still alive `within_s` after the stop (a SIGKILL takes
    effect when the process is next scheduled, which on a loaded machine is not at once; a
    leaked sleeper lives on for a minute)."""
    deadline = time.monotonic() + within_s
    while _sleepers(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _sleepers(marker)


def test_a_stopped_process_group_takes_its_children_along():
    marker = f'{60 + os.getpid() % 1000 / 1000:.3f}'
    spawn = (f'import subprocess, time; subprocess.Popen(["sleep", "{marker}"]); '
             'print("started", flush=True); time.sleep(60)')
    output, code = run_group([sys.executable, '-c', spawn], timeout=3)
    assert code is None and 'started' in output
    assert _all_gone(marker) == []


def test_a_stopped_step_stops_the_groups_it_started():
    # A step process that started a process group of its own (as the tests step does with
    # pytest) kills it when it is told to stop.
    marker = f'{70 + os.getpid() % 1000 / 1000:.3f}'
    step = (f'import sys; sys.path.insert(0, {str(ROOT / "benchmarks")!r}); import gpu_steps; '
            'gpu_steps.stop_groups_on_sigterm(); print("started", flush=True); '
            f'gpu_steps.run_group(["sleep", "{marker}"], 600)')
    output, code = run_group([sys.executable, '-c', step], timeout=4)
    assert code is None and 'started' in output
    assert _all_gone(marker) == []


def test_a_failing_step_is_recorded_and_leaves_no_result_file(tmp_path):
    log = []
    result = gpu_check.run_step(_step_args(tmp_path), 'no_such_step', 60, tmp_path, log)
    assert result['status'] == 'failed' and 'KeyError' in result['notes'][-1]
    assert list(tmp_path.iterdir()) == []


def test_steps_option_selects_and_orders_steps():
    args = gpu_check.parse_args(['--steps', 'train_default,bench', '--train-real', '2'])
    assert [name for name, _ in gpu_check.plan(args)] == ['bench', 'train_default']
    args = gpu_check.parse_args(['--train-real', '2'])
    assert gpu_check.plan(args)[-1] == ('train_real', 2 * 60 + 300)
    with pytest.raises(SystemExit):
        gpu_check.plan(gpu_check.parse_args(['--steps', 'benchmark']))


def test_train_real_uses_the_packed_mix_only_without_shared(tmp_path, monkeypatch):
    """On a machine without ../shared the packed real sequences become the recipe's mix (copied,
    an existing one kept) and the script is told there is no dev drive and no benchmark; where
    ../shared is, nothing changes."""
    import gpu_steps

    root = tmp_path / 'repo'
    packed = root / 'runs' / 'gpu_mix' / 'sequences'
    (packed / 'kitti_a' / 'image_2').mkdir(parents=True)
    (packed / 'kitti_a' / 'calib.txt').write_text('P2: 1\n')
    (packed / 'kitti_b').mkdir()
    kept = root / 'runs' / 'real_mix' / 'sequences' / 'kitti_b'
    kept.mkdir(parents=True)
    (kept / 'mine.txt').write_text('kept')
    monkeypatch.setattr(gpu_steps, 'ROOT', root)
    monkeypatch.setattr(gpu_steps, 'PACKED_MIX', packed)
    assert gpu_steps.packed_mix_options() == ['--no-dev', '--no-benchmark']
    mix = root / 'runs' / 'real_mix' / 'sequences'
    assert (mix / 'kitti_a' / 'calib.txt').read_text() == 'P2: 1\n'
    assert (mix / 'kitti_b' / 'mine.txt').read_text() == 'kept'
    (tmp_path / 'shared' / 'data' / 'real').mkdir(parents=True)
    assert gpu_steps.packed_mix_options() == []
