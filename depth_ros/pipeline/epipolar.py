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
   direction of travel is smoothed over the pairs since the last break, for a vehicle in its
   own frame (`pipeline.travel_direction`).
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
   identical frames) gives the identity; too few inliers gives None (no measurement).

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
from depth_ros.pipeline.travel_direction import TravelDirection


# What the camera is mounted on (`EpipolarConfig.for_motion`, the node's motion_model).
MOTION_MODELS = ('vehicle', 'free')
DEFAULT_MOTION_MODEL = 'vehicle'


@dataclass(frozen=True)
class EpipolarConfig:
    """Settings of `EpipolarOdometry` (the tracking tuned on KITTI 06 / 01, the dev drive and
    the synthetic seeds 2026 / 31337, checked on KITTI 00 and seeds 5-8:
    docs/learning/real_world_recipe.md, "Session 9"; the filter and the direction chosen on
    KITTI 00 and seeds 5-8: "Session 10", "Session 18"). The defaults are a vehicle's
    (`for_motion('vehicle')`).

    Attributes:
        max_corners, corner_quality, corner_spacing_px: Shi-Tomasi corners per frame (weak
            and dense: the 416x128 synthetic frames need them; neutral on KITTI).
        lk_window_px, lk_levels: Lucas-Kanade window and pyramid levels (a 9 px window beat
            21 px on KITTI 06 / 01 and the synthetic seeds: docs/learning/real_world_recipe.md).
        fb_max_px: forward-backward tracking error above which a track is dropped.
        ransac_px: epipolar inlier threshold (pixels).
        min_inliers: fewer inliers give no measurement.
        min_flow_px: median track length below which the camera is taken to stand still.
        max_depth_m: network depths beyond this do not measure the distance (far points
            triangulate poorly).
        relative_sigma: standard deviation of the log relative scale (the filter's motion
            noise).
        absolute_sigma: standard deviation of the log absolute measurement. Not the depth
            network's per-frame scale noise (about 0.1 on KITTI) but larger: that error is not
            white, the network's scale wanders with the scene for tens of frames, and a filter
            that believes each frame follows it. 1.0 (the relative ratio 100x as trusted; a
            time constant of about 100 frames) was chosen on KITTI 00 and synthetic seeds 5-8
            and checked on 06 / 01 / dev (docs/learning/real_world_recipe.md, "Session 10").
        max_width_px: images wider than this are tracked at this width (area-averaged, the
            intrinsics scaled; 0: full resolution); pixel thresholds are of that grid.
        min_parallax_deg: angle between the two rays to a point below which its triangulated
            depth is not returned (depth error ~ pixel noise / focal / angle).
        max_disagreement: a returned depth must agree with the same corner's triangulation
            from the pair before within this (log ratio; a track slipping along the epipolar
            line passes the essential matrix but not this).
        max_depth_contrast: new corners where the depth network's depth within 5x5 tracking
            cells varies by more than this factor (max / min) are not tracked: a corner on an
            occlusion boundary is no 3D point, and such corners biased the direction of
            travel (0: off).
        direction_smoothing: weight of the past in the exponentially smoothed direction of
            travel (0: each pair's own; the direction of a camera rigidly mounted on a vehicle
            changes slowly, the per-pair estimate scatters by tenths of a degree). 0.9 (with
            turn_compensation) was chosen on KITTI 00 and synthetic seeds 5-8 and checked on
            06 / 01 / dev and seeds 2026 / 31337 (docs/learning/real_world_recipe.md,
            "Session 18"); `motion_model: free` turns it off.
        max_direction_jump_deg: a measured direction further than this from the smoothed one
            restarts the smoothing (a reversing robot).
        turn_compensation: smooth the direction in the vehicle's frame
            (`pipeline.travel_direction`: over an arc a vehicle travels along the chord,
            half-way between its two headings).
    """

    max_corners: int = 1500
    corner_quality: float = 0.001
    corner_spacing_px: float = 4.0
    lk_window_px: int = 9
    lk_levels: int = 3
    fb_max_px: float = 0.3
    ransac_px: float = 0.5
    min_inliers: int = 30
    min_flow_px: float = 0.5
    max_depth_m: float = 40.0
    relative_sigma: float = 0.01
    absolute_sigma: float = 1.0
    min_parallax_deg: float = 1.0
    max_disagreement: float = 0.05
    max_width_px: int = 0
    max_depth_contrast: float = 1.2
    direction_smoothing: float = 0.9
    max_direction_jump_deg: float = 20.0
    turn_compensation: bool = True

    def __post_init__(self) -> None:
        positive = {k: getattr(self, k) for k in (
            'max_corners', 'corner_quality', 'lk_window_px', 'fb_max_px', 'ransac_px',
            'min_inliers', 'max_depth_m', 'relative_sigma', 'absolute_sigma',
            'max_disagreement')}
        bad = [f'{k}={v}' for k, v in positive.items() if not v > 0]
        zero_or_more = {k: getattr(self, k) for k in (
            'min_flow_px', 'lk_levels', 'max_width_px', 'min_parallax_deg',
            'max_depth_contrast', 'max_direction_jump_deg')}
        bad += [f'{k}={v}' for k, v in zero_or_more.items() if v < 0]
        if not 0 <= self.direction_smoothing < 1:
            bad.append(f'direction_smoothing={self.direction_smoothing} (must be in [0, 1))')
        if bad:
            raise ConfigError('epipolar odometry settings out of range (sizes, thresholds and '
                              'sigmas positive, the rest at least 0): ' + ', '.join(bad))

    @classmethod
    def for_motion(cls, motion_model: str) -> EpipolarConfig:
        """The settings for a platform: 'vehicle' (the camera rigidly mounted on something
        that moves along its heading: a car, a wheeled robot; the direction of travel is
        smoothed in its frame) or 'free' (a drone, a hand-held camera: each pair's own
        direction)."""
        if motion_model not in MOTION_MODELS:
            raise ConfigError(f'motion_model must be one of {MOTION_MODELS}, got '
                              f'{motion_model!r}')
        if motion_model == 'free':
            return cls(direction_smoothing=0.0, turn_compensation=False)
        return cls()


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
        self._grey, self._depth, self._full_size = grey, None, full_size
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
            self._forget_tracks()  # no baseline: no depth to carry
            return EpipolarStep(np.eye(4), 'still', len(a), 0, flow)
        return self._measure(a, b, carried_z, previous_depth, camera_matrix(intrinsics), flow)

    def remember_depth(self, depth_m: np.ndarray) -> None:
        """The depth (metres at the weights' scale) of the frame last given to `measure`."""
        if self._grey is None or np.shape(depth_m) != self._full_size:
            raise InputError(f'expected the depth of the last measured frame, '
                             f'{self._full_size}, got {np.shape(depth_m)}')
        self._depth = np.asarray(depth_m, dtype=np.float32)

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
        self._travel.reset()  # a break (still, lost): the next direction starts afresh

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
        _, rotation, direction, mask = cv2.recoverPose(essential, a, b, k, mask=mask)
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
        measured = good & np.isfinite(network) & (network > 0) & (network < c.max_depth_m)
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


def _parallax_deg(xyz: np.ndarray, rotation: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Angle between the rays from the two camera centres to each point (previous camera's
    frame; the current centre is -R^T t)."""
    centre = -rotation.T @ direction
    a, b = xyz, xyz - centre
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
