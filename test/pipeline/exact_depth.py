"""The synthetic street with exact depth, for the epipolar odometry's tests: its frames, a
depth-only predictor returning their exact depth, and the odometry stepped through them."""
from types import SimpleNamespace

import numpy as np

from depth_ros.pipeline.epipolar import EpipolarOdometry, grey_image
from depth_ros.pipeline.epipolar_config import EpipolarConfig
from depth_ros.synth import render_sequence, synth_intrinsics


SECOND = 1_000_000_000


def synthetic_street():
    """Six frames of the synthetic street (640x192): images, exact depth, true poses."""
    return list(render_sequence(2026, 6, 640, 192)), synth_intrinsics(640, 192)


def with_depth(frame, depth_m: np.ndarray) -> SimpleNamespace:
    """The frame's image and pose with another depth (what a network might predict)."""
    return SimpleNamespace(rgb=frame.rgb, depth_m=depth_m, world_from_cam=frame.world_from_cam)


def epipolar_steps(frames, intr, depth_factor: float = 1.0,
                   config: EpipolarConfig | None = None):
    """`EpipolarOdometry.step` over the frames in order, with their depth times the factor."""
    odometry, steps = EpipolarOdometry(config), []
    for frame in frames:
        steps.append(odometry.step(grey_image(frame.rgb), frame.depth_m * depth_factor, intr))
    return steps


class ExactDepth:
    """Depth-only predictor stand-in returning the synthetic world's exact depth of a frame."""

    has_pose = False

    def __init__(self, frames) -> None:
        self.frames = frames

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        return rgb

    def predict(self, rgb: np.ndarray) -> SimpleNamespace:
        depth = next(f.depth_m for f in self.frames if f.rgb is rgb)
        with np.errstate(divide='ignore'):  # the sky has no depth
            return SimpleNamespace(depth_m=depth, inv_depth_m=np.reciprocal(depth))
