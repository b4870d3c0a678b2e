"""Training configuration: defaults, YAML and override precedence, one-line validation errors."""
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
import yaml

from depth_ros.errors import ConfigError
from training.config import TrainConfig, config_to_yaml, load_config
from training.train import main


ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / 'train.yaml'
    path.write_text(text)
    return path


def test_defaults_are_monodepth2s_recipe():
    c = TrainConfig()
    assert (c.optim.learning_rate, c.optim.epochs, c.optim.lr_step_epochs, c.optim.lr_gamma,
            c.optim.batch_size) == (1e-4, 20, 15, 0.1, 12)
    assert (c.data.height, c.data.width, c.data.frame_offsets) == (192, 640, (0, -1, 1))
    assert (c.loss.scales, c.loss.ssim_weight, c.loss.smoothness_weight) == ((0, 1, 2, 3), 0.85,
                                                                             1e-3)
    assert (c.model.min_depth, c.model.max_depth) == (0.1, 100.0)
    assert (c.model.depth_arch, c.model.pose_arch) == ('resnet18', 'resnet18')


def test_yaml_then_overrides(tmp_path):
    path = _write(tmp_path, 'data:\n  kind: kitti_odometry\n  path: /data\n  height: 96\n'
                            'optim:\n  learning_rate: 1e-4\n  batch_size: 4\n')
    config = load_config(path, ['optim.batch_size=2', 'data.sequences=["00", "01"]',
                                'loss.scales=[0]'])
    assert config.data.height == 96 and config.data.width == 640  # untouched default
    assert config.optim.batch_size == 2 and config.optim.learning_rate == 1e-4
    assert config.data.sequences == ('00', '01') and config.loss.scales == (0,)
    assert config.num_scales == 1


def test_resolved_yaml_round_trips(tmp_path):
    config = load_config(None, ['data.path=/data', 'data.split_file=train.txt', 'seed=7'])
    again = load_config(_write(tmp_path, config_to_yaml(config)))
    assert again == config
    assert yaml.safe_load(config_to_yaml(config))['data']['frame_offsets'] == [0, -1, 1]
    assert asdict(again)['optim']['epochs'] == 20


@pytest.mark.parametrize('overrides,match', [
    (['optim.lr=1'], r"unknown config key 'optim.lr'; valid keys in optim: learning_rate"),
    (['bogus=1'], "unknown config key 'bogus'"),
    (['optim.batch_size="12"'], 'optim.batch_size: expected int, got str'),
    (['data.sequences=[00]'], r'data.sequences\[0\]: expected str.*quote it'),
    (['amp=1'], 'amp: expected bool'),
    (['data.height=100'], 'multiples of 32'),
    (['data.kind=nuscenes'], "data.kind 'nuscenes' is unknown"),
    (['data.frame_offsets=[-1, 0, 1]'], 'must start with 0'),
    (['loss.scales=[0, 4]'], 'loss.scales'),
    (['model.depth_arch=vgg'], "model.depth_arch 'vgg' is unknown"),
    (['model.min_depth=200'], 'min_depth < max_depth'),
    (['optim.learning_rate=-1'], 'learning_rate must be > 0'),
    (['data.augmentation.hue=0.9'], 'hue'),
    (['data.augmentation.saturation=1'], r'augmentation.saturation must be in \[0, 1\), got 1'),
    (['data.augmentation.max_zoom=0.5'], 'data.augmentation.max_zoom must be at least 1'),
    (['data=3'], 'data: expected a mapping'),
    (['optim.batch_size'], 'must look like key=value'),
    (['device=tpu'], 'device must be cpu, cuda or cuda:N'),
])
def test_invalid_configs_name_the_key(overrides, match):
    with pytest.raises(ConfigError, match=match):
        load_config(None, ['data.path=/data', 'data.kind=kitti_odometry',
                           'data.sequences=["00"]'] + overrides)


def test_empty_data_path_and_missing_split():
    with pytest.raises(ConfigError, match='data.path is empty'):
        load_config(None, [])
    with pytest.raises(ConfigError, match='split_file is required'):
        load_config(None, ['data.path=/data'])
    with pytest.raises(ConfigError, match='data.sequences or data.split_file'):
        load_config(None, ['data.path=/data', 'data.kind=kitti_odometry', 'data.sequences=[]'])


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is available here')
def test_cuda_without_cuda_is_a_config_error():
    with pytest.raises(ConfigError, match='CUDA is not available'):
        load_config(None, ['data.path=/d', 'data.kind=kitti_odometry', 'data.sequences=["00"]',
                           'device=cuda'])


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match='config file not found'):
        load_config(tmp_path / 'nope.yaml')


def test_tiny_config_is_valid():
    config = load_config(ROOT / 'config' / 'train_tiny.yaml')
    assert (config.data.height, config.data.width) == (96, 320)
    assert config.optim.max_steps > 0


def test_cli_reports_errors_on_one_line(tmp_path, caplog):
    status = main(['--config', str(_write(tmp_path, 'optim:\n  batch_sise: 4\n'))])
    assert status == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == 'ERROR']
    from dataclasses import fields

    from training.config import OptimConfig
    valid = ', '.join(f.name for f in fields(OptimConfig))
    assert errors == [f"unknown config key 'optim.batch_sise'; valid keys in optim: {valid}"]


def test_cli_reports_missing_data(tmp_path, caplog):
    status = main(['--override', f'data.path={tmp_path / "absent"}',
                   '--override', 'data.kind=kitti_odometry',
                   '--override', 'data.sequences=["00"]'])
    assert status == 2
    assert any('KITTI odometry layout not found' in r.getMessage() for r in caplog.records)
