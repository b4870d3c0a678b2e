"""Procedural street scene: buildings, parked cars, poles and trees placed along the road.

Objects are analytic primitives (yawed boxes, vertical cylinders, spheres) stored as rows of one
`Primitives` table sorted by arc length, so the renderer culls them with a binary search. Each
object family draws from its own random stream seeded by (seed, family, side) and walks forward
along the road, so a longer road only appends objects: the first frames of a long sequence equal
a short sequence with the same seed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from depth_ros.synth.noise import NoiseTable
from depth_ros.synth.road import Road


class Material(IntEnum):
    """Surface kind of an object; it also fixes the primitive's shape (see `SHAPE`)."""

    BUILDING = 0
    CAR_BODY = 1
    CAR_CABIN = 2
    POLE = 3
    TRUNK = 4
    CROWN = 5


class Shape(IntEnum):
    BOX = 0
    CYLINDER = 1
    SPHERE = 2


SHAPE = np.array([Shape.BOX, Shape.BOX, Shape.BOX, Shape.CYLINDER, Shape.CYLINDER, Shape.SPHERE])
N_PARAMS = 6

_FACADE_COLOURS = np.array([
    (0.56, 0.26, 0.19), (0.63, 0.33, 0.22), (0.46, 0.23, 0.18),  # brick
    (0.86, 0.79, 0.63), (0.80, 0.61, 0.37), (0.61, 0.69, 0.76),  # plaster
    (0.87, 0.86, 0.82), (0.83, 0.62, 0.58), (0.62, 0.62, 0.60),
    (0.66, 0.64, 0.60), (0.50, 0.51, 0.53), (0.72, 0.70, 0.52),  # concrete
])
CAR_COLOURS = np.array([
    (0.88, 0.88, 0.87), (0.70, 0.71, 0.73), (0.12, 0.12, 0.13), (0.62, 0.10, 0.09),
    (0.14, 0.24, 0.52), (0.32, 0.33, 0.35), (0.20, 0.38, 0.27), (0.80, 0.66, 0.20),
])


@dataclass(frozen=True)
class Primitives:
    """N scene objects, rows sorted by arc length.

    Attributes:
        material: [N] `Material` codes.
        centre: [N, 3] world centre in metres.
        half: [N, 3] half extents in the object's frame (box: x across, y down, z along the
            road; cylinder: (r, half height, r); sphere: (r, r, r)).
        yaw: [N] rotation about +y of the object's frame, radians.
        colour: [N, 3] base albedo in [0, 1].
        params: [N, N_PARAMS] material parameters (window grid, style, texture offset, ...).
        arc: [N] arc length of the object's centre along the road, metres.
    """

    material: np.ndarray
    centre: np.ndarray
    half: np.ndarray
    yaw: np.ndarray
    colour: np.ndarray
    params: np.ndarray
    arc: np.ndarray

    def __len__(self) -> int:
        return int(self.material.size)

    @property
    def max_reach_m(self) -> float:
        """Largest horizontal half extent: the margin when culling by arc length."""
        return float(np.max(self.half[:, [0, 2]])) if len(self) else 0.0


@dataclass(frozen=True)
class Scene:
    """Everything the renderer needs; world frame = first camera's optical frame (y down)."""

    road: Road
    objects: Primitives
    noise: NoiseTable
    camera_height_m: float
    sun_dir: np.ndarray  # [3] unit vector towards the sun (world)


class Vehicle(NamedTuple):
    """A car or van standing on the road.

    Attributes:
        s_mid, d: arc length of its middle and lateral offset (right > 0), metres.
        length, width, body_h: its body's size (a van's body is all of it), metres.
        colour: base albedo.
        yaw: heading relative to the road's (0: along it, pi: against it), radians.
        texture: texture offset.
        cabin: (shift along the body, height, length) of a car's cabin in metres; None: a van.
    """

    s_mid: float
    d: float
    length: float
    width: float
    body_h: float
    colour: tuple[float, float, float]
    yaw: float = 0.0
    texture: float = 0.0
    cabin: tuple[float, float, float] | None = None


class _Builder:
    """Accumulates objects placed by road coordinates; positions are resolved in one pass."""

    def __init__(self, road: Road, ground_y: float) -> None:
        self.road, self.ground_y = road, ground_y
        self.rows: list[tuple] = []

    def add(self, material: Material, s: float, d: float, bottom_m: float,
            half: tuple[float, float, float], colour: Sequence[float],
            params: Sequence[float] = (), yaw_offset: float = 0.0) -> None:
        """One object at arc length s, lateral offset d, its bottom `bottom_m` above ground."""
        p = np.zeros(N_PARAMS)
        p[:len(params)] = params
        self.rows.append((int(material), float(s), float(d), float(bottom_m), half,
                          float(yaw_offset), tuple(colour), p))

    def table(self) -> Primitives:
        """All objects as a `Primitives` table sorted by arc length."""
        if not self.rows:
            z3 = np.zeros((0, 3))
            return Primitives(np.zeros(0, np.int8), z3, z3, np.zeros(0), z3.astype(np.float32),
                              np.zeros((0, N_PARAMS), np.float32), np.zeros(0))
        mat, s, d, bottom, half, yaw_offset, colour, params = (np.array(c)
                                                               for c in zip(*self.rows))
        x, z = self.road.point(s, d)
        centre = np.stack([x, self.ground_y - bottom - half[:, 1], z], axis=1)
        yaw = self.road.heading(s) + yaw_offset
        order = np.argsort(s, kind='stable')
        return Primitives(mat[order].astype(np.int8), centre[order], half[order], yaw[order],
                          colour[order].astype(np.float32), params[order].astype(np.float32),
                          s[order])


def build_scene(seed: int, road: Road, camera_height_m: float, s_start: float,
                s_end: float) -> Scene:
    """Populate [s_start, s_end] of the road with objects drawn from `seed`."""
    builder = _Builder(road, camera_height_m)
    for side in (1, -1):
        tag = 0 if side > 0 else 1
        _buildings(np.random.default_rng([seed, 1, tag]), builder, side, s_start, s_end, 0.0)
        _buildings(np.random.default_rng([seed, 2, tag]), builder, side, s_start, s_end, 13.0)
        _parked_cars(np.random.default_rng([seed, 3, tag]), builder, side, s_start, s_end)
        _poles(np.random.default_rng([seed, 4, tag]), builder, side, s_start, s_end)
        _trees(np.random.default_rng([seed, 5, tag]), builder, side, s_start, s_end)
    sun_rng = np.random.default_rng([seed, 6])
    azimuth, elevation = sun_rng.uniform(0.0, 2.0 * np.pi), sun_rng.uniform(0.5, 1.0)
    sun = np.array([np.cos(elevation) * np.sin(azimuth), -np.sin(elevation),
                    np.cos(elevation) * np.cos(azimuth)])
    return Scene(road, builder.table(), NoiseTable(seed), float(camera_height_m), sun)


def with_vehicles(scene: Scene, vehicles: Sequence[Vehicle]) -> Scene:
    """`scene` with `vehicles` added (e.g. a traffic queue in the driving lanes)."""
    builder = _Builder(scene.road, scene.camera_height_m)
    for vehicle in vehicles:
        _add_vehicle(builder, vehicle)
    extra, old = builder.table(), scene.objects
    order = np.argsort(np.concatenate([old.arc, extra.arc]), kind='stable')
    merged = Primitives(*(np.concatenate([getattr(old, name), getattr(extra, name)])[order]
                          for name in Primitives.__dataclass_fields__))
    return replace(scene, objects=merged)


def _add_vehicle(b: _Builder, v: Vehicle) -> None:
    """A body box 0.12 m above the road (wheels), and a car's cabin on it."""
    params = (float(v.cabin is None), v.texture)
    b.add(Material.CAR_BODY, v.s_mid, v.d, 0.12, (0.5 * v.width, 0.5 * v.body_h, 0.5 * v.length),
          v.colour, params, v.yaw)
    if v.cabin is not None:
        shift, height, length = v.cabin
        b.add(Material.CAR_CABIN, v.s_mid + shift, v.d, 0.12 + v.body_h,
              (0.5 * v.width - 0.08, 0.5 * height, 0.5 * length), v.colour, params, v.yaw)


def _buildings(rng: np.random.Generator, b: _Builder, side: int, s: float, s_end: float,
               extra_setback: float) -> None:
    """A row of facades; `extra_setback` > 0 makes a taller back row seen through gaps."""
    back = extra_setback > 0
    facade_d = b.road.layout.sidewalk_end_m + extra_setback
    while s < s_end:
        length = rng.uniform(14.0, 36.0) if back else rng.uniform(8.0, 26.0)
        depth = rng.uniform(8.0, 14.0)
        height = rng.uniform(14.0, 34.0) if back else rng.uniform(6.0, 24.0)
        setback = rng.uniform(0.0, 2.5)
        style = int(rng.integers(0, 3))
        colour = _FACADE_COLOURS[3 * style + int(rng.integers(0, 3)) if style < 2
                                 else 9 + int(rng.integers(0, 3))]
        colour = np.clip(colour * rng.uniform(0.85, 1.1), 0.0, 1.0)
        params = (style, rng.uniform(2.4, 3.8), rng.uniform(2.8, 3.4), rng.uniform(0.9, 1.5),
                  rng.uniform(1.2, 1.8), rng.uniform(0.0, 200.0))
        d = side * (facade_d + setback + 0.5 * depth)
        b.add(Material.BUILDING, s + 0.5 * length, d, 0.0, (0.5 * depth, 0.5 * height,
                                                             0.5 * length), colour, params)
        gap = rng.uniform(2.0, 9.0) if rng.random() < 0.25 else rng.uniform(0.0, 0.4)
        s += length + gap


def _parked_cars(rng: np.random.Generator, b: _Builder, side: int, s: float,
                 s_end: float) -> None:
    layout = b.road.layout
    lane_d = layout.lane_width_m + 0.5 * layout.parking_width_m
    while s < s_end:
        s += rng.uniform(1.0, 6.0) if rng.random() < 0.7 else rng.uniform(10.0, 30.0)
        length, width = rng.uniform(3.9, 4.8), rng.uniform(1.70, 1.88)
        van = rng.random() < 0.15
        body_h = rng.uniform(1.6, 1.95) if van else rng.uniform(0.68, 0.8)
        colour = CAR_COLOURS[int(rng.integers(0, len(CAR_COLOURS)))]
        yaw = (0.0 if side > 0 else np.pi) + rng.normal(0.0, 0.03)
        d = side * (lane_d + rng.uniform(-0.2, 0.2))
        texture = rng.uniform(0.0, 200.0)
        cabin = None
        if not van:
            cabin_len = length * rng.uniform(0.45, 0.58)
            shift = -side * rng.uniform(0.05, 0.35)  # cabin sits towards the rear
            cabin = (shift, rng.uniform(0.48, 0.6), cabin_len)
        _add_vehicle(b, Vehicle(s + 0.5 * length, d, length, width, body_h, tuple(colour),
                               yaw, texture, cabin))
        s += length


def _poles(rng: np.random.Generator, b: _Builder, side: int, s: float, s_end: float) -> None:
    d = side * (b.road.layout.sidewalk_start_m + 0.45)
    s += rng.uniform(0.0, 20.0)
    while s < s_end:
        radius, height = rng.uniform(0.08, 0.14), rng.uniform(5.5, 8.5)
        colour = (0.42, 0.44, 0.45) if rng.random() < 0.7 else (0.20, 0.30, 0.24)
        b.add(Material.POLE, s, d, 0.0, (radius, 0.5 * height, radius), colour,
              (rng.uniform(0.0, 200.0),))
        s += rng.uniform(18.0, 35.0)


def _trees(rng: np.random.Generator, b: _Builder, side: int, s: float, s_end: float) -> None:
    d0 = side * (b.road.layout.sidewalk_start_m + 1.3)
    while s < s_end:
        s += rng.uniform(6.0, 14.0) if rng.random() < 0.6 else rng.uniform(20.0, 45.0)
        d = d0 + rng.uniform(-0.2, 0.2)
        trunk_r, trunk_h = rng.uniform(0.12, 0.2), rng.uniform(2.4, 3.4)
        crown_r = rng.uniform(1.3, 2.2)
        offset = rng.uniform(0.0, 200.0)
        bark = np.array((0.36, 0.27, 0.19)) * rng.uniform(0.8, 1.15)
        leaves = np.array((0.22, 0.38, 0.14)) * rng.uniform(0.75, 1.2, size=3)
        b.add(Material.TRUNK, s, d, 0.0, (trunk_r, 0.5 * trunk_h, trunk_r), bark, (offset,))
        b.add(Material.CROWN, s, d, trunk_h - 0.4 * crown_r, (crown_r,) * 3, leaves,
              (offset,))
