"""benchmarks/train_real.py: the teacher phase's options are checked before any work starts."""
from pathlib import Path
import sys

import numpy as np
from PIL import Image
import pytest


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))

import train_real  # noqa: E402


@pytest.mark.parametrize('argv, message', [
    (['--start-from', 'w.safetensors'], 'give --teacher-minutes too'),
    (['--teacher-minutes', '5', '--teacher-size', '500x160'], 'multiples of 32'),
    (['--override', 'optim.epochs'], 'KEY=VALUE'),
    (['--synth-supersample', '2'], 'supersample must be an odd number'),
    (['--merged-labels', 'kitti_sfnd'], 'give --teacher-minutes too'),
    (['--teacher-minutes', '5', '--merged-labels', 'kitti_sfnd', 'kitti_cgebbe'],
     'no LiDAR in kitti_cgebbe'),
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


@pytest.fixture(scope='module')
def lidar_mix(tmp_path_factory):
    """A recipe's mix in miniature: a drive with sparse "LiDAR" (every third row of its rendered
    depth within 60 m, doubled: a scale the teacher does not have), and GEOMETRIC_SEQUENCES
    without depth; two frames each, 192x64."""
    import shutil

    from depth_ros.synth import generate_sequence
    from depth_ros.synth.writer import decode_depth, encode_depth

    layout = train_real.Layout(work=tmp_path_factory.mktemp('work'))
    generate_sequence(layout.mix, seed=3, frames=2, sequence='lidar_drive', width=192,
                      height=64, progress=False, supersample=1)
    drive = layout.mix / 'sequences' / 'lidar_drive'
    for png in (drive / 'depth_2').glob('*.png'):
        depth = decode_depth(np.asarray(Image.open(png)))
        depth[(np.arange(depth.shape[0]) % 3 != 0)[:, None] | (depth > 60.0)] = 0.0
        Image.fromarray(encode_depth(2.0 * depth)).save(png)
    for name in train_real.GEOMETRIC_SEQUENCES:
        shutil.copytree(drive, layout.mix / 'sequences' / name,
                        ignore=shutil.ignore_patterns('depth_2'))
    return layout


def test_merged_labels_are_the_teacher_scaled_to_the_lidar_with_the_lidar_over_it(lidar_mix):
    from depth_ros.inference import Predictor
    from training.data.images import load_depth_png

    layout = lidar_mix
    lidar_dir = layout.mix / 'sequences' / 'lidar_drive' / 'depth_2'
    lidar_bytes = {png.name: png.read_bytes() for png in lidar_dir.glob('*.png')}
    phases = train_real.Phases(0, 0, 0, teacher=1.0, teacher_weights='default',
                               teacher_size='192x64', merged=('lidar_drive',))
    mix = train_real.teacher_mix(phases, layout)
    assert 'merged with the LiDAR of lidar_drive' in (mix / 'DONE').read_text()
    teacher = Predictor.from_checkpoint('default', flip_average=True, input_size=(64, 192))
    for name in ('lidar_drive', train_real.GEOMETRIC_SEQUENCES[0]):
        for number in range(2):
            image = np.asarray(Image.open(layout.mix / 'sequences' / name / 'image_2'
                                          / f'{number:06d}.png').convert('RGB'))
            expected = teacher.predict(image).depth_m
            label = mix / 'sequences' / name / 'depth_2' / f'{number:06d}.png'
            assert label.is_file() and not label.is_symlink()
            written = load_depth_png(label)
            if name == 'lidar_drive':
                lidar = load_depth_png(lidar_dir / label.name)
                points = lidar > 0
                np.testing.assert_array_equal(written[points], lidar[points])
                ratio = np.median(lidar[points] / expected[points])
                assert 1.5 < ratio < 3.0  # about the doubling: the scaling is visible
                expected = expected * ratio
            np.testing.assert_allclose(written[~points], expected[~points], rtol=1e-3,
                                       atol=1 / 256)
    # The LiDAR behind the links is untouched.
    assert {png.name: png.read_bytes() for png in lidar_dir.glob('*.png')} == lidar_bytes


def test_merged_labels_for_a_drive_without_lidar_stop_before_any_work(lidar_mix, tmp_path):
    layout = train_real.Layout(work=tmp_path)
    (tmp_path / 'real_mix').symlink_to(lidar_mix.mix)
    phases = train_real.Phases(0, 0, 0, teacher=1.0, merged=('nowhere',))
    with pytest.raises(train_real.ConfigError, match='nowhere/depth_2 is not there'):
        train_real.teacher_mix(phases, layout)
    assert not layout.teacher_mix.exists()


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
