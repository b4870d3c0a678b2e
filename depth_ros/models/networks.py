"""Depth and pose networks assembled from an encoder and a decoder."""
from __future__ import annotations

import torch
from torch import nn

from depth_ros.errors import ConfigError
from depth_ros.geometry.poses import pose_from_parameters
from depth_ros.models.outputs import DepthOutput, PoseParameters


class PartlyFrozen(nn.Module):
    """A network whose named submodules can be frozen (`freeze`): no gradients, and eval mode
    (frozen BatchNorm statistics, no dropout) in whatever mode the network is put."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen_parts: tuple[str, ...] = ()

    def freeze(self, name: str) -> PartlyFrozen:
        """Freeze submodule `name` in place. Build the optimiser after this call, or over the
        parameters that still require gradients. Returns the network."""
        getattr(self, name).requires_grad_(False)
        self.frozen_parts += (name,)
        return self.train(self.training)

    def train(self, mode: bool = True) -> PartlyFrozen:
        super().train(mode)
        for name in self.frozen_parts:
            getattr(self, name).eval()
        return self


class DepthNet(PartlyFrozen):
    """Encoder + multi-scale decoder: images [B,3,H,W] in [0,1] -> `DepthOutput`.

    H and W must be multiples of 32 (the encoder's total stride).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, images: torch.Tensor) -> DepthOutput:
        return DepthOutput(sigmoids=list(self.decoder(self.encoder(images))))


def freeze_encoder(net: nn.Module) -> DepthNet:
    """Freeze a depth network's encoder (`PartlyFrozen.freeze`), so that training adapts only
    its decoder. Returns `net`.

    Raises:
        ConfigError: `net` is not an encoder-decoder `DepthNet` (e.g. the dual network).
    """
    if not isinstance(net, DepthNet):
        raise ConfigError(f'freeze_encoder needs an encoder-decoder depth network, got '
                          f'{type(net).__name__}')
    return net.freeze('encoder')


class PoseNet(nn.Module):
    """Separate pose encoder over a stacked image pair + pose decoder.

    `forward(target, source)` returns source_from_target [B,4,4]: it maps points in the target
    camera into the source camera, i.e. Monodepth2's transformation_from_parameters(axisangle,
    translation, invert=False) for the pair. For consecutive frames (t, t+1) that is the
    camera motion (t+1)_from_t, and the inverse, t_from_(t+1), places frame t+1 in frame t.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def predict_parameters(self, first: torch.Tensor, second: torch.Tensor) -> PoseParameters:
        """Raw axis-angle and translation for the ordered pair (first, second), each [B,3,H,W]."""
        return self.decoder(self.encoder(torch.cat([first, second], dim=1)))

    def forward(self, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        params = self.predict_parameters(target, source)
        return pose_from_parameters(params.axis_angle, params.translation, invert=False)


class AntisymmetricPoseNet(PoseNet):
    """A pose network whose answer for (b, a) is minus its answer for (a, b).

    The pair is read in both orders (one batch of 2B) and half the difference of the two raw
    outputs is returned, so an image paired with itself gives exactly zero motion and no
    constant ("always drive forward") survives: motion must come from what differs between the
    images. For the small motions between video frames, minus the parameters is the inverse
    motion to first order (exact for the rotation). Costs two encoder passes per pair; the
    weights are those of the plain `PoseNet` with the same encoder and decoder.
    """

    def predict_parameters(self, first: torch.Tensor, second: torch.Tensor) -> PoseParameters:
        both = torch.cat([torch.cat([first, second], dim=1),
                          torch.cat([second, first], dim=1)], dim=0)
        return half_difference(self.decoder(self.encoder(both)))


def half_difference(raw: PoseParameters) -> PoseParameters:
    """The antisymmetric reading of a batch of 2B raw outputs: the first B for pairs (a, b), the
    last B for the same pairs swapped; half of (a, b) minus (b, a)."""
    n = raw.axis_angle.shape[0] // 2
    return PoseParameters(axis_angle=0.5 * (raw.axis_angle[:n] - raw.axis_angle[n:]),
                          translation=0.5 * (raw.translation[:n] - raw.translation[n:]))
