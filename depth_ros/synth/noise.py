"""Deterministic procedural texture primitives: value noise, band-limited fBm, anti-aliased masks.

Every pattern is a pure function of surface coordinates in metres, so a surface point has the same
colour from every viewpoint (the brightness constancy that the photometric loss relies on). Detail
finer than the pixel footprint (metres of surface covered by one pixel) fades to its mean instead
of aliasing, which is what a mip-mapped texture does on a GPU.
"""
from __future__ import annotations

import numpy as np


_TABLE_BITS = 8
_TABLE_MASK = (1 << _TABLE_BITS) - 1
# Per-octave lattice offsets, so octaves do not share lattice corners.
_OCTAVE_SHIFT = (0.0, 17.31, 43.77, 71.13, 101.59, 131.97, 163.41, 197.83, 229.29, 251.67)


class NoiseTable:
    """Value noise on a 256 x 256 lattice of random values, periodic in both axes.

    Args:
        seed: the same seed gives the same table on every platform (numpy's PCG64).
    """

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([int(seed), 0x5EED])
        size = 1 << _TABLE_BITS
        values = rng.random((size, size), dtype=np.float32)  # [y, x]
        self._values = values.ravel()
        # Each cell's four corners side by side, viewed as one 16-byte item: one gather per
        # noise sample instead of four.
        corners = np.stack([values, np.roll(values, -1, axis=1), np.roll(values, -1, axis=0),
                            np.roll(values, (-1, -1), axis=(0, 1))], axis=-1)
        self._corners = np.ascontiguousarray(corners.reshape(-1, 4)).view(np.complex128)[:, 0]

    def lattice(self, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        """Random value in [0, 1) per integer lattice point; e.g. one value per tile or brick."""
        ix = np.asarray(ix).astype(np.int64)
        iy = np.asarray(iy).astype(np.int64)
        return self._values[((iy & _TABLE_MASK) << _TABLE_BITS) | (ix & _TABLE_MASK)]

    def value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Smooth (C1) value noise in [0, 1] at float32 (x, y) in lattice units."""
        x0 = np.floor(x)
        y0 = np.floor(y)
        tx = x - x0
        ty = y - y0
        tx = tx * tx * (3.0 - 2.0 * tx)
        ty = ty * ty * (3.0 - 2.0 * ty)
        cell = ((y0.astype(np.int32) & _TABLE_MASK) << _TABLE_BITS) | (x0.astype(np.int32)
                                                                        & _TABLE_MASK)
        v = self._corners[cell].view(np.float32).reshape(-1, 4)
        a = v[:, 0] + tx * (v[:, 1] - v[:, 0])
        b = v[:, 2] + tx * (v[:, 3] - v[:, 2])
        return a + ty * (b - a)

    def fbm(self, x: np.ndarray, y: np.ndarray, footprint: np.ndarray, wavelength: float,
            octaves: int, gain: float = 0.5, offset: np.ndarray | float = 0.0) -> np.ndarray:
        """Fractal (multi-octave) value noise with zero mean, within [-0.5, 0.5].

        Octave i has wavelength `wavelength / 2**i` metres and amplitude `gain**i`; an octave
        fades out while its wavelength shrinks from two footprints to one, and is evaluated only
        where it is visible.

        Args:
            x, y: surface coordinates in metres, [N] (float64 for large values such as arc
                length; they are wrapped to the noise period before going to float32).
            footprint: metres of surface seen by each pixel, [N].
            wavelength: wavelength of the coarsest octave in metres.
            octaves: number of octaves (at most 10).
            gain: amplitude ratio between consecutive octaves.
            offset: lattice offset, e.g. one per object so objects do not share a pattern.
        """
        if x.dtype == np.float64:  # e.g. arc length: wrap to the period first
            period = float(wavelength) * (1 << _TABLE_BITS)  # every octave repeats within it
            x = x - period * np.floor(x / period)
            y = y - period * np.floor(y / period)
        footprint = np.asarray(footprint, dtype=np.float32)
        if np.size(x) == 0:
            return np.zeros(np.shape(x), dtype=np.float32)
        # Octave i is visible where wavelength / 2**i > footprint. Order the pixels by how many
        # octaves they see, so each octave works on a prefix (a slice, no gather).
        with np.errstate(divide='ignore'):
            visible = np.ceil(np.log2(np.float32(wavelength) / footprint))
        visible = np.clip(visible, 0, octaves).astype(np.int8)
        order = np.argsort(-visible, kind='stable')
        counts = np.cumsum(np.bincount(visible, minlength=octaves + 1)[::-1])[::-1]
        xs = np.take(np.asarray(x, dtype=np.float32), order)
        ys = np.take(np.asarray(y, dtype=np.float32), order)
        fps = np.take(footprint, order)
        offs = np.take(np.broadcast_to(np.asarray(offset, dtype=np.float32), np.shape(x)), order)
        total = np.zeros(xs.shape, dtype=np.float32)
        amp, lam = 1.0, float(wavelength)
        # Normalise by every octave's amplitude, visible or not, so the value at a point does not
        # depend on which other pixels share the call.
        norm = sum(gain ** i for i in range(octaves))
        for i in range(octaves):
            k = int(counts[i + 1])  # pixels seeing more than i octaves
            if k == 0:
                break
            o = offs[:k] + float(_OCTAVE_SHIFT[i])
            n = self.value(xs[:k] * (1.0 / lam) + o, ys[:k] * (1.0 / lam) - o)
            weight = np.minimum(lam / fps[:k] - 1.0, 1.0)
            total[:k] += (amp * weight) * (n - 0.5)
            amp *= gain
            lam *= 0.5
        out = np.empty_like(total)
        out[order] = total
        return out / norm


def coverage(signed_dist: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """Fraction of a pixel inside a shape, from the signed distance to its edge (> 0 inside)."""
    return np.clip(0.5 + signed_dist / footprint, 0.0, 1.0).astype(np.float32)


def fade_to_mean(mask: np.ndarray, mean: float, period: float,
                 footprint: np.ndarray) -> np.ndarray:
    """Blend a periodic mask to its mean value once a period spans less than ~two pixels."""
    t = np.clip(footprint * (2.0 / period) - 0.5, 0.0, 1.0).astype(np.float32)
    return mask + t * (np.float32(mean) - mask)


def stripes(x: np.ndarray, period: float, width: float, footprint: np.ndarray) -> np.ndarray:
    """Anti-aliased lines of `width` metres centred on every multiple of `period` metres."""
    dist = np.abs(x - period * np.round(x / period))
    mask = coverage(0.5 * width - dist, footprint)
    return fade_to_mean(mask, width / period, period, footprint)


def rectangles(x: np.ndarray, y: np.ndarray, half_w: float | np.ndarray,
               half_h: float | np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """Coverage of the rectangle |x| < half_w, |y| < half_h (coordinates from its centre)."""
    inside = np.minimum(half_w - np.abs(x), half_h - np.abs(y))
    return coverage(inside, footprint)


def mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Linear blend of colours a -> b by weight t; shapes broadcast ([N,3] with [N,1])."""
    return a + (b - a) * t
