"""FA-Depth pyramid loss: multi-resolution inputs, flip and colour consistency."""
import pytest
import torch
from torch import nn
import torch.nn.functional as F
from toy_corridor import FixedPoseNet, write_toy_sequence

from depth_ros.errors import ConfigError
from depth_ros.models.outputs import DepthOutput
from training.config import ModelConfig, TrainLossConfig, load_config
from training.data.sample import Sample
from training.losses.pyramid import (
    COLOUR,
    FLIP,
    RESOLUTION,
    PyramidConfig,
    colour_consistency,
    flip_consistency,
    perturb_colours,
    snapped_size,
)
from training.step import forward_and_loss
from training.trainer import train


SCALES = (0, 1, 2, 3)
DEPTH_RANGE = (0.1, 100.0)


class ConvDepthNet(nn.Module):
    """A conv + sigmoid at full resolution; lower scales by 2x2 average pooling.

    With kernel width 1 it is exactly equivariant to mirroring; a 1x3 kernel that is not
    symmetric makes it not.
    """

    def __init__(self, kernel_width: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 1, (1, kernel_width), padding=(0, kernel_width // 2))
        with torch.no_grad():
            weights = torch.linspace(-2.0, 3.0, 3 * kernel_width).view(self.conv.weight.shape)
            self.conv.weight.copy_(weights)
            self.conv.bias.fill_(-0.5)

    def forward(self, images):
        maps = [torch.sigmoid(self.conv(images))]
        for _ in SCALES[1:]:
            maps.append(F.avg_pool2d(maps[-1], 2))
        return DepthOutput(maps)


class ColourBlindDepthNet(nn.Module):
    """Depends on where a pixel is, never on its colour."""

    def __init__(self) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.linspace(-1, 1, 32 * 64).view(1, 1, 32, 64))

    def forward(self, images):
        maps = [torch.sigmoid(self.logits).expand(images.shape[0], 1, -1, -1)]
        for _ in SCALES[1:]:
            maps.append(F.avg_pool2d(maps[-1], 2))
        return DepthOutput(maps)



def _sample(batch=2, height=64, width=128, seed=0) -> Sample:
    generator = torch.Generator().manual_seed(seed)
    frames = torch.rand(batch, 3, 3, height, width, generator=generator)
    images = [frames]
    for _ in SCALES[1:]:
        images.append(F.avg_pool2d(images[-1].flatten(0, 1), 2).view(
            batch, 3, 3, *[s // 2 for s in images[-1].shape[-2:]]))
    k = torch.tensor([[60.0, 0, width / 2, 0], [0, 60.0, height / 2, 0], [0, 0, 1, 0],
                      [0, 0, 0, 1]]).expand(batch, 4, 4)
    return Sample((0, -1, 1), images, frames, k, None, torch.arange(batch))


def _images(seed=0):
    return torch.rand(2, 3, 32, 64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('size,fraction,expected', [
    ((192, 640), 0.5, (96, 320)),
    ((96, 320), 0.75, (64, 256)),
    ((64, 128), 1.0, (64, 128)),
    ((64, 128), 0.1, (32, 32)),
])
def test_snapped_size_known_values(size, fraction, expected):
    assert snapped_size(*size, fraction) == expected


def test_flip_consistency_is_zero_for_a_flip_equivariant_net():
    net, images = ConvDepthNet(kernel_width=1), _images()
    reference = net(images).sigmoids
    value = flip_consistency(net, images, reference, SCALES, *DEPTH_RANGE)
    assert float(value.detach()) < 1e-6


def test_flip_consistency_is_positive_for_a_net_that_is_not_equivariant():
    net, images = ConvDepthNet(kernel_width=3), _images()
    reference = net(images).sigmoids
    value = flip_consistency(net, images, reference, SCALES, *DEPTH_RANGE)
    assert float(value.detach()) > 1e-2


def test_colour_consistency_is_zero_for_a_net_that_ignores_colour():
    config = PyramidConfig(colour_weight=1.0, brightness=0.5, saturation=0.5, hue=0.3)
    net, images = ColourBlindDepthNet(), _images()
    reference = net(images).sigmoids
    generator = torch.Generator().manual_seed(3)
    value = colour_consistency(net, images, reference, SCALES, *DEPTH_RANGE, config, generator)
    assert float(value.detach()) == 0
    # The same perturbation does change a colour-sensitive net's prediction.
    colour_net = ConvDepthNet()
    reference = colour_net(images).sigmoids
    generator = torch.Generator().manual_seed(3)
    value = colour_consistency(colour_net, images, reference, SCALES, *DEPTH_RANGE, config,
                               generator)
    assert float(value.detach()) > 1e-3


def test_colour_perturbation_is_seeded_and_drawn_per_image():
    config = PyramidConfig(colour_weight=1.0)
    images = _images()
    first = perturb_colours(images, config, torch.Generator().manual_seed(5))
    again = perturb_colours(images, config, torch.Generator().manual_seed(5))
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.allclose(first, images)
    # Two copies of one image get different draws.
    pair = perturb_colours(images[:1].expand(2, -1, -1, -1), config,
                           torch.Generator().manual_seed(5))
    assert not torch.allclose(pair[0], pair[1])


def _step(pyramid: PyramidConfig, net=None, scales=SCALES):
    loss = TrainLossConfig(scales=scales, tie_noise=0.0, pyramid=pyramid)
    return forward_and_loss(net or ConvDepthNet(3), FixedPoseNet(), _sample(), ModelConfig(),
                            loss, colour_generator=torch.Generator().manual_seed(0))


def test_full_resolution_input_term_equals_the_main_loss():
    out = _step(PyramidConfig(input_scales=(1.0,)))
    assert set(out.terms) == {RESOLUTION}
    torch.testing.assert_close(out.terms[RESOLUTION], out.loss.total, rtol=0, atol=0)
    torch.testing.assert_close(out.total, 2 * out.loss.total)


def test_lower_input_resolution_gives_another_loss_and_weights_add_up():
    config = PyramidConfig(input_scales=(0.75, 0.5), resolution_weight=0.5, flip_weight=0.2,
                           colour_weight=0.1)
    out = _step(config)
    assert set(out.terms) == {RESOLUTION, FLIP, COLOUR}
    assert abs(float((out.terms[RESOLUTION] - out.loss.total).detach())) > 1e-5
    expected = (out.loss.total + 0.5 * out.terms[RESOLUTION] + 0.2 * out.terms[FLIP]
                + 0.1 * out.terms[COLOUR])
    torch.testing.assert_close(out.total, expected)


def test_off_by_default_the_total_is_monodepth2s_loss():
    out = _step(PyramidConfig())
    assert out.terms == {} and out.total is out.loss.total


@pytest.mark.parametrize('name', [RESOLUTION, FLIP, COLOUR])
def test_gradients_reach_the_depth_network(name):
    weights = {RESOLUTION: {'input_scales': (0.5,)}, FLIP: {'flip_weight': 1.0},
               COLOUR: {'colour_weight': 1.0}}[name]
    net = ConvDepthNet(3)
    out = _step(PyramidConfig(**weights), net=net)
    out.terms[name].backward()
    grad = net.conv.weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


@pytest.mark.parametrize('override,match', [
    ('loss.pyramid.input_scales=[0]', 'input_scales must be distinct fractions'),
    ('loss.pyramid.input_scales=[1.5]', 'input_scales must be distinct fractions'),
    ('loss.pyramid.input_scales=[0.5, 0.5]', 'input_scales must be distinct fractions'),
    ('loss.pyramid.flip_weight=-1', 'flip_weight must be a finite value >= 0'),
    ('loss.pyramid.colour_weight=.nan', 'colour_weight must be a finite value >= 0'),
    ('loss.pyramid.resolution_weight=-0.1', 'resolution_weight'),
    ('loss.pyramid.brightness=1.2', r'brightness must be in \[0, 1\)'),
    ('loss.pyramid.hue=0.7', 'hue must be in'),
    ('loss.pyramid.bogus=1', "unknown config key 'loss.pyramid.bogus'"),
])
def test_bad_values_are_config_errors(override, match):
    with pytest.raises(ConfigError, match=match):
        load_config(None, ['data.path=/data', 'data.kind=kitti_odometry',
                           'data.sequences=["00"]', override])



def test_a_few_training_steps_with_every_pyramid_term(tmp_path, logged_scalar_tags):
    data = write_toy_sequence(tmp_path / 'data', frames=4, width=256, height=96)
    config = load_config(None, [
        'data.kind=kitti_odometry', f'data.path={data}', 'data.sequences=["00"]',
        'data.height=64', 'data.width=128', 'model.depth_arch=smalldepth',
        'model.pose_arch=pose_lite', 'optim.batch_size=2', 'optim.epochs=2', 'num_workers=0',
        'validate_every_epochs=0', 'image_every_steps=0', 'log_every_steps=1',
        'loss.pyramid.input_scales=[0.5]', 'loss.pyramid.flip_weight=0.1',
        'loss.pyramid.colour_weight=0.1', f'output_dir={tmp_path / "run"}'])
    summary = train(config)
    assert summary.steps == 2 and all(torch.isfinite(torch.tensor(summary.losses)))
    assert {'loss/total', 'loss/pyramid_resolution', 'loss/pyramid_flip',
            'loss/pyramid_colour'} <= logged_scalar_tags
