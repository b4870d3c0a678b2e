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


def test_the_written_weights_name_their_teacher_and_last_phase_sequences(tmp_path):
    from depth_ros.models import ArchSpec, build_depth_net, build_pose_net, save_checkpoint
    from depth_ros.models.checkpoint import load_checkpoint, read_meta

    source, target = tmp_path / 'epoch_001.safetensors', tmp_path / 'default.safetensors'
    config = {'data': {'sequences': ['kitti_sfnd', 'dev_0005', 81]}}
    save_checkpoint(source, build_depth_net('smalldepth'), build_pose_net('pose_lite'),
                    depth_arch=ArchSpec.of('smalldepth'), pose_arch=ArchSpec.of('pose_lite'),
                    height=64, width=192, training_config=config)
    train_real.write_weights(load_checkpoint(source), target, 42.5, teacher='T at 512x160')
    meta = read_meta(target)
    assert meta.metres_per_unit == 42.5 and meta.training_config == config
    assert "the last phase's sequences: kitti_sfnd, dev_0005, 81;" in meta.notes
    assert 'the full-resolution depth of T at 512x160 there' in meta.notes
    train_real.write_weights(load_checkpoint(source), target, 1.0)
    assert 'full-resolution depth' not in read_meta(target).notes
