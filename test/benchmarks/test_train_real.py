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
    (['--synth-supersample', '2'], 'supersample must be an odd number'),
])
def test_bad_options_stop_before_any_data_is_prepared(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        train_real.main(argv + ['--work', str(tmp_path / 'work')])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'work').exists()


def test_a_depth_mix_is_reused_only_for_what_it_was_made_for(tmp_path):
    layout = train_real.Layout(work=tmp_path)
    checkpoint = tmp_path / 'fine' / 'epoch_003.safetensors'
    layout.geo_mix.mkdir()
    (layout.geo_mix / 'DONE').write_text(f'{checkpoint}\n')
    # Made for this checkpoint: reused as it is (nothing to lay out: runs/real_mix is absent).
    assert train_real.geometric_mix(checkpoint, 42.0, layout) == layout.geo_mix

    other = tmp_path / 'fine' / 'epoch_004.safetensors'
    with pytest.raises(train_real.ConfigError, match='epoch_003.*not.*epoch_004'):
        train_real.geometric_mix(other, 42.0, layout)
    assert (layout.geo_mix / 'DONE').read_text() == f'{checkpoint}\n'  # left as it was
