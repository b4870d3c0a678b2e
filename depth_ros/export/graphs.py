"""The modules that are traced into deployable graphs: one output per graph, plain tensors only.

`DepthGraph` exposes the depth network's full-resolution output, either the decoder's sigmoid
(`sigmoid`, what every backend returns) or metric depth (`depth_m`, for consumers that want
metres straight from the graph). Graphs exported before the rename call the sigmoid output
`inv_depth`; `depth_output_name` reads that name as `sigmoid`. `PoseGraph` exposes the pose
network's 4x4 matrix for an ordered image pair.
"""
from __future__ import annotations

import warnings

import torch
from torch import nn

from depth_ros.errors import ConfigError
from depth_ros.geometry.poses import pose_from_parameters
from depth_ros.geometry.projection import inv_depth_to_depth


# Names of the graphs' inputs and outputs (the contract with the backends and with users).
DEPTH_INPUT = 'images'
POSE_INPUTS = ('first', 'second')
POSE_OUTPUT = 'matrix'
DEPTH_OUTPUTS = ('sigmoid', 'depth_m')
SIGMOID_OUTPUT = 'sigmoid'
# The sigmoid output's old name: accepted for one release, with a warning when asked for.
LEGACY_SIGMOID_OUTPUT = 'inv_depth'


def depth_output_name(name: str, *, warn: bool = True) -> str:
    """`name` as one of DEPTH_OUTPUTS: the legacy 'inv_depth' is read as 'sigmoid' (with a
    FutureWarning when `warn`: a user asked for it); anything else is a ConfigError."""
    if name == LEGACY_SIGMOID_OUTPUT:
        if warn:
            warnings.warn("the depth output 'inv_depth' is now called 'sigmoid' (it is the "
                          "network's sigmoid, not inverse depth); 'inv_depth' will be refused "
                          'in the next release', FutureWarning, stacklevel=3)
        return SIGMOID_OUTPUT
    if name not in DEPTH_OUTPUTS:
        raise ConfigError(f'depth graph output must be one of {DEPTH_OUTPUTS}, got {name!r}')
    return name


class DepthGraph(nn.Module):
    """images [B,3,H,W] float32 in [0,1] -> one [B,1,H,W] float32 map.

    Args:
        depth_net: a registry depth network returning `DepthOutput`.
        output: 'sigmoid' for the sigmoid map in [0,1] (map it with
            `inv_depth_to_depth(x, min_depth, max_depth)`), or 'depth_m' for depth in metres:
            metres_per_unit / (1/max_depth + (1/min_depth - 1/max_depth) * sigmoid).
        min_depth, max_depth, metres_per_unit: the checkpoint's depth range and calibration
            (used by 'depth_m' only).
        half: run the network in float16 (weights must already be float16); inputs and outputs
            stay float32 so the graph's interface does not change with precision.
    """

    def __init__(self, depth_net: nn.Module, output: str = SIGMOID_OUTPUT,
                 min_depth: float = 0.1, max_depth: float = 100.0,
                 metres_per_unit: float = 1.0, half: bool = False) -> None:
        super().__init__()
        self.depth_net = depth_net
        self.output = depth_output_name(output)
        self.min_depth, self.max_depth = float(min_depth), float(max_depth)
        self.metres_per_unit = float(metres_per_unit)
        self.half = half

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.half() if self.half else images
        sigmoid = self.depth_net(x).sigmoids[0].float()
        if self.output == SIGMOID_OUTPUT:
            return sigmoid
        _, depth = inv_depth_to_depth(sigmoid, self.min_depth, self.max_depth)
        return depth * self.metres_per_unit


class PoseGraph(nn.Module):
    """(first, second) [B,3,H,W] float32 in [0,1] -> matrix [B,4,4] float32.

    `matrix` is `PoseNet.forward(first, second)`: second_from_first for the ordered pair, with
    translation in network units (multiply by metres_per_unit for metres). For consecutive frames
    fed in temporal order it is current_from_previous, as the Backend protocol's `pose` returns.
    """

    def __init__(self, pose_net: nn.Module, half: bool = False) -> None:
        super().__init__()
        self.pose_net = pose_net
        self.half = half

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        if not self.half:
            return self.pose_net(first, second)
        params = self.pose_net.predict_parameters(first.half(), second.half())
        # The 4x4 assembly (Rodrigues) stays in float32: it is cheap and fp16 loses precision.
        return pose_from_parameters(params.axis_angle.float(), params.translation.float())
