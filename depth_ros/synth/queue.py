"""A traffic queue in the synthetic world: the road ahead hidden by vehicles, with exact depth.

The seed's street (`make_world`) with a queue of cars and vans standing in the camera's lane
from `start_gap_m` ahead, a row of vans and lorries in the other lane from beside the camera,
and the camera creeping towards the queue at constant speed until the car ahead is `end_gap_m`
away. It is what the camera-height scale finds hardest (the road it fits is hidden, as in
KITTI's stop-and-go drive: `benchmarks/scale_gate.py`), with the true depth known every frame.
"""
from __future__ import annotations

import numpy as np

from depth_ros.errors import ConfigError
from depth_ros.synth.scene import CAR_COLOURS, Vehicle, with_vehicles
from depth_ros.synth.trajectory import Trajectory, camera_poses, frame_times
from depth_ros.synth.world import DEFAULT_CAMERA_HEIGHT_M, SynthWorld, make_world


QUEUE_LENGTH = 6  # vehicles in each lane


def make_queue_world(seed: int, frames: int, width: int = 640, height: int = 192,
                     camera_height_m: float = DEFAULT_CAMERA_HEIGHT_M, start_gap_m: float = 14.0,
                     end_gap_m: float = 2.5) -> SynthWorld:
    """The street of `seed` with a queue ahead; the camera creeps from `start_gap_m` to
    `end_gap_m` behind the rear of the car ahead over `frames` frames (10 Hz).

    Raises:
        ConfigError: gaps not 0 < end_gap_m <= start_gap_m, or fewer than 2 frames.
    """
    if not 0.0 < end_gap_m <= start_gap_m:
        raise ConfigError(f'expected 0 < end_gap_m <= start_gap_m, got {end_gap_m}, '
                          f'{start_gap_m}')
    if frames < 2:
        raise ConfigError(f'a queue drive needs at least 2 frames, got {frames}')
    world = make_world(seed, frames, width, height, camera_height_m)
    road = world.scene.road
    lane = 0.5 * road.layout.lane_width_m
    rng = np.random.default_rng([seed, 20])
    vehicles = _lane(rng, start_gap_m, lane, lorries=False)
    vehicles += _lane(rng, -3.0, -lane, lorries=True)
    times = frame_times(frames)
    arc = np.linspace(0.0, start_gap_m - end_gap_m, frames)
    poses = camera_poses(road, arc, lane)
    poses[0] = np.eye(4)  # exact by construction, as make_trajectory's
    speed = np.full(frames, (start_gap_m - end_gap_m) / max(times[-1], 1e-9))
    scene = with_vehicles(world.scene, vehicles)
    return SynthWorld(world.seed, scene, Trajectory(times, arc, speed, poses), world.intrinsics)


def gap_m(world: SynthWorld, start_gap_m: float = 14.0) -> np.ndarray:
    """[K] distance from the camera to the rear of the car ahead (the queue's
    `start_gap_m` minus the distance crept)."""
    return start_gap_m - world.trajectory.arc_m


def _lane(rng: np.random.Generator, rear_s: float, d: float, lorries: bool) -> list[Vehicle]:
    """QUEUE_LENGTH vehicles one behind the other from `rear_s` on, 0.8-2.5 m apart; with
    `lorries` mostly vans and lorries (2.4-3.4 m tall), else mostly cars."""
    vehicles, s = [], rear_s
    for _ in range(QUEUE_LENGTH):
        tall = rng.random() < (0.7 if lorries else 0.15)
        length = rng.uniform(6.0, 11.0) if tall and lorries else rng.uniform(3.9, 4.8)
        width = rng.uniform(1.9, 2.4) if tall else rng.uniform(1.70, 1.88)
        body_h = rng.uniform(2.4, 3.4) if tall and lorries else (
            rng.uniform(1.6, 1.95) if tall else rng.uniform(0.68, 0.8))
        colour = tuple(float(c) for c in CAR_COLOURS[int(rng.integers(0, len(CAR_COLOURS)))])
        cabin = None if tall else (-rng.uniform(0.05, 0.35), rng.uniform(0.48, 0.6),
                                   length * rng.uniform(0.45, 0.58))
        vehicles.append(Vehicle(s + 0.5 * length, d, length, width, body_h, colour,
                                rng.normal(0.0, 0.02), rng.uniform(0.0, 200.0), cabin))
        s += length + rng.uniform(0.8, 2.5)
    return vehicles
