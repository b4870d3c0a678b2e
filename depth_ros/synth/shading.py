"""Deferred shading of a traced frame: surface coordinates, albedo, Lambertian sun, distance haze.

Lighting is view-independent (ambient + diffuse from one fixed sun, no specular, no per-frame
change), so a surface point has the same colour in every frame: brightness constancy holds except
where the haze, a function of distance only, starts beyond FOG_START_M.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_ros.synth import materials
from depth_ros.synth.arrays import put_rows, take_rows
from depth_ros.synth.render import GROUND, SKY, GBuffer
from depth_ros.synth.scene import Material, Scene


AMBIENT = 0.55
DIFFUSE = 0.6
FOG_START_M = 90.0
FOG_END_M = 160.0
HORIZON = np.array([0.80, 0.84, 0.89], np.float32)
ZENITH = np.array([0.32, 0.51, 0.80], np.float32)

_Shaded = tuple[np.ndarray, np.ndarray]  # albedo [N, 3], world normal [3, N]


@dataclass(frozen=True)
class _Hits:
    """Pixels of one surface kind: camera-relative hit points and viewing geometry."""

    idx: np.ndarray      # [N] flat pixel indices
    point: np.ndarray    # [3, N] hit point minus camera origin, metres
    ray: np.ndarray      # [3, N] unit ray direction
    dist: np.ndarray     # [N] distance from the camera, metres
    base_fp: np.ndarray  # [N] footprint of a pixel facing the ray, metres

    def footprints(self, normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(across, along): footprint across the ray and stretched along it by the slant."""
        cos = np.abs(np.sum(normal * self.ray, axis=0))
        return self.base_fp, self.base_fp / np.maximum(cos, 0.03)


def shade(scene: Scene, gbuf: GBuffer, focal_px: float) -> np.ndarray:
    """RGB image [H, W, 3] uint8 of a traced frame."""
    h, w = gbuf.t.shape
    obj, t = gbuf.obj.ravel(), gbuf.t.ravel()
    dirs = gbuf.dirs.reshape(3, -1)
    code = np.where(obj >= 0, np.take(scene.objects.material, np.maximum(obj, 0)), obj)
    rgb = np.empty((h * w, 3), dtype=np.float32)
    sun = scene.sun_dir.tolist()
    for code_value in range(SKY, len(Material)):
        idx = np.flatnonzero(code == code_value)
        if idx.size == 0:
            continue
        ray = np.take(dirs, idx, axis=1)
        if code_value == SKY:
            put_rows(rgb, idx, materials.sky(scene.noise, ray, HORIZON, ZENITH))
            continue
        norm = np.sqrt(np.sum(ray * ray, axis=0))
        depth = np.take(t, idx)
        dist = depth * norm
        hits = _Hits(idx, ray * depth, ray / norm, dist, dist / np.float32(focal_px))
        shader = _ground if code_value == GROUND else _SHADERS[Material(code_value)]
        albedo, normal = shader(scene, gbuf, hits, np.take(obj, idx))
        # Element-wise dot product: no BLAS, whose blocking could change the last bit.
        cos_sun = sun[0] * normal[0] + sun[1] * normal[1] + sun[2] * normal[2]
        light = AMBIENT + DIFFUSE * np.clip(cos_sun, 0.0, None)
        fog = np.clip((dist - FOG_START_M) / (FOG_END_M - FOG_START_M), 0.0, 1.0)
        fog = (fog * fog * (3.0 - 2.0 * fog))[:, None]
        put_rows(rgb, idx, albedo * light[:, None] * (1.0 - fog) + HORIZON[None] * fog)
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).reshape(h, w, 3)


def _ground(scene: Scene, gbuf: GBuffer, hits: _Hits, rows: np.ndarray) -> _Shaded:
    road = scene.road
    psi_cam = float(road.heading(gbuf.arc_m))
    ahead = hits.point[0] * np.sin(psi_cam) + hits.point[2] * np.cos(psi_cam)
    patch = road.patch(gbuf.arc_m - 60.0, gbuf.arc_m + 400.0, gbuf.origin[0], gbuf.origin[2])
    rc = patch.to_road(hits.point[0], hits.point[2], gbuf.arc_m + ahead.astype(np.float64))
    # Pixel footprint on the plane: an ellipse, long along the ray's ground track; split it
    # into the road's along (s) and across (d) directions.
    across, along = hits.footprints(np.array([[0.0], [-1.0], [0.0]], np.float32))
    track = np.hypot(hits.ray[0], hits.ray[2]) + 1e-9
    ca = (np.abs(hits.ray[0] * rc.sin_psi + hits.ray[2] * rc.cos_psi) / track).astype(np.float32)
    sa2 = np.clip(1.0 - ca * ca, 0.0, 1.0)
    fp_s = np.sqrt(along ** 2 * ca * ca + across ** 2 * sa2)
    fp_d = np.sqrt(along ** 2 * sa2 + across ** 2 * ca * ca)
    albedo = materials.ground(scene.noise, road.layout, rc.s, rc.d, fp_s, fp_d)
    normal = np.zeros((3, hits.idx.size), np.float32)
    normal[1] = -1.0
    return albedo, normal


@dataclass(frozen=True)
class _Objects:
    """Per-pixel attributes of the objects hit, float32."""

    offset: np.ndarray  # [3, N] hit point minus object centre
    half: np.ndarray    # [N, 3]
    colour: np.ndarray  # [N, 3]
    params: np.ndarray  # [N, N_PARAMS]
    cos_yaw: np.ndarray
    sin_yaw: np.ndarray

    @classmethod
    def gather(cls, scene: Scene, gbuf: GBuffer, hits: _Hits, rows: np.ndarray) -> _Objects:
        objs = scene.objects
        to_cam = (gbuf.origin[None] - objs.centre).astype(np.float32)  # per object, small
        return cls(hits.point + take_rows(to_cam, rows).T,
                   take_rows(objs.half.astype(np.float32), rows),
                   take_rows(objs.colour, rows), take_rows(objs.params, rows),
                   np.take(np.cos(objs.yaw).astype(np.float32), rows),
                   np.take(np.sin(objs.yaw).astype(np.float32), rows))


@dataclass(frozen=True)
class _BoxFace:
    axis: np.ndarray    # [N] 0: +-x (across), 1: +-y, 2: +-z (along the object)
    sign: np.ndarray    # [N] +1 / -1
    u: np.ndarray       # [N] horizontal face coordinate from the face centre, metres
    b: np.ndarray       # [N] height above the ground, metres
    normal: np.ndarray  # [3, N] world normal


def _box_face(scene: Scene, gbuf: GBuffer, hits: _Hits, o: _Objects) -> _BoxFace:
    p, c, s = o.offset, o.cos_yaw, o.sin_yaw
    local = np.stack([c * p[0] - s * p[2], p[1], s * p[0] + c * p[2]])
    ratio = np.abs(local) / o.half.T
    axis = np.argmax(ratio, axis=0)
    sign = np.where(np.take_along_axis(local, axis[None], 0)[0] >= 0, 1.0, -1.0)
    sign = sign.astype(np.float32)
    normal = np.zeros_like(local)
    normal[0] = np.where(axis == 0, sign * c, np.where(axis == 2, sign * s, 0.0))
    normal[1] = np.where(axis == 1, sign, 0.0)
    normal[2] = np.where(axis == 0, -sign * s, np.where(axis == 2, sign * c, 0.0))
    u = np.where(axis == 0, local[2], local[0])
    b = scene.camera_height_m - (gbuf.origin[1] + hits.point[1])
    return _BoxFace(axis, sign, u, b.astype(np.float32), normal)


def _building(scene: Scene, gbuf: GBuffer, hits: _Hits, rows: np.ndarray) -> _Shaded:
    o = _Objects.gather(scene, gbuf, hits, rows)
    face = _box_face(scene, gbuf, hits, o)
    width = 2.0 * np.where(face.axis == 0, o.half[:, 2], o.half[:, 0])
    fp_v, fp_u = hits.footprints(face.normal)
    albedo = materials.facade(scene.noise, face.u + 0.5 * width, face.b, width, 2.0 * o.half[:, 1],
                              fp_u, fp_v, o.colour, o.params)
    return albedo, face.normal


def _car_body(scene: Scene, gbuf: GBuffer, hits: _Hits, rows: np.ndarray) -> _Shaded:
    o = _Objects.gather(scene, gbuf, hits, rows)
    face = _box_face(scene, gbuf, hits, o)
    fp_v, fp_u = hits.footprints(face.normal)
    albedo = materials.car_body(scene.noise, face.axis, face.sign, face.u, face.b, o.half, fp_u,
                                fp_v, o.colour, o.params)
    return albedo, face.normal


def _car_cabin(scene: Scene, gbuf: GBuffer, hits: _Hits, rows: np.ndarray) -> _Shaded:
    o = _Objects.gather(scene, gbuf, hits, rows)
    face = _box_face(scene, gbuf, hits, o)
    bottom = face.b - (o.half[:, 1] + o.offset[1])  # the hit's height minus its height in the box
    fp_v, fp_u = hits.footprints(face.normal)
    albedo = materials.car_cabin(scene.noise, face.axis, face.u, face.b, bottom, o.half, fp_u,
                                 fp_v, o.colour, o.params)
    return albedo, face.normal


def _round(hits: _Hits, o: _Objects, flat_y: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cylinder (flat_y) or sphere: normal and isotropic footprint."""
    normal = o.offset.copy()
    if flat_y:
        normal[1] = 0.0
    normal /= np.sqrt(np.sum(normal ** 2, axis=0)) + 1e-9
    cos = np.abs(np.sum(normal * hits.ray, axis=0))
    return normal, hits.base_fp / np.sqrt(np.maximum(cos, 0.03))


def _pole(scene: Scene, gbuf: GBuffer, hits: _Hits, rows: np.ndarray) -> _Shaded:
    o = _Objects.gather(scene, gbuf, hits, rows)
    normal, fp = _round(hits, o, flat_y=True)
    b = (scene.camera_height_m - (gbuf.origin[1] + hits.point[1])).astype(np.float32)
    p = o.offset
    return materials.pole(scene.noise, p[0], p[1], p[2], b, fp, o.colour, o.params), normal


def _trunk(scene: Scene, gbuf: GBuffer, hits: _Hits, rows: np.ndarray) -> _Shaded:
    o = _Objects.gather(scene, gbuf, hits, rows)
    normal, fp = _round(hits, o, flat_y=True)
    p = o.offset
    return materials.bark(scene.noise, p[0], p[1], p[2], fp, o.colour, o.params), normal


def _crown(scene: Scene, gbuf: GBuffer, hits: _Hits, rows: np.ndarray) -> _Shaded:
    o = _Objects.gather(scene, gbuf, hits, rows)
    normal, fp = _round(hits, o, flat_y=False)
    p = o.offset
    return materials.leaves(scene.noise, p[0], p[1], p[2], fp, o.colour, o.params), normal


_SHADERS = {
    Material.BUILDING: _building,
    Material.CAR_BODY: _car_body,
    Material.CAR_CABIN: _car_cabin,
    Material.POLE: _pole,
    Material.TRUNK: _trunk,
    Material.CROWN: _crown,
}
