"""benchmarks/train_real.py: the teacher phase's options are checked before any work starts."""
from pathlib import Path
import sys

import pytest


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))

import train_real  # noqa: E402


@pytest.mark.parametrize('argv, message', [
    (['--start-from', 'w.safetensors'], 'give --teacher-minutes too'),
    (['--teacher-minutes', '5', '--teacher-size', '500x160'], 'multiples of 32'),
    (['--override', 'optim.epochs'], 'KEY=VALUE'),
])
def test_bad_options_stop_before_any_data_is_prepared(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        train_real.main(argv + ['--work', str(tmp_path / 'work')])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'work').exists()
