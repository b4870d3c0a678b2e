"""Albedo of each surface kind as a function of its surface coordinates in metres.

Functions take per-pixel arrays ([N] coordinates, [N, 3] base colours, [N, k] parameters) and the
pixel footprints along each surface axis (`fp_u`, `fp_v`, metres per pixel) and return [N, 3]
float32 albedo in [0, 1]. Patterns are multi-scale on purpose: from metres (panels, windows,
patches) down to centimetres (bricks, asphalt grain, leaves), so that the photometric loss has
gradients at every distance; sub-pixel detail fades to its mean instead of aliasing.
"""
from __future__ import annotations

import numpy as np

from depth_ros.synth.arrays import put_rows, take_rows
from depth_ros.synth.noise import NoiseTable, coverage, fade_to_mean, mix, rectangles, stripes
from depth_ros.synth.road import RoadLayout


_F32 = np.float32
_GLASS = np.array([0.10, 0.13, 0.17], _F32)
_PAINT = np.array([0.86, 0.86, 0.82], _F32)
_MORTAR = np.array([0.72, 0.70, 0.66], _F32)
_FRAME = np.array([0.82, 0.81, 0.78], _F32)
_TYRE = np.array([0.07, 0.07, 0.08], _F32)
_HUB = np.array([0.55, 0.56, 0.58], _F32)


def _col(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=_F32)[:, None]


def _glass(noise: NoiseTable, u: np.ndarray, v: np.ndarray, fp: np.ndarray,
           offset: np.ndarray | float) -> np.ndarray:
    """Dark glass with soft reflections (painted on, so they do not move with the viewer)."""
    refl = noise.fbm(u, v, fp, 1.0, 5, gain=0.8, offset=offset)
    return _GLASS[None] * _col(2.2 + 7.0 * refl) + 0.04


def ground(noise: NoiseTable, layout: RoadLayout, s: np.ndarray, d: np.ndarray,
           fp_s: np.ndarray, fp_d: np.ndarray) -> np.ndarray:
    """Asphalt with lane markings, kerb, tiled sidewalk and a grass verge, in road coordinates."""
    fp = np.sqrt(fp_s * fp_d)
    ad = np.abs(d)
    grain = noise.fbm(s, d, fp, 4.0, 9, gain=0.85)
    asphalt = np.array([0.33, 0.33, 0.345], _F32)[None] * _col(1.0 + 1.8 * grain)
    dash = fade_to_mean(coverage(1.5 - np.abs(s - 9.0 * np.round(s / 9.0)), fp_s), 1 / 3, 9.0,
                        fp_s)
    centre = coverage(0.06 - ad, fp_d) * dash
    edge = coverage(0.06 - np.abs(ad - layout.lane_width_m), fp_d)
    road = mix(asphalt, _PAINT[None] * _col(1.0 + 0.6 * grain), _col(np.maximum(centre, edge)))

    joints = stripes(s, 1.0, 0.02, fp_s)
    kerb = np.array([0.68, 0.67, 0.64], _F32)[None] * _col((1.0 + 0.9 * grain)
                                                           * (1.0 - 0.4 * joints))

    tile = 0.6
    tint = noise.lattice(np.floor(s / tile), np.floor(d / tile) + 1000)
    tint = fade_to_mean(tint.astype(_F32), 0.5, tile, fp)
    grout = np.maximum(stripes(s, tile, 0.025, fp_s), stripes(d, tile, 0.025, fp_d))
    walk = np.array([0.62, 0.59, 0.54], _F32)[None] * _col(
        (1.0 + 0.35 * (tint - 0.5) + 0.9 * grain) * (1.0 - 0.45 * grout))

    grass = np.array([0.24, 0.34, 0.15], _F32)[None] * _col(1.0 + 2.5 * grain)
    out = mix(grass, walk, _col(coverage(layout.sidewalk_end_m - ad, fp_d)))
    out = mix(out, kerb, _col(coverage(layout.sidewalk_start_m - ad, fp_d)))
    gutter = coverage(0.18 - np.abs(ad - layout.road_half_width_m + 0.2), fp_d)
    road = road * _col(1.0 - 0.3 * gutter)
    return mix(out, road, _col(coverage(layout.road_half_width_m - ad, fp_d)))


def facade(noise: NoiseTable, a: np.ndarray, b: np.ndarray, width: np.ndarray,
           height: np.ndarray, fp_u: np.ndarray, fp_v: np.ndarray, colour: np.ndarray,
           params: np.ndarray) -> np.ndarray:
    """Building wall: brick, plaster or concrete panels, with a grid of framed windows.

    Args:
        a: horizontal coordinate along the face from its left corner, metres.
        b: height above the ground, metres.
        width, height: size of the face in metres.
        fp_u, fp_v: pixel footprints along a and b.
        params: [N, 6] style (0 brick, 1 plaster, 2 panels), window spacing, floor height,
            window width, window height, texture offset.
    """
    style, spacing, floor_h, win_w, win_h, offset = (params[:, i] for i in range(6))
    fp = np.sqrt(fp_u * fp_v)
    dirt = noise.fbm(a, b, fp, 2.0, 8, gain=0.8, offset=offset)
    wall = colour * _col(1.0 + 1.4 * dirt)
    sel = np.flatnonzero(style == 0)
    put_rows(wall, sel, _bricks(noise, a[sel], b[sel], fp_u[sel], fp_v[sel],
                                take_rows(wall, sel), dirt[sel]))
    sel = np.flatnonzero(style == 2)
    joint = np.maximum(stripes(a[sel], 1.5, 0.03, fp_u[sel]),
                       stripes(b[sel], floor_h[sel], 0.04, fp_v[sel]))
    put_rows(wall, sel, take_rows(wall, sel) * _col(1.0 - 0.45 * joint))

    n_cols = np.maximum(np.floor((width - 1.0) / spacing), 0)
    margin = 0.5 * (width - n_cols * spacing)
    col = np.floor((a - margin) / spacing)
    storey = np.floor(b / floor_h)
    in_grid = (col >= 0) & (col < n_cols) & (storey < np.floor((height - 0.8) / floor_h))
    wx = a - margin - spacing * (col + 0.5)
    wy = b - floor_h * (storey + 0.55)
    hw = np.where(storey == 0, 0.5 * np.minimum(1.7 * win_w, spacing - 0.4), 0.5 * win_w)
    frame = rectangles(wx, wy, hw + 0.09, 0.5 * win_h + 0.09, fp) * in_grid
    out = mix(wall, _FRAME[None] * _col(1.0 + 0.5 * dirt), _col(frame))
    sel = np.flatnonzero(frame)
    pane = rectangles(wx[sel], wy[sel], hw[sel], 0.5 * win_h[sel], fp[sel])
    glass = _glass(noise, a[sel], b[sel], fp[sel], offset[sel] + col[sel] * 7.3 + storey[sel])
    put_rows(out, sel, mix(take_rows(out, sel), glass, _col(pane)))
    return out


def _bricks(noise: NoiseTable, a: np.ndarray, b: np.ndarray, fp_u: np.ndarray,
            fp_v: np.ndarray, wall: np.ndarray, dirt: np.ndarray) -> np.ndarray:
    """Running-bond brickwork, 24 x 7.5 cm bricks, one tint per brick, mortar joints."""
    row = np.floor(b / 0.075)
    a = a + (row % 2) * 0.12
    tint = noise.lattice(np.floor(a / 0.24), row).astype(_F32)
    tint = fade_to_mean(tint, 0.5, 0.24, fp_u)
    mortar = np.maximum(stripes(b, 0.075, 0.012, fp_v), stripes(a, 0.24, 0.012, fp_u))
    return mix(wall * _col(0.8 + 0.4 * tint), _MORTAR[None] * _col(1.0 + dirt), _col(mortar))


def car_body(noise: NoiseTable, axis: np.ndarray, sign: np.ndarray, a: np.ndarray,
             b: np.ndarray, half: np.ndarray, fp_u: np.ndarray, fp_v: np.ndarray,
             colour: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Car or van body: paint, wheels on the sides, lights and plate front and back.

    Args:
        axis: face axis per pixel (0 side, 1 top/bottom, 2 front/back), sign: +1 or -1.
        a: horizontal coordinate on the face from its centre, b: height above the ground.
        half: [N, 3] half extents of the body box.
        params: [N, >=2] (is_van, texture offset).
    """
    van, offset = params[:, 0], params[:, 1]
    fp = np.sqrt(fp_u * fp_v)
    grime = noise.fbm(a, b, fp, 1.0, 6, gain=0.8, offset=offset)
    out = colour * _col(1.0 + 0.9 * grime) + _col(0.12 * grime + 0.02)
    side, ends = axis == 0, axis == 2
    wheel_a = np.abs(a) - (half[:, 2] - 0.85)
    dist = np.hypot(wheel_a, b - 0.33)
    out = mix(out, _TYRE[None], _col(coverage(0.33 - dist, fp) * side))
    out = mix(out, _HUB[None] * _col(1.0 + grime), _col(coverage(0.17 - dist, fp) * side))
    seam = np.maximum(stripes(a - 0.15, 100.0, 0.015, fp_u), coverage(0.3 - b, fp_v) * 0.6)
    out = out * _col(1.0 - 0.5 * seam * side)
    top = 0.12 + 2.0 * half[:, 1]
    van_glass = rectangles(a, b - (top - 0.45), half[:, 2] - 0.35, 0.25, fp) * side * (van > 0)
    out = mix(out, _glass(noise, a, b, fp, offset), _col(van_glass))
    lamp_x = np.abs(a) - (half[:, 0] - 0.3)
    lamp = rectangles(lamp_x, b - 0.78, 0.18, 0.07, fp) * ends
    lamp_col = np.where(_col(sign > 0), np.array([0.92, 0.9, 0.8], _F32)[None],
                        np.array([0.75, 0.08, 0.06], _F32)[None])
    out = mix(out, lamp_col, _col(lamp))
    plate = rectangles(a, b - 0.45, 0.26, 0.06, fp) * ends
    letters = stripes(a, 0.07, 0.025, fp_u) * rectangles(a, b - 0.45, 0.2, 0.035, fp)
    plate_col = np.array([0.9, 0.9, 0.88], _F32)[None] * _col(1.0 - 0.8 * letters)
    return mix(out, plate_col, _col(plate))


def car_cabin(noise: NoiseTable, axis: np.ndarray, a: np.ndarray, b: np.ndarray,
              bottom: np.ndarray, half: np.ndarray, fp_u: np.ndarray, fp_v: np.ndarray,
              colour: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Car cabin: windows all round with pillars, painted roof."""
    offset = params[:, 1]
    fp = np.sqrt(fp_u * fp_v)
    grime = noise.fbm(a, b, fp, 1.0, 6, 0.8, offset)
    out = colour * _col(1.0 + 0.9 * grime) + _col(0.12 * grime + 0.02)
    along = np.where(axis == 0, half[:, 2], half[:, 0])
    pane = rectangles(a, b - bottom - half[:, 1], along - 0.12, half[:, 1] - 0.07, fp)
    pillar = coverage(0.06 - np.abs(a), fp_u) * (axis == 0)
    window = pane * (1.0 - pillar) * (axis != 1)
    return mix(out, _glass(noise, a, b, fp, offset), _col(window))


def pole(noise: NoiseTable, x: np.ndarray, y: np.ndarray, z: np.ndarray, b: np.ndarray,
         fp: np.ndarray, colour: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Painted metal pole: streaks, rust, a reflective band."""
    streak = solid_noise(noise, x, 0.15 * y, z, fp, 0.5, 6, params[:, 0], gain=0.75)
    band = rectangles(0.0, b - 2.6, 1.0, 0.15, fp)
    out = colour * _col(1.0 + 1.2 * streak)
    return mix(out, np.array([0.85, 0.84, 0.2], _F32)[None], _col(band))


def bark(noise: NoiseTable, x: np.ndarray, y: np.ndarray, z: np.ndarray, fp: np.ndarray,
         colour: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Tree bark: vertically stretched furrows."""
    furrows = solid_noise(noise, 4.0 * x, 0.3 * y, 4.0 * z, 4.0 * fp, 0.6, 6, params[:, 0],
                          gain=0.75)
    return colour * _col(1.0 + 1.8 * furrows)


def leaves(noise: NoiseTable, x: np.ndarray, y: np.ndarray, z: np.ndarray, fp: np.ndarray,
           colour: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Tree crown: clumps and leaf-scale speckle, high contrast."""
    clumps = solid_noise(noise, x, y, z, fp, 1.0, 6, params[:, 0], gain=0.85)
    return colour * _col(np.clip(1.0 + 2.6 * clumps, 0.25, 2.0))


def solid_noise(noise: NoiseTable, x: np.ndarray, y: np.ndarray, z: np.ndarray, fp: np.ndarray,
                wavelength: float, octaves: int, offset: np.ndarray | float,
                gain: float = 0.5) -> np.ndarray:
    """A seamless function of a 3-D point: the mean of fBm on two vertical planes."""
    n1 = noise.fbm(x + 0.6 * z, y, fp, wavelength, octaves, gain, offset)
    n2 = noise.fbm(z - 0.6 * x, y + 57.0, fp, wavelength, octaves, gain, offset + 31.0)
    return n1 + n2


def sky(noise: NoiseTable, dirs: np.ndarray, horizon: np.ndarray,
        zenith: np.ndarray) -> np.ndarray:
    """Sky colour from the viewing direction only (it is at infinity), [3, N] -> [N, 3]."""
    norm = np.sqrt(np.sum(dirs * dirs, axis=0))
    up = np.clip(-dirs[1] / norm, 0.0, 1.0)
    grad = np.sqrt(np.clip(up * 2.5, 0.0, 1.0)).astype(_F32)
    base = mix(horizon[None], zenith[None], _col(grad))
    scale = 1.0 / (up + 0.15)
    cloud = noise.fbm(dirs[0] / norm * scale, dirs[2] / norm * scale, np.full(up.shape, 0.002),
                      1.5, 6, offset=400.0)
    cover = np.clip(cloud * 3.0 + 0.1, 0.0, 1.0) * np.clip(up * 6.0, 0.0, 1.0)
    return mix(base, np.array([0.93, 0.94, 0.96], _F32)[None], _col(cover))
