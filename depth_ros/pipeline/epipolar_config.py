"""Settings of the epipolar odometry (`pipeline.epipolar`) and the motion models behind the
node's `motion_model` parameter."""
from __future__ import annotations

from dataclasses import dataclass

from depth_ros.errors import ConfigError


# What the camera is mounted on (`EpipolarConfig.for_motion`, the node's motion_model).
MOTION_MODELS = ('vehicle', 'free')
DEFAULT_MOTION_MODEL = 'vehicle'
# With a ground scale (scale_source camera_height / tf) the odometry sees the depth in
# camera-height metres and measures the distance from corners this far away: where the road
# that fixes the scale is, so the depth network's range compression (near too far, far too
# near) cancels. Chosen on KITTI 00 and synthetic seeds 5-8 (docs/learning/
# real_world_recipe.md, "Session 21").
GROUND_MEASURE_BAND_M = (5.0, 15.0)


def check_motion_model(motion_model: str) -> None:
    """Raise ConfigError unless `motion_model` is one of MOTION_MODELS."""
    if motion_model not in MOTION_MODELS:
        raise ConfigError(f'motion_model must be one of {MOTION_MODELS}, got {motion_model!r}')


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
        measure_band_m: (near, far) metres: the distance is measured from the corners whose
            depth lies in this band when there are at least min_inliers of them, else from
            all nearer than max_depth_m (None: always from all).
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
            half-way between its two headings); that direction is the mount's, so it is kept
            when tracking is lost.
        cheirality_baselines: inliers in front of both cameras but farther than this many
            baselines do not count (`recoverPose`'s distanceThresh). OpenCV's default, 50,
            left out nearly every corner of a slow camera (a car braking, a walking robot)
            and the pair was lost; the default counts them all (the training recipe's
            tracking pins 50).
        near_baselines: the distance is measured, and corners carried to the next pair, from
            the inliers nearer than this many baselines (the limit OpenCV's `recoverPose`
            applies by default) when there are at least min_inliers of them, else from all.
        still_holds_reference: a still pair keeps the frame before it as the reference, so
            tracks, relative scale and direction carry on over a stop (off: a stop starts
            them afresh, as before session 18).
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
    measure_band_m: tuple[float, float] | None = None
    relative_sigma: float = 0.01
    absolute_sigma: float = 1.0
    min_parallax_deg: float = 1.0
    max_disagreement: float = 0.05
    max_width_px: int = 0
    max_depth_contrast: float = 1.2
    direction_smoothing: float = 0.9
    max_direction_jump_deg: float = 20.0
    turn_compensation: bool = True
    still_holds_reference: bool = True
    cheirality_baselines: float = 1e12
    near_baselines: float = 50.0

    def __post_init__(self) -> None:
        positive = {k: getattr(self, k) for k in (
            'max_corners', 'corner_quality', 'lk_window_px', 'fb_max_px', 'ransac_px',
            'min_inliers', 'max_depth_m', 'relative_sigma', 'absolute_sigma',
            'max_disagreement', 'cheirality_baselines', 'near_baselines')}
        bad = [f'{k}={v}' for k, v in positive.items() if not v > 0]
        zero_or_more = {k: getattr(self, k) for k in (
            'min_flow_px', 'lk_levels', 'max_width_px', 'min_parallax_deg',
            'max_depth_contrast', 'max_direction_jump_deg')}
        bad += [f'{k}={v}' for k, v in zero_or_more.items() if v < 0]
        if self.measure_band_m is not None:
            try:
                band = tuple(float(v) for v in self.measure_band_m)
            except (TypeError, ValueError):
                band = ()
            if len(band) != 2 or not 0 <= band[0] < band[1]:
                bad.append(f'measure_band_m={self.measure_band_m!r} (must be near, far metres '
                           'with 0 <= near < far)')
            else:
                object.__setattr__(self, 'measure_band_m', band)  # lists from JSON / YAML too
        if not 0 <= self.direction_smoothing < 1:
            bad.append(f'direction_smoothing={self.direction_smoothing} (must be in [0, 1))')
        if bad:
            raise ConfigError('epipolar odometry settings out of range (sizes, thresholds and '
                              'sigmas positive, the rest at least 0): ' + ', '.join(bad))

    @classmethod
    def for_motion(cls, motion_model: str, ground_scale: bool = False) -> EpipolarConfig:
        """The settings for a platform: 'vehicle' (the camera rigidly mounted on something
        that moves along its heading: a car, a wheeled robot; the direction of travel is
        smoothed in its frame) or 'free' (a drone, a hand-held camera: each pair's own
        direction). `ground_scale`: the depth it is given is in camera-height metres (the
        frame pipeline's camera_height / tf scale sources), so the distance is measured from
        corners GROUND_MEASURE_BAND_M away."""
        check_motion_model(motion_model)
        band = GROUND_MEASURE_BAND_M if ground_scale else None
        if motion_model == 'free':
            return cls(direction_smoothing=0.0, turn_compensation=False, measure_band_m=band)
        return cls(measure_band_m=band)
