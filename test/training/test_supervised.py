"""Supervised losses on constructed cases with known answers, and supervised training of DRN on
a real RGB-D set (steps lower the loss; the run writes a checkpoint the Predictor loads)."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from depth_ros.errors import ConfigError, InputError
from depth_ros.inference.predictor import Predictor
from depth_ros.models import build_depth_net, load_checkpoint
from training.checkpointing import load_train_state
from training.data.rgbd import RgbdFolderDataset, collate_rgbd
from training.losses.supervised import (
    SupervisedLossConfig,
    depth_gradients,
    downsample_ground_truth,
    gradient_loss,
    log_depth_loss,
    normal_loss,
    supervised_loss,
    surface_normals,
)
from training.supervised import (
    SupervisedModelConfig,
    load_supervised_config,
    main,
    supervised_step,
)


MIN_DEPTH, MAX_DEPTH = 0.1, 10.0


def ramp(slope_x: float, slope_y: float, height: int = 8, width: int = 12,
         offset: float = 2.0) -> torch.Tensor:
    """A plane seen as depth: d(x, y) = offset + slope_x x + slope_y y, [1, 1, H, W] float64."""
    y, x = torch.meshgrid(torch.arange(height, dtype=torch.float64),
                          torch.arange(width, dtype=torch.float64), indexing='ij')
    return (offset + slope_x * x + slope_y * y)[None, None]


def random_depth(seed: int = 0, shape=(2, 1, 16, 24)) -> tuple[torch.Tensor, torch.Tensor]:
    """Depth in 0.5..5 m with about 30 % holes (0): (depth, valid)."""
    gen = torch.Generator().manual_seed(seed)
    depth = 0.5 + 4.5 * torch.rand(shape, generator=gen, dtype=torch.float64)
    valid = torch.rand(shape, generator=gen) > 0.3
    return torch.where(valid, depth, torch.zeros_like(depth)), valid


def to_sigmoid(depth: torch.Tensor) -> torch.Tensor:
    """The inverse of geometry.projection.inv_depth_to_depth: depth -> the network's sigmoid."""
    min_inv, max_inv = 1 / MAX_DEPTH, 1 / MIN_DEPTH
    return (1 / depth.clamp(min=MIN_DEPTH) - min_inv) / (max_inv - min_inv)


def test_identical_prediction_gives_log_offset_and_zero_gradient_and_normal_terms():
    gt, valid = random_depth()
    for offset in (0.5, 0.1):
        assert float(log_depth_loss(gt, gt, valid, offset)) == pytest.approx(math.log(offset))
    assert float(gradient_loss(gt, gt, valid)) == 0.0
    assert float(normal_loss(gt, gt, valid)) == pytest.approx(0.0, abs=1e-12)


def test_log_loss_of_a_constant_error_ignores_holes():
    gt, valid = random_depth()
    pred = gt + 0.3
    pred[~valid] = 1000.0  # wildly wrong where nothing was measured: must not count
    assert float(log_depth_loss(pred, gt, valid, 0.5)) == pytest.approx(math.log(0.8))


def test_planar_ramp_has_the_known_normal():
    slope = 0.25
    normals = surface_normals(ramp(slope, 0.0))
    expected = torch.tensor([-slope, 0.0, 1.0], dtype=torch.float64) / math.hypot(slope, 1.0)
    assert normals.shape == (1, 3, 7, 11)
    torch.testing.assert_close(normals, expected.view(1, 3, 1, 1).expand_as(normals))
    # A level with pixels twice as large sees the same plane: the same normal.
    coarse = ramp(2 * slope, 0.0, 4, 6)
    torch.testing.assert_close(surface_normals(coarse, spacing=2.0)[0, :, 0, 0], expected)


def test_normal_and_gradient_loss_between_two_planes():
    a, b = 0.5, 0.75
    tilted_x, tilted_y = ramp(a, 0.0), ramp(0.0, b)
    valid = torch.ones_like(tilted_x, dtype=torch.bool)
    # n1 = (-a, 0, 1)/|.|, n2 = (0, -b, 1)/|.|: cos = 1 / sqrt((1 + a^2)(1 + b^2)).
    expected_cos = 1 / math.sqrt((1 + a * a) * (1 + b * b))
    assert float(normal_loss(tilted_x, tilted_y, valid)) == pytest.approx(1 - expected_cos)
    assert float(gradient_loss(tilted_x, tilted_y, valid)) == pytest.approx(a + b)
    assert float(gradient_loss(ramp(a, 0.0, 4, 6), ramp(0, 0, 4, 6), valid[..., :4, :6],
                               spacing=2.0)) == pytest.approx(a / 2)
    dx, dy = depth_gradients(tilted_x)
    assert torch.all(dx == a) and torch.all(dy == 0)


def test_gradient_terms_skip_differences_that_touch_a_hole():
    gt = ramp(0.5, 0.0)
    valid = torch.ones_like(gt, dtype=torch.bool)
    valid[..., 3, 4] = False
    pred = gt.clone()
    pred[..., 3, 4] += 5.0  # only differences using pixel (4, 3) see this
    assert float(gradient_loss(pred, gt, valid)) == 0.0
    assert float(normal_loss(pred, gt, valid)) == pytest.approx(0.0, abs=1e-12)
    assert float(gradient_loss(pred, gt, torch.ones_like(valid))) > 0


def test_normal_loss_gradcheck():
    gt, valid = random_depth(1, (1, 1, 4, 5))
    pred = (gt + 0.1).clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda d: normal_loss(d, gt, valid), (pred,))
    assert torch.autograd.gradcheck(lambda d: log_depth_loss(d, gt, valid), (pred,))


def test_ground_truth_downsampling_averages_valid_pixels_only():
    depth = torch.tensor([[1.0, 3.0, 0.0, 0.0], [0.0, 5.0, 0.0, 0.0]])[None, None]
    down, valid = downsample_ground_truth(depth, 2)
    assert down.shape == (1, 1, 1, 2)
    assert valid[0, 0, 0].tolist() == [True, False]
    assert float(down[0, 0, 0, 0]) == pytest.approx(3.0)  # (1 + 3 + 5) / 3, not / 4
    assert float(down[0, 0, 0, 1]) == 0.0


def test_supervised_loss_of_a_perfect_prediction_on_every_level():
    gt, _ = random_depth(2, (2, 1, 16, 24))
    maps = []
    for k in range(4):
        level_gt, _ = downsample_ground_truth(gt, 2 ** k)
        maps.append(to_sigmoid(level_gt).float())
    config = SupervisedLossConfig(log_offset=0.5, level_weights=(1.0, 0.5, 0.25, 0.125))
    result = supervised_loss(maps, gt.float(), MIN_DEPTH, MAX_DEPTH, config)
    assert float(result.total) == pytest.approx(1.875 * math.log(0.5), abs=1e-4)
    assert float(result.gradient) == pytest.approx(0.0, abs=1e-4)
    assert float(result.normal) == pytest.approx(0.0, abs=1e-5)
    assert [float(v) for v in result.per_level] == pytest.approx([math.log(0.5)] * 4, abs=1e-4)


def test_supervised_loss_refuses_levels_of_the_wrong_size():
    gt, _ = random_depth()
    maps = [torch.full((2, 1, 16 // 2 ** k, 24 // 2 ** k), 0.5) for k in range(4)]
    maps[2] = torch.full((2, 1, 5, 5), 0.5)
    with pytest.raises(InputError, match='output level 2'):
        supervised_loss(maps, gt.float(), MIN_DEPTH, MAX_DEPTH)
    with pytest.raises(ConfigError, match='log_offset'):
        SupervisedLossConfig(log_offset=0.0).validate()


@pytest.fixture(scope='module')
def tum_like(shared_data: Path) -> Path:
    path = shared_data / 'rgbd' / 'tum_like_5'
    if not path.is_dir():
        pytest.skip(f'RGB-D set not found at {path}')
    return path


def test_a_few_steps_on_tum_like_lower_the_loss(tum_like):
    torch.manual_seed(0)
    dataset = RgbdFolderDataset(tum_like, 1000.0, height=64, width=96)
    batch = collate_rgbd([dataset[0], dataset[1]])
    net = build_depth_net('drn').train()
    model, loss_config = SupervisedModelConfig(), SupervisedLossConfig()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    losses = []
    for _ in range(5):
        result = supervised_step(net, batch, model, loss_config)
        optimizer.zero_grad()
        result.total.backward()
        optimizer.step()
        losses.append(float(result.total.detach()))
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0]


def test_command_line_run_writes_a_checkpoint_the_predictor_loads(tum_like, tmp_path):
    config_file = tmp_path / 'supervised.yaml'
    config_file.write_text(
        f'data: {{kind: rgbd_folder, path: "{tum_like}", depth_scale: 1000, height: 64, '
        'width: 96, augmentation: {jitter_probability: 0}}\n'
        'model: {depth_arch: drn, max_depth: 10}\n'
        'optim: {batch_size: 2, epochs: 3, max_steps: 2}\n'
        f'num_workers: 0\noutput_dir: "{tmp_path / "run"}"\n', encoding='utf-8')
    assert main(['--config', str(config_file)]) == 0
    checkpoint = tmp_path / 'run' / 'checkpoints' / 'epoch_001.safetensors'
    assert checkpoint.is_file() and (tmp_path / 'run' / 'config.yaml').is_file()
    ckpt = load_checkpoint(checkpoint)
    assert ckpt.pose_net is None and ckpt.meta.depth_arch.name == 'drn'
    assert (ckpt.meta.height, ckpt.meta.width, ckpt.meta.max_depth) == (64, 96, 10.0)
    assert ckpt.meta.training_config['data']['depth_scale'] == 1000.0
    # The shared trainer: the resolved config, once, and a resumable train state.
    run_yaml = (tmp_path / 'run' / 'config.yaml').read_text(encoding='utf-8')
    assert yaml.safe_load(run_yaml) == ckpt.meta.training_config
    state = load_train_state(checkpoint)
    assert (state['epoch'], state['step']) == (1, 2)
    assert ckpt.meta.notes == 'supervised, epoch 1, step 2'
    predictor = Predictor.from_checkpoint(checkpoint)
    image = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    depth = predictor.predict(image).depth_m
    assert depth.shape == (120, 160)
    assert MIN_DEPTH - 1e-4 <= float(depth.min()) and float(depth.max()) <= MAX_DEPTH + 1e-3


def test_configuration_errors_are_reported_before_training(tmp_path):
    with pytest.raises(ConfigError, match='data.path is empty'):
        load_supervised_config(None, [])
    with pytest.raises(ConfigError, match='unknown config key'):
        load_supervised_config(None, ['data.path=x', 'pose_arch=resnet18'])
    with pytest.raises(ConfigError, match='depth_arch'):
        load_supervised_config(None, ['data.path=x', 'model.depth_arch=nope'])
    assert main(['--override', f'data.path={tmp_path / "missing"}', '--override',
                 'data.height=64', '--override', 'data.width=96', '--override',
                 'num_workers=0', '--override', f'output_dir={tmp_path}']) == 2
