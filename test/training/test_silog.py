"""Scale-invariant log error (Eigen et al. 2014, Eq. 4) and its use as a training term."""
import json
import math

import pytest
import torch
from torch import nn
import torch.nn.functional as F
from toy_corridor import FixedPoseNet, tiny_train_overrides

from depth_ros.errors import ConfigError
from depth_ros.models.outputs import DepthOutput
from training.config import ModelConfig, TrainLossConfig, load_config
from training.data.sample import Sample, collate_samples
from training.losses.silog import silog_loss
from training.step import DEPTH_SUPERVISION, forward_and_loss
from training.trainer import train


def _gt(seed: int = 0, shape=(2, 1, 6, 8)) -> torch.Tensor:
    return 1.0 + 30.0 * torch.rand(shape, generator=torch.Generator().manual_seed(seed))


def test_zero_for_the_truth_and_blind_to_scale_at_lambda_one():
    gt = _gt()
    valid = torch.ones_like(gt, dtype=torch.bool)
    assert float(silog_loss(gt, gt, valid)) == pytest.approx(0.0, abs=1e-7)
    assert float(silog_loss(3.0 * gt, gt, valid, 1.0)) == pytest.approx(0.0, abs=1e-6)
    # A wrong scale c alone costs (1 - lambda) (log c)^2.
    assert float(silog_loss(3.0 * gt, gt, valid, 0.85)) == pytest.approx(
        0.15 * math.log(3.0) ** 2, rel=1e-5)
    assert float(silog_loss(3.0 * gt, gt, valid, 0.0)) == pytest.approx(math.log(3.0) ** 2,
                                                                      rel=1e-5)


def test_known_value_of_a_two_pixel_image():
    # d = (log 2, 0): mean d^2 = (log 2)^2 / 2, mean d = log 2 / 2.
    depth = torch.tensor([2.0, 5.0]).view(1, 1, 1, 2)
    gt = torch.tensor([1.0, 5.0]).view(1, 1, 1, 2)
    expected = math.log(2) ** 2 / 2 - 0.5 * (math.log(2) / 2) ** 2
    got = silog_loss(depth, gt, torch.ones_like(gt, dtype=torch.bool), 0.5)
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_pixels_and_images_without_ground_truth_do_not_count():
    gt = _gt(1)
    depth = gt * torch.exp(0.3 * torch.randn(gt.shape, generator=torch.Generator().manual_seed(2)))
    valid = torch.ones_like(gt, dtype=torch.bool)
    alone = silog_loss(depth[:1], gt[:1], valid[:1])
    # Image 2 has no ground truth (zeros); then image 1 also has garbage outside a valid half.
    valid[1] = False
    gt_holes = gt.clone()
    gt_holes[1] = 0.0
    torch.testing.assert_close(silog_loss(depth, gt_holes, valid), alone)
    half = valid.clone()
    half[0, :, :, 4:] = False
    gt_holes[0, :, :, 4:] = -1.0
    loss = silog_loss(depth, gt_holes, half)
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss, silog_loss(depth[:1, ..., :4], gt[:1, ..., :4],
                                                torch.ones_like(gt[:1, ..., :4],
                                                                dtype=torch.bool)))
    nothing = silog_loss(depth.requires_grad_(), gt, torch.zeros_like(valid))
    assert float(nothing) == 0.0
    nothing.backward()
    assert torch.all(depth.grad == 0)


def test_gradient_descent_recovers_the_structure_up_to_scale():
    gt = _gt(3, (1, 1, 4, 4))
    log_depth = torch.zeros_like(gt, requires_grad=True)
    optimiser = torch.optim.Adam([log_depth], lr=0.05)
    valid = torch.ones_like(gt, dtype=torch.bool)
    for _ in range(400):
        optimiser.zero_grad()
        silog_loss(log_depth.exp(), gt, valid, 1.0).backward()
        optimiser.step()
    ratio = log_depth.detach().exp() / gt
    assert float(ratio.std() / ratio.mean()) < 1e-3


def test_lambda_outside_zero_one_is_refused():
    gt = _gt()
    with pytest.raises(ConfigError, match='variance_focus'):
        silog_loss(gt, gt, gt > 0, 1.5)
    with pytest.raises(ConfigError, match='depth_supervision'):
        TrainLossConfig(depth_supervision_metres_per_unit=0.0).validate()


class FixedDepthNet(nn.Module):
    """Outputs given sigmoid maps whatever the image (full resolution, then 2x pooled)."""

    def __init__(self, sigmoid: torch.Tensor) -> None:
        super().__init__()
        self.sigmoid = nn.Parameter(sigmoid)

    def forward(self, images):
        maps = [self.sigmoid.expand(images.shape[0], -1, -1, -1)]
        for _ in range(3):
            maps.append(F.avg_pool2d(maps[-1], 2))
        return DepthOutput(maps)


def _example(index: int, depth_m: torch.Tensor | None, height=16, width=32) -> Sample:
    frames = torch.rand(3, 3, height, width, generator=torch.Generator().manual_seed(index))
    images = [frames]
    for _ in range(3):
        images.append(F.avg_pool2d(images[-1], 2))
    k = torch.tensor([[20.0, 0, width / 2, 0], [0, 20.0, height / 2, 0], [0, 0, 1, 0],
                      [0, 0, 0, 1]])
    return Sample((0, -1, 1), images, frames, k, depth_m, torch.tensor(index))


def test_collate_gives_examples_without_depth_zeros():
    depth = _gt(4, (1, 16, 32))
    batch = collate_samples([_example(0, depth), _example(1, None)])
    assert batch.depth_m.shape == (2, 1, 16, 32)
    torch.testing.assert_close(batch.depth_m[0], depth)
    assert torch.all(batch.depth_m[1] == 0)
    assert collate_samples([_example(0, None), _example(1, None)]).depth_m is None


def test_training_term_compares_in_network_units():
    # The network's depth is exactly 2x the ground truth in network units (metres / 40), so
    # the term is (1 - lambda) (log 2)^2; the second example has no ground truth.
    model, metres_per_unit = ModelConfig(), 40.0
    gt_m = _gt(5, (1, 16, 32)) * 4.0
    depth_units = 2.0 * gt_m / metres_per_unit
    sigmoid = ((1 / depth_units - 1 / model.max_depth)
               / (1 / model.min_depth - 1 / model.max_depth))[None]
    batch = collate_samples([_example(0, gt_m), _example(1, None)])
    loss = TrainLossConfig(scales=(0,), tie_noise=0.0, depth_supervision_weight=0.5,
                           depth_supervision_variance_focus=0.85,
                           depth_supervision_metres_per_unit=metres_per_unit)
    out = forward_and_loss(FixedDepthNet(sigmoid), FixedPoseNet(), batch, model, loss)
    assert float(out.terms[DEPTH_SUPERVISION].detach()) == pytest.approx(0.15 * math.log(2) ** 2,
                                                                 rel=1e-4)
    torch.testing.assert_close(out.total, out.loss.total + 0.5 * out.terms[DEPTH_SUPERVISION])
    off = forward_and_loss(FixedDepthNet(sigmoid), FixedPoseNet(), batch, model,
                           TrainLossConfig(scales=(0,), tie_noise=0.0))
    assert DEPTH_SUPERVISION not in off.terms


def test_a_few_training_steps_supervised_where_depth_exists(tiny_data, tmp_path):
    # tiny_data has depth_2 (the corridor's exact depth): one batch, the same every step.
    overrides = [*tiny_train_overrides(tiny_data, tmp_path), 'validate_every_epochs=0',
                 'loss.depth_supervision_weight=10', 'loss.depth_supervision_variance_focus=0',
                 'log_every_steps=1']
    summary = train(load_config(None, overrides))
    lines = (tmp_path / 'scalars.jsonl').read_text(encoding='utf-8').splitlines()
    term = [json.loads(line)[f'loss/{DEPTH_SUPERVISION}'] for line in lines]
    assert len(term) == summary.steps == 4
    assert all(math.isfinite(v) and v > 0 for v in term)
    assert term[-1] < term[0]
