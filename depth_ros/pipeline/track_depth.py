"""Depth refined by corners triangulated over a long baseline (causal; OpenCV).

The depth network compresses range: after a correct overall scale, 5-10 m comes out about 10 %
too far and 30-60 m 35-50 % too near (docs/learning/real_world_recipe.md, "Session 17"). Two
views a few metres apart measure the *relative* depth of corners better: on the dev drive,
corners tracked back until they have moved about 30 px and triangulated score abs_rel 0.075
against LiDAR where the network scores 0.166 at the same pixels, and within a frame their log
ratio to the network follows the truth's (correlation 0.72; session 23's three-frame corners:
0.31). Per frame (`TrackRefiner`):

1. Corner tracks are carried from frame to frame with pyramidal Lucas-Kanade, kept where
   tracking back lands within `fb_max_px` (forward-backward check); new Shi-Tomasi corners
   fill the gaps. Each track remembers where it was in the last `max_frames` frames.
2. The reference frame is the latest earlier frame from which the tracks alive since then have
   moved at least `min_flow` (a fraction of the image width) in the median: a longer baseline
   the slower the camera moves; none within `max_frames` (a still camera): no refinement.
3. The essential matrix between the two (USAC), `recoverPose`, triangulation; points kept in
   front of both cameras, seen at least `min_parallax_deg` apart and reprojected within
   `max_reprojection_px`.
4. The log ratio of triangulated to network depth at the points, less its median (the network
   keeps the frame's scale), is spread over the image with a Gaussian of `sigma` (a fraction of
   the width) and pulled towards no correction where points are few (Nadaraya-Watson with a
   prior weight of `prior` points), clipped to +-`max_log_correction`, and multiplies the depth.

What it assumes is a static world: a vehicle driving ahead in the same direction triangulates
too far (one as fast as the camera has no parallax and is dropped; one standing still or
oncoming comes out right or too near); `max_log_correction` (0.3: at most 35 % farther or 26 %
nearer than the network says; 0.3 and 0.5 score the same on the dev drive) bounds what one can
do. The tracking needs the images only, so the frame pipeline runs it on a thread beside the
depth network (`pipeline.frame`); only step 4 needs the depth.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depth_ros.errors import ConfigError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.pipeline.corners import far_from


# The frame pipeline's depth_refinement setting (the node parameter of the same name).
DEPTH_REFINEMENTS = ('none', 'tracks')

@dataclass(frozen=True)
class TrackConfig:
    """Settings of `TrackRefiner` (lengths in fractions of the image width, so one setting
    serves any resolution; chosen on the real drives and checked on the synthetic seeds:
    docs/learning/real_world_recipe.md, "Session 24").

    Attributes:
        max_corners, corner_quality, corner_spacing: Shi-Tomasi corners (spacing as a fraction
            of the width).
        lk_window_px, lk_levels, fb_max_px: Lucas-Kanade tracking and its forward-backward
            check.
        max_frames: how many frames back the reference frame may lie.
        min_flow: median track length (fraction of the width) the reference frame needs.
        min_points: fewer surviving tracks or triangulated points: no refinement.
        ransac_px: epipolar inlier threshold (pixels).
        min_parallax_deg, max_reprojection_px: a triangulated point is kept only if both hold.
        sigma: Gaussian spreading the corrections (fraction of the width).
        prior: weight (in points) of "no correction" at every pixel.
        max_log_correction: the correction's limit, in natural log of the depth ratio.
        max_width_px: images wider than this are tracked at this width (area-averaged, the
            intrinsics scaled; 0: full resolution); pixel thresholds are of that grid.
    """

    max_corners: int = 4000
    corner_quality: float = 0.005
    corner_spacing: float = 0.005
    lk_window_px: int = 21
    lk_levels: int = 3
    fb_max_px: float = 0.5
    max_frames: int = 30
    min_flow: float = 0.025
    min_points: int = 30
    ransac_px: float = 0.5
    min_parallax_deg: float = 1.0
    max_reprojection_px: float = 0.7
    sigma: float = 0.02
    prior: float = 1.0
    max_log_correction: float = 0.3
    max_width_px: int = 1280

    def __post_init__(self) -> None:
        if self.max_frames < 1 or self.min_points < 8:
            raise ConfigError('max_frames must be >= 1 and min_points >= 8, got '
                              f'{self.max_frames}, {self.min_points}')
        for name in ('min_flow', 'sigma', 'corner_spacing', 'max_log_correction'):
            if not getattr(self, name) > 0:
                raise ConfigError(f'{name} must be positive, got {getattr(self, name)}')
        if self.prior < 0:
            raise ConfigError(f'prior must be >= 0, got {self.prior}')


@dataclass(frozen=True)
class TrackPoints:
    """What the tracks measured in one frame.

    Attributes:
        pixels: [N, 2] float32 (x, y) of the triangulated corners in this frame, in the
            tracking grid.
        grid: (height, width) of the tracking grid (the image, or its `max_width_px` copy).
        depth: [N] triangulated depth in units of the baseline (only ratios are used).
        frames_back: how many frames back the reference frame was (0: none, no points).
        status: 'points', 'still' (no earlier frame far enough), 'few' (too few tracks or
            points), 'first'.
    """

    pixels: np.ndarray
    grid: tuple[int, int]
    depth: np.ndarray
    frames_back: int
    status: str

    @staticmethod
    def describe(points: TrackPoints | None) -> str:
        """What the refinement did, for diagnostics ('tracks: 512 points, 3 frames back')."""
        if points is None:
            return 'tracks: repeated stamp'
        if points.status == 'points':
            return f'tracks: {len(points.depth)} points, {points.frames_back} frames back'
        return 'tracks: ' + {'still': 'still (no earlier frame far enough)',
                             'few': 'too few tracks or points', 'first': 'first frame'
                             }.get(points.status, points.status)

    @classmethod
    def none(cls, grid: tuple[int, int], status: str, frames_back: int = 0) -> TrackPoints:
        return cls(np.zeros((0, 2), np.float32), grid, np.zeros(0), frames_back, status)


class TrackRefiner:
    """Corner tracks over the last frames; `measure` each frame, then `refine` its depth."""

    def __init__(self, config: TrackConfig | None = None) -> None:
        self.config = config or TrackConfig()
        self.reset()

    def reset(self) -> None:
        """Forget the tracks (a break in the video)."""
        self._grey: np.ndarray | None = None
        # trail[i, a]: track i's pixel a frames ago (NaN where it was not tracked yet).
        self._trail = np.zeros((0, self.config.max_frames + 1, 2), np.float32)

    def measure(self, grey: np.ndarray, intrinsics: Intrinsics) -> TrackPoints:
        """Track into this [H, W] uint8 frame and triangulate against the reference frame."""
        cv2, c = _cv2(), self.config
        if c.max_width_px and grey.shape[1] > c.max_width_px:
            size = (c.max_width_px, max(1, round(grey.shape[0] * c.max_width_px / grey.shape[1])))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        intrinsics = intrinsics.scaled(grey.shape[1], grey.shape[0])
        if self._grey is not None and self._grey.shape != grey.shape:
            self.reset()  # the camera's resolution changed: its tracks mean nothing now
        previous, self._grey = self._grey, grey
        if previous is None:
            self._add_corners(grey)
            return TrackPoints.none(grey.shape, 'first')
        self._follow(previous, grey)
        points = self._triangulate(intrinsics)
        self._add_corners(grey)
        return points

    def refine(self, depth_m: np.ndarray, points: TrackPoints) -> np.ndarray:
        """[H, W] depth times the spread correction (the depth itself without points)."""
        if len(points.depth) < self.config.min_points:
            return depth_m
        return depth_m * np.exp(self.correction(depth_m, points)).astype(depth_m.dtype)

    def correction(self, depth_m: np.ndarray, points: TrackPoints) -> np.ndarray:
        """[H, W] float32 natural-log correction of `depth_m` from `points` (step 4)."""
        cv2, c = _cv2(), self.config
        height, width = depth_m.shape
        scale = np.array([width / points.grid[1], height / points.grid[0]])
        pixels = (points.pixels + 0.5) * scale - 0.5  # the tracking grid to the depth's
        cols = np.clip(np.round(pixels[:, 0]).astype(int), 0, width - 1)
        rows = np.clip(np.round(pixels[:, 1]).astype(int), 0, height - 1)
        network = depth_m[rows, cols]
        valid = np.isfinite(network) & (network > 0)
        if valid.sum() < c.min_points:
            return np.zeros_like(depth_m, dtype=np.float32)
        log_ratio = np.log(points.depth[valid]) - np.log(network[valid])
        log_ratio = (log_ratio - np.median(log_ratio)).astype(np.float32)
        step = max(1, int(round(c.sigma * width / 6)))  # a coarse grid, then upsampled
        grid = ((height + step - 1) // step, (width + step - 1) // step)
        total, count = np.zeros(grid, np.float32), np.zeros(grid, np.float32)
        cells = (rows[valid] // step, cols[valid] // step)
        np.add.at(total, cells, log_ratio)
        np.add.at(count, cells, 1.0)
        sigma_cells = c.sigma * width / step
        area = np.float32(2 * np.pi * sigma_cells ** 2)  # a normalised blur times this: sums
        total = cv2.GaussianBlur(total, (0, 0), sigma_cells) * area
        count = cv2.GaussianBlur(count, (0, 0), sigma_cells) * area
        weight = count + np.float32(c.prior)
        field = np.divide(total, weight, out=np.zeros_like(total), where=weight > 0)
        field = np.clip(field, -c.max_log_correction, c.max_log_correction)
        return cv2.resize(field, (width, height), interpolation=cv2.INTER_LINEAR)

    def _follow(self, previous: np.ndarray, grey: np.ndarray) -> None:
        """Carry every track into this frame (dropping the lost ones) and age the trails."""
        cv2, c = _cv2(), self.config
        trail = np.roll(self._trail, 1, axis=1)
        trail[:, 0] = np.nan
        if len(trail):
            lk = dict(winSize=(c.lk_window_px, c.lk_window_px), maxLevel=c.lk_levels)
            p0 = np.ascontiguousarray(trail[:, 1]).reshape(-1, 1, 2)
            p1, ok1, _ = cv2.calcOpticalFlowPyrLK(previous, grey, p0, None, **lk)
            back, ok2, _ = cv2.calcOpticalFlowPyrLK(grey, previous, p1, None, **lk)
            error = np.linalg.norm((back - p0).reshape(-1, 2), axis=1)
            keep = (ok1.ravel() == 1) & (ok2.ravel() == 1) & (error < c.fb_max_px)
            trail[:, 0] = p1.reshape(-1, 2)
            trail = trail[keep]
        self._trail = trail

    def _add_corners(self, grey: np.ndarray) -> None:
        cv2, c = _cv2(), self.config
        free = c.max_corners - len(self._trail)
        if free <= 0:
            return
        spacing = c.corner_spacing * grey.shape[1]
        new = cv2.goodFeaturesToTrack(grey, c.max_corners, c.corner_quality, spacing)
        new = np.zeros((0, 2), np.float32) if new is None else new.reshape(-1, 2)
        if len(self._trail) and len(new):
            new = new[far_from(new, self._trail[:, 0], spacing)]
        rows = np.full((len(new[:free]), c.max_frames + 1, 2), np.nan, np.float32)
        rows[:, 0] = new[:free]
        self._trail = np.concatenate([self._trail, rows])

    def _reference(self, width: int) -> int:
        """Frames back to the reference frame (0: none is far enough)."""
        c = self.config
        for back in range(1, c.max_frames + 1):
            alive = np.isfinite(self._trail[:, back, 0])
            if alive.sum() < c.min_points:
                return 0  # older frames have even fewer tracks
            moved = np.linalg.norm(self._trail[alive, 0] - self._trail[alive, back], axis=1)
            if np.median(moved) >= c.min_flow * width:
                return back
        return 0

    def _triangulate(self, intrinsics: Intrinsics) -> TrackPoints:
        cv2, c = _cv2(), self.config
        grid = self._grey.shape
        back = self._reference(grid[1])
        if not back:
            few = np.isfinite(self._trail[:, 1, 0]).sum() < c.min_points
            return TrackPoints.none(grid, 'few' if few else 'still')
        alive = np.isfinite(self._trail[:, back, 0])
        here = self._trail[alive, 0].astype(np.float64)
        there = self._trail[alive, back].astype(np.float64)
        k = np.array([[intrinsics.fx, 0.0, intrinsics.cx], [0.0, intrinsics.fy, intrinsics.cy],
                      [0.0, 0.0, 1.0]])
        essential, mask = cv2.findEssentialMat(here, there, k, cv2.USAC_ACCURATE, 0.999,
                                               c.ransac_px)
        if essential is None or essential.shape != (3, 3):
            return TrackPoints.none(grid, 'few', back)
        _, rotation, t, mask, _ = cv2.recoverPose(essential, here, there, k,
                                                  distanceThresh=1e3, mask=mask)
        t = t.ravel()
        homogeneous = cv2.triangulatePoints(k @ np.eye(3, 4), k @ np.c_[rotation, t],
                                            here.T, there.T)
        with np.errstate(divide='ignore', invalid='ignore'):
            xyz = (homogeneous[:3] / homogeneous[3]).T  # this camera, unit baseline
            centre = -rotation.T @ t  # the reference camera in this one
            ray_here = xyz / np.linalg.norm(xyz, axis=1, keepdims=True)
            ray_there = (xyz - centre) / np.linalg.norm(xyz - centre, axis=1, keepdims=True)
            parallax = np.degrees(np.arccos(np.clip((ray_here * ray_there).sum(1), -1, 1)))
            seen = (xyz @ rotation.T + t) @ k.T
            error = np.linalg.norm(seen[:, :2] / seen[:, 2:3] - there, axis=1)
        good = ((mask.ravel() > 0) & (xyz[:, 2] > 0) & (seen[:, 2] > 0)
                & (parallax >= c.min_parallax_deg) & (error <= c.max_reprojection_px))
        if good.sum() < c.min_points:
            return TrackPoints.none(grid, 'few', back)
        return TrackPoints(here[good].astype(np.float32), grid, xyz[good, 2], back, 'points')


def _cv2():
    try:
        import cv2
    except ImportError as exc:
        raise ConfigError('depth_refinement tracks needs OpenCV: pip install '
                          'opencv-python-headless (ROS: rosdep key python3-opencv)') from exc
    return cv2
