"""Model options and the dual network's two-stage training: initialisation from checkpoints,
the frozen LR-Net, the feature reconstruction term, and the example configs."""
from pathlib import Path

import pytest
from safetensors.torch import load_file
import torch
import torch.nn.functional as F
from toy_corridor import write_toy_sequence

from depth_ros.errors import ConfigError
from depth_ros.models import ArchSpec, build_pose_net, save_checkpoint
from depth_ros.models.architectures import dual_depth as dual_net
from depth_ros.models.registry import build
from training.config import ModelConfig, TrainLossConfig, config_to_yaml, load_config
from training.data.sample import Sample
from training.step import FEATURE_RECONSTRUCTION, forward_and_loss
from training.trainer import build_training_objects, train


ROOT = Path(__file__).resolve().parents[2]
BASE = ['data.path=/data', 'data.kind=kitti_odometry', 'data.sequences=["00"]']
DUAL = ['model.depth_arch=dual', 'model.depth_kwargs={lr_arch: smalldepth, lr_factor: 2}']


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return write_toy_sequence(tmp_path_factory.mktemp('dual_data'), frames=4, width=256,
                              height=96)


def _config(data, out, *extra):
    return load_config(None, [
        'data.kind=kitti_odometry', f'data.path={data}', 'data.sequences=["00"]',
        'model.pose_arch=pose_lite', 'optim.batch_size=2', 'num_workers=0',
        'validate_every_epochs=0', 'image_every_steps=0', 'log_every_steps=1',
        f'output_dir={out}', *extra])


@pytest.fixture(scope='module')
def stage1(data, tmp_path_factory):
    """The LR architecture alone at the LR size of a 64x128 dual network (32x64), one step."""
    out = tmp_path_factory.mktemp('stage1')
    config = _config(data, out, 'model.depth_arch=smalldepth', 'data.height=32',
                     'data.width=64', 'optim.epochs=1')
    return train(config).checkpoint


@pytest.fixture(scope='module')
def stage2(data, stage1, tmp_path_factory):
    out = tmp_path_factory.mktemp('stage2')
    config = _config(data, out, *DUAL, 'data.height=64', 'data.width=128', 'optim.epochs=2',
                     f'model.init_lr={stage1}', f'model.init_pose={stage1}',
                     'model.freeze_lr=true', 'loss.scales=[0]',
                     'loss.feature_reconstruction_weight=0.5', 'checkpoint_every_epochs=1')
    return train(config)


def test_stage2_keeps_the_lr_net_and_trains_the_rest(stage1, stage2):
    assert stage2.steps == 2 and all(torch.isfinite(torch.tensor(stage2.losses)))
    lr_weights = {k[len('depth.'):]: v for k, v in load_file(str(stage1)).items()
                  if k.startswith('depth.')}
    first = load_file(str(stage2.checkpoint.with_name('epoch_001.safetensors')))
    last = load_file(str(stage2.checkpoint))
    for name, value in lr_weights.items():  # weights and BatchNorm statistics
        torch.testing.assert_close(first[f'depth.lr_net.{name}'], value, rtol=0, atol=0)
        torch.testing.assert_close(last[f'depth.lr_net.{name}'], value, rtol=0, atol=0)
    hr = [k for k in last if k.startswith('depth.hr_net.') and k.endswith('.weight')]
    assert hr and all(not torch.equal(first[k], last[k]) for k in hr)
    assert not torch.equal(first['depth.query.weight'], last['depth.query.weight'])
    assert any(not torch.equal(first[k], last[k]) for k in first if k.startswith('pose.'))


def test_stage2_logs_the_feature_reconstruction_loss(data, stage1, tmp_path, logged_scalar_tags):
    tags = logged_scalar_tags
    train(_config(data, tmp_path, *DUAL, 'data.height=64', 'data.width=128', 'optim.epochs=1',
                  f'model.init_lr={stage1}', 'model.freeze_lr=true',
                  'loss.feature_reconstruction_weight=0.5'))
    assert {'loss/total', 'loss/feature_reconstruction'} <= tags


def test_frozen_lr_net_is_not_optimised(stage1):
    config = load_config(None, BASE + DUAL + [f'model.init_lr={stage1}', 'model.freeze_lr=true'])
    objects = build_training_objects(config, torch.device('cpu'))
    optimised = {id(p) for group in objects.optimizer.param_groups for p in group['params']}
    lr_params = list(objects.depth_net.lr_net.parameters())
    assert lr_params and not any(id(p) in optimised for p in lr_params)
    assert all(id(p) in optimised for p in objects.depth_net.hr_net.parameters())
    assert all(id(p) in optimised for p in objects.pose_net.parameters())
    objects.depth_net.train()
    assert not objects.depth_net.lr_net.training and objects.depth_net.hr_net.training
    saved = load_file(str(stage1))
    for name, value in objects.depth_net.lr_net.state_dict().items():
        torch.testing.assert_close(value, saved[f'depth.{name}'], rtol=0, atol=0)


def test_init_depth_and_pose_load_the_checkpoint(stage2):
    config = load_config(None, BASE + DUAL + [f'model.init_depth={stage2.checkpoint}',
                                              f'model.init_pose={stage2.checkpoint}',
                                              'model.pose_arch=pose_lite'])
    objects = build_training_objects(config, torch.device('cpu'))
    saved = load_file(str(stage2.checkpoint))
    for name, value in objects.depth_net.state_dict().items():
        torch.testing.assert_close(value, saved[f'depth.{name}'], rtol=0, atol=0)
    for name, value in objects.pose_net.state_dict().items():
        torch.testing.assert_close(value, saved[f'pose.{name}'], rtol=0, atol=0)


def test_depth_kwargs_reach_the_builder_and_round_trip(tmp_path):
    config = load_config(None, BASE + DUAL)
    assert config.model.depth_kwargs == {'lr_arch': 'smalldepth', 'lr_factor': 2}
    objects = build_training_objects(config, torch.device('cpu'))
    assert objects.depth_arch.kwargs == {'lr_arch': 'smalldepth', 'lr_factor': 2}
    assert objects.depth_net.lr_factor == 2
    path = tmp_path / 'resolved.yaml'
    path.write_text(config_to_yaml(config))
    assert load_config(path) == config


def _checkpoint(path, depth_arch, pose_arch=None):
    """A checkpoint of freshly built networks of the given specs."""
    pose_net = build('pose', pose_arch) if pose_arch else None
    save_checkpoint(path, build('depth', depth_arch), pose_net, depth_arch=depth_arch,
                    pose_arch=pose_arch, height=64, width=128)
    return path


@pytest.mark.parametrize('extra,match', [
    (['model.freeze_lr=true'], 'model.freeze_lr and model.init_lr need model.depth_arch: dual'),
    (['model.init_lr=x.safetensors'], 'need model.depth_arch: dual'),
    (['loss.feature_reconstruction_weight=0.1'], 'feature_reconstruction_weight needs model'),
    (['loss.feature_reconstruction_weight=-1'] + DUAL, 'feature_reconstruction_weight must be'),
    (['model.depth_kwargs=[1, 2]'], 'model.depth_kwargs: expected a mapping'),
    (['model.init_depth=absent.safetensors'], 'model.init_depth: checkpoint not found'),
    (DUAL + ['model.init_lr=absent.safetensors'], 'model.init_lr: checkpoint not found'),
    (['model.depth_kwargs={scales: [0]}'], 'loss.scales .* must be among'),
])
def test_bad_model_options_are_config_errors(extra, match):
    with pytest.raises(ConfigError, match=match):
        load_config(None, BASE + extra)


def test_checkpoint_of_another_architecture_is_a_config_error(tmp_path):
    small = _checkpoint(tmp_path / 'small.safetensors', ArchSpec.of('smalldepth'))
    dual = _checkpoint(tmp_path / 'dual.safetensors',
                       ArchSpec.of('dual', lr_arch='smalldepth', lr_factor=2))
    resnet = _checkpoint(tmp_path / 'resnet.safetensors', ArchSpec.of('resnet18'),
                         ArchSpec.of('pose_lite'))
    cases = [
        ([f'model.init_depth={small}'], "holds a 'smalldepth' depth network .* builds "
                                        "'resnet18'"),
        (DUAL[:1] + [f'model.init_depth={dual}', 'model.depth_kwargs={lr_factor: 3}'],
         "holds a 'dual' depth network"),
        (DUAL + [f'model.init_lr={resnet}'], "model.init_lr holds a 'resnet18' depth network"),
        (DUAL + [f'model.init_lr={dual}'], 'whole dual network; initialise .* model.init_depth'),
        ([f'model.init_pose={small}'], 'holds no pose network'),
        ([f'model.init_pose={resnet}'], "holds a 'pose_lite' pose network .* builds "
                                        "'resnet18'"),
    ]
    for extra, match in cases:
        with pytest.raises(ConfigError, match=match):
            load_config(None, BASE + extra)
    # The matching ones are accepted.
    load_config(None, BASE + DUAL + [f'model.init_depth={dual}', 'model.freeze_lr=true'])
    load_config(None, BASE + DUAL + [f'model.init_lr={small}'])


def test_feature_reconstruction_term_trains_depth_and_pose():
    net = dual_net('smalldepth', 2)
    height, width, batch = 64, 128, 2
    frames = torch.rand(batch, 3, 3, height, width, generator=torch.Generator().manual_seed(0))
    images = [frames, F.avg_pool2d(frames.flatten(0, 1), 2).view(batch, 3, 3, 32, 64)]
    k = torch.tensor([[60.0, 0, 64, 0], [0, 60.0, 32, 0], [0, 0, 1, 0],
                      [0, 0, 0, 1]]).expand(batch, 4, 4)
    sample = Sample((0, -1, 1), images, frames, k, None, torch.arange(batch))
    pose_net = build_pose_net('pose_lite')
    loss = TrainLossConfig(scales=(0,), feature_reconstruction_weight=0.5)
    out = forward_and_loss(net, pose_net, sample, ModelConfig(), loss)
    term = out.terms[FEATURE_RECONSTRUCTION]
    torch.testing.assert_close(out.total, out.loss.total + 0.5 * term)
    term.backward()
    assert float(term.detach()) > 0
    assert net.query.weight.grad.abs().sum() > 0  # through the full-resolution depth
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in pose_net.parameters())


def test_example_configs_are_valid(stage1, monkeypatch):
    monkeypatch.chdir(ROOT)
    first = load_config(ROOT / 'config' / 'train_dual_stage1.yaml')
    second = load_config(ROOT / 'config' / 'train_dual_stage2.yaml',
                         [f'model.init_lr={stage1}', f'model.init_pose={stage1}'])
    lr_size = dual_net(**second.model.depth_kwargs).lr_size(second.data.height,
                                                            second.data.width)
    assert (first.data.height, first.data.width) == lr_size
    assert first.model.depth_arch == second.model.depth_kwargs['lr_arch']
    assert second.model.freeze_lr and second.loss.feature_reconstruction_weight > 0
    assert second.data.path == first.data.path == 'runs/synth_train'
    distill = load_config(ROOT / 'config' / 'train_distill.yaml')
    assert distill.distill.teacher and distill.distill.weight > 0
