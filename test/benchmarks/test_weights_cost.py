"""benchmarks/weights_cost.py: each packaged weights file timed against `default`."""
import json
from pathlib import Path
import sys

import pytest

from depth_ros.inference.predictor import PACKAGED_WEIGHTS, default_weights_path


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))

from weights_cost import main  # noqa: E402


def test_every_packaged_file_is_timed_at_its_own_input_size(tmp_path):
    out = tmp_path / 'cost.json'
    assert main(['--backends', 'torch', '--rounds', '1', '--reps', '1', '--json', str(out)]) == 0
    rows = {r['weights']: r for r in json.loads(out.read_text())['rows']}
    shipped = {n for n in PACKAGED_WEIGHTS if default_weights_path(n) is not None}
    assert set(rows) == shipped
    assert rows['default']['x_default'] == 1.0 and rows['default']['input'] == '416x128'
    if 'real_640x192' in rows:
        assert rows['real_640x192']['input'] == '640x192'
    assert all(r['median_ms'] > 0 and r['p90_ms'] >= r['median_ms'] for r in rows.values())


def test_also_times_packaged_weights_at_another_input_size(tmp_path):
    out = tmp_path / 'cost.json'
    assert main(['--backends', 'torch', '--rounds', '1', '--reps', '1', '--json', str(out),
                 '--also', 'default@320x96+flip']) == 0
    rows = {r['weights']: r for r in json.loads(out.read_text())['rows']}
    assert rows['default@320x96+flip']['input'] == '320x96'


@pytest.mark.parametrize('variant', ['nosuch@320x96', 'default', 'default@320x90',
                                     'default@320'])
def test_bad_variants_are_refused(variant, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(['--also', variant])
    assert exit_.value.code == 2 and 'error:' in capsys.readouterr().err
