"""Epipolar odometry: camera motion from tracked corners, metres from the depth network (OpenCV).

The pose network's odometry is no better than "drive straight" on real footage
(docs/learning/real_world_recipe.md); the geometry of two views is. Per pair of consecutive
frames:

1. Shi-Tomasi corners of the previous frame (plus the corners carried over from the pair
   before; none where the depth network sees an occlusion boundary) are tracked into the
   current frame with pyramidal Lucas-Kanade, kept where tracking back lands within
   `fb_max_px` of the start (forward-backward check, Kalal et al. 2010).
2. The essential matrix (five-point solver in OpenCV's USAC with local optimisation,
   Barath et al.) gives the rotation and the direction of travel; `recoverPose` picks the
   solution with the points in front of both cameras (Hartley & Zisserman, sec. 9.6.3). The
   direction of travel is smoothed over the pairs, for a vehicle in its own frame and kept
   over breaks (`pipeline.travel_direction`).
3. Triangulating the inliers at a unit baseline, the distance travelled is measured twice:
   - absolutely: the median of (depth network's depth / triangulated depth) over the inliers,
     metres at the weights' scale; it carries the depth network's frame-to-frame scale noise
     (about 9 % on KITTI);
   - relatively: corners seen in three frames have a triangulated depth in the middle frame
     from both pairs, whose ratio is this pair's distance over the last one's (the classical
     monocular relative scale: precise, but it drifts).
   A scalar Kalman filter on the log distance takes the relative ratio as its motion model and
   the absolute measurement as its observation, so the distance keeps the relative ratio's
   precision and the network's metres without its drift.
4. Too little motion to see (median track length under `min_flow_px`, a still camera or two
   identical frames) gives the identity, and the frame before the stop stays the reference
   (its corners, their depth, the distance filter and the direction carry on over the stop; a
   slow creep adds up against it until it can be measured); too few inliers gives None (no
   measurement).

`EpipolarOdometry.step` returns previous_from_current like `Predictor.relative_pose`; the frame
pipeline (`pipeline.frame`, `odometry_source: epipolar`) chains it in place of the pose network.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math

import numpy as np

from depth_ros.errors import ConfigError, InputError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.geometry.se3 import invert
from depth_ros.pipeline.corners import depth_contrast, far_from
from depth_ros.pipeline.epipolar_config import EpipolarConfig
from depth_ros.pipeline.travel_direction import TravelDirection


@dataclass(frozen=True)
class EpipolarStep:
    """What one pair gave.

    Attributes:
        previous_from_current: [4, 4] float64 (translation in metres at the weights' scale),
            or None when the pair could not be measured.
        status: 'motion', 'still' (too little flow: the identity), 'lost' (too few tracks or
            inliers) or 'first' (no previous frame).
        tracks, inliers: corners tracked and epipolar inliers.
        flow_px: median track length in pixels.
        previous_pixels, previous_depth_m: the inliers tracked over three frames whose two
            triangulations agree, seen from both cameras at least `min_parallax_deg` apart:
            [N, 2] (x, y) pixels of the previous frame and their triangulated depth there
            ([N], metres at the measured distance); sparse depth for training
            (`training.data.geometric_depth`). Empty unless the status is 'motion'.
    """

    previous_from_current: np.ndarray | None
    status: str
    tracks: int = 0
    inliers: int = 0
    flow_px: float = 0.0
    previous_pixels: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32),
                                        repr=False)
    previous_depth_m: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)


def _cv2():
    try:
        import cv2
    except ImportError as exc:
        raise ConfigError('odometry_source epipolar needs OpenCV: pip install '
                          'opencv-python-headless (ROS: rosdep key python3-opencv)') from exc
    return cv2


def grey_image(rgb: np.ndarray) -> np.ndarray:
    """[H, W] uint8 BT.601 luma of an [H, W, 3] (or already grey [H, W]) uint8 image."""
    image = np.asarray(rgb)
    if image.ndim == 2:
        return np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] < 3:
        raise InputError(f'expected an [H, W] or [H, W, 3] image, got shape {image.shape}')
    return _cv2().cvtColor(np.ascontiguousarray(image[..., :3], dtype=np.uint8),
                           _cv2().COLOR_RGB2GRAY)


def camera_matrix(intr: Intrinsics) -> np.ndarray:
    return np.array([[intr.fx, 0.0, intr.cx], [0.0, intr.fy, intr.cy], [0.0, 0.0, 1.0]])


class EpipolarOdometry:
    """Frame-to-frame motion from two views; state: the previous frame and the distance filter.

    Call `step(grey, depth_m, intrinsics)` once per frame in order (or `measure` and then
    `remember_depth`, which lets the depth network run meanwhile); `reset()` forgets the past
    (the frame pipeline calls it when its chain resets).
    """

    def __init__(self, config: EpipolarConfig | None = None) -> None:
        _cv2()  # a missing OpenCV is a configuration error now, not at the first frame
        self.config = config or EpipolarConfig()
        self.reset()

    def reset(self) -> None:
        self._grey: np.ndarray | None = None
        self._depth: np.ndarray | None = None  # None until remember_depth
        self._full_size: tuple[int, ...] = ()
        self._carried = np.zeros((0, 2), np.float32)  # corners in the previous frame
        self._carried_z = np.zeros(0)  # their depth there at the last pair's unit baseline
        self._travel = TravelDirection(self.config.direction_smoothing,
                                       self.config.max_direction_jump_deg,
                                       self.config.turn_compensation)
        self._log_distance: float | None = None  # the filter's state and variance
        self._variance = 0.0
        self._held = False  # the last frame was still: the reference before it was kept

    def step(self, grey: np.ndarray, depth_m: np.ndarray, intrinsics: Intrinsics) -> EpipolarStep:
        """Motion from the previous frame to this one: `measure` then `remember_depth`.

        Args:
            grey: [H, W] uint8 image of this frame.
            depth_m: [H, W] depth of this frame (metres at the weights' scale).
            intrinsics: of both frames (one camera).
        """
        if np.shape(depth_m) != np.shape(grey):
            raise InputError(f'expected an image and a depth map of its size, got '
                             f'{np.shape(grey)} and {np.shape(depth_m)}')
        result = self.measure(grey, intrinsics)
        self.remember_depth(depth_m)
        return result

    def measure(self, grey: np.ndarray, intrinsics: Intrinsics) -> EpipolarStep:
        """Motion from the previous frame to this one. It needs the previous frame's depth,
        not this one's, so it can run while the depth network works on this frame (the frame
        pipeline does that); give this frame's depth with `remember_depth` before the next
        call, or the next pair is not measured (status 'first').

        Args:
            grey: [H, W] uint8 image of this frame.
            intrinsics: of both frames (one camera).
        """
        grey = np.asarray(grey)
        if grey.ndim != 2 or grey.dtype != np.uint8:
            raise InputError(f'expected an [H, W] uint8 image, got {grey.shape} {grey.dtype}')
        full_size = grey.shape
        grey, intrinsics = self._tracking_grid(grey, intrinsics)
        previous, previous_depth = self._grey, self._depth
        self._grey, self._depth, self._full_size, self._held = grey, None, full_size, False
        if previous is None or previous_depth is None or previous.shape != grey.shape or \
                previous_depth.shape != full_size:
            self._forget_tracks()
            return EpipolarStep(None, 'first')
        a, b, carried_z = self._track(previous, grey, previous_depth)
        flow = float(np.median(np.linalg.norm(b - a, axis=1))) if len(a) else 0.0
        if len(a) < self.config.min_inliers:
            self._forget_tracks()
            return EpipolarStep(None, 'lost', len(a), 0, flow)
        if flow < self.config.min_flow_px:
            if self.config.still_holds_reference:  # the camera has not moved: keep it all
                self._grey, self._depth, self._held = previous, previous_depth, True
            else:
                self._forget_tracks()  # no baseline: no depth to carry
            return EpipolarStep(np.eye(4), 'still', len(a), 0, flow)
        return self._measure(a, b, carried_z, previous_depth, camera_matrix(intrinsics), flow)

    def remember_depth(self, depth_m: np.ndarray) -> None:
        """The depth (metres at the weights' scale) of the frame last given to `measure`."""
        if self._grey is None or np.shape(depth_m) != self._full_size:
            raise InputError(f'expected the depth of the last measured frame, '
                             f'{self._full_size}, got {np.shape(depth_m)}')
        if not self._held:  # a held reference keeps its own depth
            self._depth = np.asarray(depth_m, dtype=np.float32)

    def rescale(self, ratio: float) -> None:
        """The depth's metres change by `ratio` from the depth last remembered on (a scale
        factor that jumps): the distance filter and a held reference's depth follow, so the
        relative scale carries on in the new metres instead of being corrected slowly."""
        if not (ratio > 0 and math.isfinite(ratio)):
            raise InputError(f'expected a positive ratio, got {ratio}')
        if self._log_distance is not None:
            self._log_distance += math.log(ratio)
        if self._held and self._depth is not None:
            self._depth = self._depth * np.float32(ratio)

    def _tracking_grid(self, grey: np.ndarray,
                       intrinsics: Intrinsics) -> tuple[np.ndarray, Intrinsics]:
        """The image and intrinsics corners are tracked in (at most max_width_px wide)."""
        limit = self.config.max_width_px
        intrinsics = intrinsics.scaled(grey.shape[1], grey.shape[0])
        if not limit or grey.shape[1] <= limit:
            return grey, intrinsics
        size = (limit, max(1, round(grey.shape[0] * limit / grey.shape[1])))
        small = _cv2().resize(grey, size, interpolation=_cv2().INTER_AREA)
        return small, intrinsics.scaled(*size)

    def _forget_tracks(self) -> None:
        self._carried, self._carried_z = np.zeros((0, 2), np.float32), np.zeros(0)
        if not self.config.turn_compensation:  # a vehicle's mount direction carries on
            self._travel.reset()  # a break: the next direction starts afresh

    def _track(self, previous: np.ndarray, grey: np.ndarray, previous_depth: np.ndarray):
        """(corners in the previous frame, where they are now, their carried depth or NaN)."""
        cv2, c = _cv2(), self.config
        new = cv2.goodFeaturesToTrack(previous, c.max_corners, c.corner_quality,
                                      c.corner_spacing_px)
        new = np.zeros((0, 2), np.float32) if new is None else new.reshape(-1, 2)
        if c.max_depth_contrast > 0 and len(new):
            new = new[depth_contrast(previous_depth, previous.shape, new)
                      <= c.max_depth_contrast]
        if len(self._carried) and len(new):
            # New corners only where no carried corner is already.
            new = new[far_from(new, self._carried, c.corner_spacing_px)]
        start = np.concatenate([self._carried, new]).astype(np.float32)
        carried_z = np.concatenate([self._carried_z, np.full(len(new), np.nan)])
        if not len(start):
            return start, start, carried_z
        lk = dict(winSize=(c.lk_window_px, c.lk_window_px), maxLevel=c.lk_levels)
        p0 = start.reshape(-1, 1, 2)
        p1, ok1, _ = cv2.calcOpticalFlowPyrLK(previous, grey, p0, None, **lk)
        back, ok2, _ = cv2.calcOpticalFlowPyrLK(grey, previous, p1, None, **lk)
        error = np.linalg.norm((back - p0).reshape(-1, 2), axis=1)
        keep = (ok1.ravel() == 1) & (ok2.ravel() == 1) & (error < c.fb_max_px)
        return start[keep], p1.reshape(-1, 2)[keep], carried_z[keep]

    def _measure(self, a, b, carried_z, previous_depth, k, flow) -> EpipolarStep:
        cv2, c = _cv2(), self.config
        essential, mask = cv2.findEssentialMat(a, b, k, cv2.USAC_ACCURATE, 0.999, c.ransac_px)
        if essential is None or essential.shape != (3, 3):
            self._forget_tracks()
            return EpipolarStep(None, 'lost', len(a), 0, flow)
        _, rotation, direction, mask, _ = cv2.recoverPose(
            essential, a, b, k, distanceThresh=c.cheirality_baselines, mask=mask)
        inliers = mask.ravel() > 0
        if inliers.sum() < c.min_inliers:
            self._forget_tracks()
            return EpipolarStep(None, 'lost', len(a), int(inliers.sum()), flow)
        direction = direction.ravel()  # current_from_previous translation, unit length
        points = cv2.triangulatePoints(k @ np.eye(3, 4), k @ np.c_[rotation, direction],
                                       a.T.astype(np.float64), b.T.astype(np.float64))
        xyz = (points[:3] / points[3]).T  # previous camera, unit baseline
        z_prev, z_cur = xyz[:, 2], (xyz @ rotation.T + direction)[:, 2]
        good = inliers & (z_prev > 0) & (z_cur > 0) & np.isfinite(z_prev)
        # Corners are in the tracking grid; the depth (and the returned pixels) at full size.
        to_full = np.array([previous_depth.shape[1] / self._grey.shape[1],
                            previous_depth.shape[0] / self._grey.shape[0]])
        full = (a + 0.5) * to_full - 0.5
        rows = np.clip(np.round(full[:, 1]).astype(int), 0, previous_depth.shape[0] - 1)
        cols = np.clip(np.round(full[:, 0]).astype(int), 0, previous_depth.shape[1] - 1)
        network = previous_depth[rows, cols]
        near = good & (z_prev < c.near_baselines)
        if c.near_baselines < c.cheirality_baselines and near.sum() >= c.min_inliers:
            good = near  # far points triangulate poorly: measure and carry the near ones
        measured = good & np.isfinite(network) & (network > 0) & (network < c.max_depth_m)
        if c.measure_band_m is not None:
            band = measured & (network >= c.measure_band_m[0]) & (network < c.measure_band_m[1])
            measured = band if band.sum() >= c.min_inliers else measured
        absolute = (float(np.median(network[measured] / z_prev[measured]))
                    if measured.sum() >= c.min_inliers else None)
        linked = good & np.isfinite(carried_z)
        relative = (float(np.median(carried_z[linked] / z_prev[linked]))
                    if linked.sum() >= c.min_inliers else None)
        distance = self._filter(absolute, relative)
        travel = self._travel.update(direction, rotation)
        self._carried = b[good].astype(np.float32)
        self._carried_z = z_cur[good]
        if distance is None:
            return EpipolarStep(None, 'lost', len(a), int(inliers.sum()), flow)
        current_from_previous = np.eye(4)
        current_from_previous[:3, :3] = rotation
        current_from_previous[:3, 3] = travel * distance
        # Sparse depth: seen in three frames, the two triangulations agreeing, and sharp.
        sharp = linked & (_parallax_deg(xyz, rotation, direction) >= c.min_parallax_deg)
        if relative is not None:
            with np.errstate(divide='ignore', invalid='ignore'):
                agree = np.abs(np.log(carried_z / z_prev / relative)) <= c.max_disagreement
            sharp &= agree
        else:
            sharp[:] = False
        return EpipolarStep(invert(current_from_previous), 'motion', len(a),
                            int(inliers.sum()), flow, full[sharp].astype(np.float32),
                            z_prev[sharp] * distance)

    def _filter(self, absolute: float | None, relative: float | None) -> float | None:
        """Distance of this pair: the relative ratio predicts, the absolute measurement
        corrects (Kalman filter on the log distance)."""
        c = self.config
        if self._log_distance is not None and relative is not None and relative > 0:
            self._log_distance += math.log(relative)
            self._variance += c.relative_sigma ** 2
        else:  # no link to the last pair: only the measurement can say
            self._log_distance, self._variance = None, 0.0
        if absolute is not None and absolute > 0:
            if self._log_distance is None:
                self._log_distance, self._variance = math.log(absolute), c.absolute_sigma ** 2
            else:
                gain = self._variance / (self._variance + c.absolute_sigma ** 2)
                self._log_distance += gain * (math.log(absolute) - self._log_distance)
                self._variance *= 1.0 - gain
        return None if self._log_distance is None else math.exp(self._log_distance)


def follow_scale(odometry: EpipolarOdometry, last: tuple[float, bool] | None, factor: float,
                 trusted: bool) -> tuple[float, bool]:
    """With a ground scale the odometry's depth jumps when the applied factor changes source
    (`scale` until a factor is trusted, a held factor until the filter's is trusted again): its
    distance follows at once (`EpipolarOdometry.rescale`) instead of over many frames.

    Args:
        odometry: given this frame's depth times `factor` (after `remember_depth`).
        last: what this returned for the previous frame (None after a reset).
        factor: this frame's applied factor; trusted: it is the filter's own.

    Returns:
        (factor, trusted), the next call's `last`.
    """
    if last is not None and trusted != last[1]:
        odometry.rescale(factor / last[0])
    return float(factor), bool(trusted)


def _parallax_deg(xyz: np.ndarray, rotation: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Angle between the rays from the two camera centres to each point (previous camera's
    frame; the current centre is -R^T t)."""
    centre = -rotation.T @ direction
    a, b = xyz, xyz - centre
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
