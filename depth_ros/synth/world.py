"""A synthetic drive: road, scene and camera trajectory from one seed, rendered frame by frame.

The camera is KITTI-like: 10 Hz, mounted `camera_height_m` above a flat road, looking forward,
with Monodepth2's normalised KITTI intrinsics (fx = 0.58 W, fy = 1.92 H, cx = W / 2, cy = H / 2),
so networks trained on these frames see the geometry of the default KITTI training setup.
"""
from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
import logging
from typing import NamedTuple

import numpy as np

from depth_ros.errors import ConfigError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.synth.render import Tracer
from depth_ros.synth.road import CurvatureProfile, Road, RoadLayout
from depth_ros.synth.scene import Scene, build_scene
from depth_ros.synth.shading import FOG_END_M, shade
from depth_ros.synth.trajectory import SpeedProfile, Trajectory, make_trajectory


logger = logging.getLogger(__name__)

DEFAULT_CAMERA_HEIGHT_M = 1.65  # KITTI colour cameras
# Rays per pixel side (`Renderer`). A real camera's pixels integrate light over their area; one
# ray a pixel leaves silhouettes jagged, and the jags crawl from frame to frame where an
# odometry tracks corners (on seed 31337 they were most of the epipolar odometry's error:
# docs/learning/real_world_recipe.md, "Session 18"). So the world renders anti-aliased by
# default since session 19 (frames before it: supersample=1; its depth is the same either way).
DEFAULT_SUPERSAMPLE = 3
SCENE_START_M = -40.0
SCENE_AHEAD_M = 260.0  # past the last frame: more than the renderer's cull distance


class SynthFrame(NamedTuple):
    """One rendered frame."""

    rgb: np.ndarray             # [H, W, 3] uint8
    depth_m: np.ndarray         # [H, W] float32 z along the optical axis; 0 = sky or haze
    world_from_cam: np.ndarray  # [4, 4] float64, frame 0 = identity


@dataclass(frozen=True)
class SynthWorld:
    """Scene, trajectory and camera of a seeded drive."""

    seed: int
    scene: Scene
    trajectory: Trajectory
    intrinsics: Intrinsics

    @property
    def frames(self) -> int:
        return int(self.trajectory.times_s.size)


def synth_intrinsics(width: int, height: int) -> Intrinsics:
    """Monodepth2's normalised KITTI intrinsics at `width` x `height` pixels."""
    return Intrinsics(0.58 * width, 1.92 * height, 0.5 * width, 0.5 * height, int(width),
                      int(height))


def check_parameters(seed: int, frames: int, width: int, height: int,
                     camera_height_m: float, min_frames: int = 1) -> None:
    """Raise ConfigError for values the generator cannot honour."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f'seed must be a non-negative integer, got {seed!r}')
    if frames < min_frames:
        raise ConfigError(f'frames must be at least {min_frames}, got {frames}')
    if not (32 <= width <= 8192 and 16 <= height <= 8192):
        raise ConfigError(f'image size {width}x{height} is out of range: width must be in '
                          '[32, 8192] and height in [16, 8192] pixels')
    if not 0.3 <= camera_height_m <= 5.0:
        raise ConfigError(f'camera height {camera_height_m} m is out of range [0.3, 5.0]')


def check_supersample(supersample: int) -> None:
    """Raise ConfigError unless `supersample` is an odd count of rays per pixel side, 1-9."""
    if isinstance(supersample, bool) or supersample not in range(1, 10, 2):
        raise ConfigError(f'supersample must be an odd number of rays per pixel side, 1-9, '
                          f'got {supersample!r}')


def supersample_arg(text: str) -> int:
    """argparse `type=` for a rays-per-pixel-side option (`check_supersample`), or the parser's
    usage error (exit status 2) for a bad one."""
    try:
        value: int | str = int(text)
    except ValueError:
        value = text  # refused below, with the usual message
    try:
        check_supersample(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return int(value)


def make_world(seed: int, frames: int, width: int = 640, height: int = 192,
               camera_height_m: float = DEFAULT_CAMERA_HEIGHT_M) -> SynthWorld:
    """Build the road, the objects along it and the camera trajectory for `seed`."""
    check_parameters(seed, frames, width, height, camera_height_m)
    layout = RoadLayout()
    lane_offset = 0.5 * layout.lane_width_m  # centre of the right-hand lane
    speed = SpeedProfile.random(np.random.default_rng([seed, 11]))
    last_arc = float(speed.distance((frames - 1) * 0.1))
    road = Road(CurvatureProfile.random(np.random.default_rng([seed, 10])), SCENE_START_M - 40.0,
                last_arc + SCENE_AHEAD_M + 40.0, lane_offset, layout)
    trajectory = make_trajectory(road, speed, frames, lane_offset)
    scene = build_scene(seed, road, camera_height_m, SCENE_START_M, last_arc + SCENE_AHEAD_M)
    logger.debug('seed %d: %d objects over %.0f m of road', seed, len(scene.objects), last_arc)
    return SynthWorld(int(seed), scene, trajectory, synth_intrinsics(width, height))


class Renderer:
    """Renders frames of a world (ray casting + deferred shading).

    Args:
        world: what to render, at its intrinsics' size.
        supersample: odd k >= 1: k x k rays per pixel, their colours averaged (see
            DEFAULT_SUPERSAMPLE; 1: one ray, as before session 19, about 8x faster). The depth
            is the centre ray's, exactly the one-ray render's.
    """

    def __init__(self, world: SynthWorld, supersample: int = DEFAULT_SUPERSAMPLE) -> None:
        check_supersample(supersample)
        self.world, self.supersample = world, int(supersample)
        # Objects beyond the haze are invisible: their colour would be the haze colour.
        self._tracer = Tracer(world.scene, _finer(world.intrinsics, self.supersample),
                              max_distance_m=FOG_END_M)

    def render_pose(self, world_from_cam: np.ndarray,
                    arc_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rgb [H, W, 3] uint8, depth_m [H, W] float32) seen from any camera pose.

        Depth is 0 for sky and for surfaces beyond FOG_END_M, which the image shows as uniform
        haze.
        """
        gbuf = self._tracer.trace(world_from_cam, arc_m)
        rgb = shade(self.world.scene, gbuf, self._tracer.intrinsics.fx)
        depth, k = gbuf.depth_m(FOG_END_M), self.supersample
        if k == 1:
            return rgb, depth
        h, w = depth.shape[0] // k, depth.shape[1] // k
        mean = rgb.reshape(h, k, w, k, 3).mean(axis=(1, 3), dtype=np.float32)
        return np.round(mean).astype(np.uint8), np.ascontiguousarray(depth[k // 2::k, k // 2::k])

    def frame(self, index: int) -> SynthFrame:
        traj = self.world.trajectory
        pose = traj.world_from_cam[index]
        rgb, depth = self.render_pose(pose, float(traj.arc_m[index]))
        return SynthFrame(rgb, depth, pose.copy())


def render_sequence(seed: int, frames: int, width: int = 640, height: int = 192,
                    camera_height_m: float = DEFAULT_CAMERA_HEIGHT_M,
                    supersample: int = DEFAULT_SUPERSAMPLE) -> Iterator[SynthFrame]:
    """Render a seeded drive in memory, frame by frame (`supersample`: see `Renderer`).

    Yields:
        SynthFrame(rgb [H, W, 3] uint8, depth_m [H, W] float32 (z in metres; 0 = sky or farther
        than the 160 m haze), world_from_cam [4, 4] with frame 0 = identity), at 10 Hz. The
        intrinsics are `synth_intrinsics(width, height)`.
    """
    renderer = Renderer(make_world(seed, frames, width, height, camera_height_m), supersample)
    for i in range(frames):
        yield renderer.frame(i)


def _finer(intrinsics: Intrinsics, k: int) -> Intrinsics:
    """The intrinsics of a k-times finer pixel grid whose centre samples are the pixels' centres
    (pixel u of the coarse grid is pixel k * u + k // 2 of the fine one)."""
    if k == 1:
        return intrinsics
    return Intrinsics(intrinsics.fx * k, intrinsics.fy * k, (intrinsics.cx + 0.5) * k - 0.5,
                      (intrinsics.cy + 0.5) * k - 0.5, intrinsics.width * k,
                      intrinsics.height * k)
