"""The road: a flat, planar centreline of smoothly varying curvature that the camera follows.

World frame: the optical frame of the first camera (x right, y down, z forward); the ground is the
plane y = camera_height_m. Arc length `s` runs along the centreline from the first camera's foot
point, the signed lateral offset `d` is positive to the right of the direction of travel, and the
heading psi is a rotation about +y (psi > 0 turns right, towards +x).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


@dataclass(frozen=True)
class RoadLayout:
    """Cross-section of the street in metres, measured outwards from the centreline."""

    lane_width_m: float = 3.5
    parking_width_m: float = 2.3
    kerb_width_m: float = 0.25
    sidewalk_width_m: float = 3.2

    @property
    def road_half_width_m(self) -> float:
        """Centreline to kerb: one driving lane and one parking strip."""
        return self.lane_width_m + self.parking_width_m

    @property
    def sidewalk_start_m(self) -> float:
        return self.road_half_width_m + self.kerb_width_m

    @property
    def sidewalk_end_m(self) -> float:
        return self.sidewalk_start_m + self.sidewalk_width_m


class RoadCoords(NamedTuple):
    """Road coordinates of points: arc length, lateral offset (right > 0), road tangent."""

    s: np.ndarray
    d: np.ndarray
    sin_psi: np.ndarray
    cos_psi: np.ndarray


@dataclass(frozen=True)
class CurvatureProfile:
    """Curvature kappa(s) = sum_i a_i sin(k_i s + phi_i) in 1/m; gentle, smooth bends."""

    amplitudes: tuple[float, ...]
    wavenumbers: tuple[float, ...]
    phases: tuple[float, ...]

    @classmethod
    def random(cls, rng: np.random.Generator) -> CurvatureProfile:
        """Two sinusoids, wavelengths 250-700 m, peak curvature 1/400 to 1/120 per metre."""
        peak = rng.uniform(1.0 / 400.0, 1.0 / 120.0)
        weights = rng.uniform(0.3, 1.0, size=2)
        wavelengths = rng.uniform(250.0, 700.0, size=2)
        phases = rng.uniform(0.0, 2.0 * np.pi, size=2)
        amps = peak * weights / weights.sum()
        return cls(tuple(amps.tolist()), tuple((2.0 * np.pi / wavelengths).tolist()),
                   tuple(phases.tolist()))

    def curvature(self, s: np.ndarray) -> np.ndarray:
        s = np.asarray(s, dtype=np.float64)
        return sum(a * np.sin(k * s + p)
                   for a, k, p in zip(self.amplitudes, self.wavenumbers, self.phases))

    def heading(self, s: np.ndarray) -> np.ndarray:
        """psi(s) = integral of kappa from 0 to s, so psi(0) = 0."""
        s = np.asarray(s, dtype=np.float64)
        return sum(a / k * (np.cos(p) - np.cos(k * s + p))
                   for a, k, p in zip(self.amplitudes, self.wavenumbers, self.phases))


class Road:
    """A centreline tabulated every `step_m` metres over [s_min, s_max].

    The centreline passes through (x, z) = (-start_offset_m, 0) at s = 0 with heading 0, so a
    camera driving `start_offset_m` right of the centre starts at the world origin. Grid points
    sit on multiples of `step_m` and are integrated outwards from s = 0, so a longer road extends a
    shorter one without changing it.
    """

    def __init__(self, profile: CurvatureProfile, s_min: float, s_max: float,
                 start_offset_m: float, layout: RoadLayout = RoadLayout(),
                 step_m: float = 0.25) -> None:
        self.profile = profile
        self.layout = layout
        self.step_m = float(step_m)
        k_min, k_max = int(np.floor(s_min / step_m)), int(np.ceil(s_max / step_m))
        self.s_min = k_min * self.step_m
        self.s = np.arange(k_min, k_max + 1) * self.step_m
        self.psi = profile.heading(self.s)
        self.kappa = profile.curvature(self.s)
        self.x = _integrate_from_zero(np.sin(self.psi), -k_min, self.step_m) - start_offset_m
        self.z = _integrate_from_zero(np.cos(self.psi), -k_min, self.step_m)
        values = np.stack([self.x, self.z, np.sin(self.psi), np.cos(self.psi), self.kappa], axis=1)
        self._table = _Table(values, self.s_min, self.step_m)

    @property
    def s_max(self) -> float:
        return float(self.s[-1])

    def sample(self, s: np.ndarray) -> list[np.ndarray]:
        """[centre x, centre z, sin psi, cos psi, curvature] at arc lengths s [N]."""
        return self._table.sample(np.asarray(s, dtype=np.float64))

    def heading(self, s: np.ndarray) -> np.ndarray:
        """Heading psi(s) in radians (exact, not tabulated)."""
        return self.profile.heading(s)

    def point(self, s: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World (x, z) of the ground point at arc length s and lateral offset d (tabulated, so
        that `to_road` inverts it exactly)."""
        cx, cz, sin, cos, _ = self.sample(np.atleast_1d(s))
        x, z = cx + d * cos, cz - d * sin
        return (x, z) if np.ndim(s) else (x[0], z[0])

    def to_road(self, x: np.ndarray, z: np.ndarray, s_guess: np.ndarray,
                iterations: int = 2) -> RoadCoords:
        """Road coordinates of world ground points (x, z), [N] each (float64 throughout)."""
        s = np.asarray(s_guess, dtype=np.float64)
        return self._table.to_road(np.asarray(x, np.float64), np.asarray(z, np.float64), s,
                                   iterations)

    def patch(self, s_lo: float, s_hi: float, origin_x: float, origin_z: float) -> RoadPatch:
        """A float32 copy of [s_lo, s_hi] relative to a nearby origin, for per-pixel lookups."""
        lo = int(np.clip(np.floor((s_lo - self.s_min) / self.step_m), 0, self.s.size - 2))
        hi = int(np.clip(np.ceil((s_hi - self.s_min) / self.step_m), lo + 1, self.s.size - 1))
        values = self._table.values[lo:hi + 1] - [origin_x, origin_z, 0.0, 0.0, 0.0]
        s0 = self.s_min + lo * self.step_m
        return RoadPatch(s0, origin_x, origin_z, _Table(values.astype(np.float32), 0.0,
                                                        self.step_m))


class RoadPatch:
    """A stretch of road in float32 relative to a local origin: four times faster lookups."""

    def __init__(self, s0: float, origin_x: float, origin_z: float, table: _Table) -> None:
        self.s0, self.origin_x, self.origin_z, self._table = s0, origin_x, origin_z, table

    def to_road(self, dx: np.ndarray, dz: np.ndarray, s_guess: np.ndarray,
                iterations: int = 2) -> RoadCoords:
        """Road coordinates of ground points at (origin_x + dx, origin_z + dz); s is absolute."""
        s_rel = (np.asarray(s_guess, dtype=np.float64) - self.s0).astype(np.float32)
        rc = self._table.to_road(np.asarray(dx, np.float32), np.asarray(dz, np.float32), s_rel,
                                 iterations)
        return RoadCoords(self.s0 + rc.s.astype(np.float64), rc.d, rc.sin_psi, rc.cos_psi)


class _Table:
    """Centreline columns (x, z, sin psi, cos psi, kappa) every `step` metres from `s0`."""

    def __init__(self, values: np.ndarray, s0: float, step: float) -> None:
        self.values = values
        self.s0, self.step = s0, step
        slopes = np.diff(values, axis=0, append=values[-1:])
        self._cols = [np.ascontiguousarray(c) for c in np.concatenate([values, slopes], 1).T]

    def sample(self, s: np.ndarray) -> list[np.ndarray]:
        dtype = self.values.dtype.type
        pos = (s - dtype(self.s0)) * dtype(1.0 / self.step)
        i = np.clip(np.floor(pos), 0, len(self.values) - 2).astype(np.intp)
        f = pos - i
        out = [np.take(self._cols[k], i) + f * np.take(self._cols[k + 5], i) for k in range(5)]
        norm = np.hypot(out[2], out[3])  # a lerped unit vector is slightly short
        out[2] /= norm
        out[3] /= norm
        return out

    def to_road(self, x: np.ndarray, z: np.ndarray, s: np.ndarray,
                iterations: int) -> RoadCoords:
        """Newton's method on the foot-point condition (p - c(s)) . t(s) = 0.

        Its derivative is -(1 - kappa d). Converged results do not depend on the guess, so a
        surface point gets the same road coordinates (and texture) from every camera position;
        two iterations from a guess within metres leave errors far below a pixel footprint
        within 100 m.
        """
        s_lo, s_hi = self.s0, self.s0 + (len(self.values) - 1) * self.step
        for _ in range(iterations):
            cx, cz, sin, cos, kappa = self.sample(s)
            dx, dz = x - cx, z - cz
            d = dx * cos - dz * sin
            s = np.clip(s + (dx * sin + dz * cos) / np.maximum(1.0 - kappa * d, 0.2), s_lo, s_hi)
        cx, cz, sin, cos, _ = self.sample(s)
        return RoadCoords(s, (x - cx) * cos - (z - cz) * sin, sin, cos)


def _integrate_from_zero(values: np.ndarray, zero_index: int, step: float) -> np.ndarray:
    """Trapezoidal integral of a tabulated function, 0 at `zero_index`, both directions."""
    out = np.zeros_like(values)
    seg = 0.5 * step * (values[1:] + values[:-1])
    out[zero_index + 1:] = np.cumsum(seg[zero_index:])
    out[:zero_index] = -np.cumsum(seg[:zero_index][::-1])[::-1]
    return out
