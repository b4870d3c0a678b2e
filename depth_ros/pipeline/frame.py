"""One frame in, one result out: depth in metres, its scale, camera motion, the chained pose.

The node (`depth_ros.ros.node`) and the evaluator (`depth_ros.evaluation.replay`) both call
`FramePipeline.process`, so what `depth-ros evaluate` scores is what the node publishes. Pure
Python: no ROS, and the predictor is any object with the `Predictor` methods (prepare /
predict / relative_pose / has_pose), so torch is imported only by whoever builds it.

Per frame: validate the image and intrinsics, run the depth network once on the prepared image,
pick the scale (`pipeline.scale`), chain the motion between this frame and the previous one
(`pipeline.odometry`; measured by two-view geometry with the depth network's metres
(`pipeline.epipolar`, the default) or with `odometry_source: posenet` by the pose network;
translation times the same scale as this frame's depth (with a ground scale, camera_height or
tf, the epipolar odometry is given the depth in those metres instead and measures the distance
from corners 5-15 m away: `EpipolarConfig.for_motion`); the identity when the motion gate
(`pipeline.motion_gate`) finds the two frames nearly identical), with `depth_refinement: tracks`
correct the depth by corners triangulated over several frames (`pipeline.track_depth`; the
published depth only), and subsample the depth for publishing. The epipolar odometry needs the
previous frame's depth only, so it measures on a thread of its own while the depth network works
on this frame (same results as one after the other; on a 2-core CPU the frame costs about the
slower of the two instead of their sum: docs/BENCHMARKS.md); the refinement's corner tracking
runs on another such thread.
Time going backwards, or forward by more than max_pose_gap_s, resets the chain and the scale
filter; the result's `chain.event` says so.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
import time
from typing import Any

import numpy as np

from depth_ros.errors import ConfigError, InputError
from depth_ros.geometry.camera import strided_intrinsics
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.inference.scale import DEFAULT_WINDOW, LOW_CONFIDENCE
from depth_ros.pipeline.epipolar import (
    EpipolarOdometry,
    EpipolarStep,
    follow_scale,
    grey_image,
)
from depth_ros.pipeline.epipolar_config import (
    DEFAULT_MOTION_MODEL,
    EpipolarConfig,
    check_motion_model,
)
from depth_ros.pipeline.motion_gate import DEFAULT_THRESHOLD as GATE_THRESHOLD
from depth_ros.pipeline.motion_gate import MotionGate
from depth_ros.pipeline.odometry import Event, GatedMotion, OdometryChain
from depth_ros.pipeline.results import DroppedFrame, FrameResult
from depth_ros.pipeline.scale import GROUND_SOURCES, Mounting, ScaleResult, ScaleTracker
from depth_ros.pipeline.track_depth import DEPTH_REFINEMENTS, TrackPoints, TrackRefiner


ODOMETRY_SOURCES = ('posenet', 'epipolar')
# Two-view geometry beats the pose network on every real set (docs/learning/real_world/).
DEFAULT_ODOMETRY_SOURCE = 'epipolar'


@dataclass(frozen=True)
class PipelineConfig:
    """How frames become results (the node's parameters of the same names).

    Attributes:
        scale_source: 'none', 'fixed', 'camera_height' or 'tf' (see `pipeline.scale`).
        scale: the fixed multiplier on top of the weights' calibration, and the fallback
            before a ground plane is trusted.
        mounting: the camera's height and the ground's up direction (camera-height scale).
        scale_window: frames in the camera-height filter's sliding median.
        scale_min_confidence: the least confidence of a camera-height factor that is applied;
            under it the last trusted factor is kept (`pipeline.scale.ScaleTracker`).
        depth_downsample: the result's depth keeps every N-th row and column.
        max_pose_gap_s: longest stamp step whose motion is measured; a longer step forward
            resets the chain (as time going backwards does).
        motion_gate_threshold: consecutive frames differing by at most this many grey levels
            (`pipeline.motion_gate`) get the identity as their motion; 0 turns the gate off.
        odometry_source: 'epipolar' (default: two-view geometry with the depth network's
            metres, `pipeline.epipolar`, in camera-height metres with a ground scale source;
            needs OpenCV, works with depth-only weights too) or
            'posenet' (the weights' pose network).
        motion_model: what the camera is mounted on, for the epipolar source: 'vehicle' (moves
            along its heading: the direction of travel is smoothed in its frame) or 'free'
            (drone, hand-held: each pair's own direction); `EpipolarConfig.for_motion`.
        depth_refinement: 'none' (default) or 'tracks': the published (and evaluated) depth
            corrected by corners triangulated over a longer baseline (`pipeline.track_depth`;
            needs OpenCV and a moving camera; more CPU per frame). The scale and the odometry
            keep the network's depth: the correction changes from frame to frame, and fed to
            the epipolar odometry it made the distance noisier (synthetic seed 31337, 5-frame
            ATE 0.45x -> 0.97x constant-forward).
    """

    scale_source: str = 'fixed'
    scale: float = 1.0
    mounting: Mounting = field(default_factory=lambda: Mounting.from_pitch(1.65, 0.0))
    scale_window: int = DEFAULT_WINDOW
    scale_min_confidence: float = LOW_CONFIDENCE
    depth_downsample: int = 1
    max_pose_gap_s: float = 1.0
    motion_gate_threshold: float = GATE_THRESHOLD
    odometry_source: str = DEFAULT_ODOMETRY_SOURCE
    motion_model: str = DEFAULT_MOTION_MODEL
    depth_refinement: str = 'none'

    def __post_init__(self) -> None:
        if self.depth_refinement not in DEPTH_REFINEMENTS:
            raise ConfigError(f'depth_refinement must be one of {DEPTH_REFINEMENTS}, got '
                              f'{self.depth_refinement!r}')
        if self.odometry_source not in ODOMETRY_SOURCES:
            raise ConfigError(f'odometry_source must be one of {ODOMETRY_SOURCES}, got '
                              f'{self.odometry_source!r}')
        check_motion_model(self.motion_model)
        if self.depth_downsample < 1:
            raise ConfigError(f'depth_downsample must be >= 1, got {self.depth_downsample}')
        if not self.max_pose_gap_s > 0:
            raise ConfigError(f'max_pose_gap_s must be positive, got {self.max_pose_gap_s}')
        if not 0 <= self.motion_gate_threshold <= 255:
            raise ConfigError('motion_gate_threshold must be in 0..255 grey levels, got '
                              f'{self.motion_gate_threshold}')


def check_frame(rgb: np.ndarray, intr: Intrinsics) -> tuple[Intrinsics, tuple[str, ...]]:
    """Validate an image and its intrinsics; intrinsics of another size are scaled to it.

    Returns:
        (intrinsics of the image, notes).

    Raises:
        InputError: not a non-empty [H, W, 3] uint8 image.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or rgb.size == 0:
        raise InputError(f'expected a non-empty [H, W, 3] uint8 RGB image, got shape '
                         f'{rgb.shape} dtype {rgb.dtype}')
    height, width = rgb.shape[:2]
    if (intr.width, intr.height) == (width, height):
        return intr, ()
    note = (f'camera_info describes {intr.width}x{intr.height} but the image is '
            f'{width}x{height}: scaling the intrinsics')
    return intr.scaled(width, height), (note,)


class FramePipeline:
    """The frame path shared by the node and the evaluator; state is the previous frame.

    Args:
        predictor: a `depth_ros.inference.Predictor` or anything with its methods.
        config: see PipelineConfig.
    """

    def __init__(self, predictor: Any, config: PipelineConfig | None = None) -> None:
        self.predictor = predictor
        self.config = config or PipelineConfig()
        self._chain = OdometryChain(self._gap_ns(self.config))
        self._scale = self._tracker(self.config)
        self._gate = MotionGate(self.config.motion_gate_threshold)
        self._epipolar = self._epipolar_for(self.config)
        self._refiner = self._refiner_for(self.config)
        self._pool: ThreadPoolExecutor | None = None  # the epipolar odometry's and the tracks'
        self._previous: Any = None
        self._last_motion: np.ndarray | None = None
        self._depth_scale: tuple[float, bool] | None = None  # `follow_scale`'s last

    @staticmethod
    def _gap_ns(config: PipelineConfig) -> int:
        return int(round(config.max_pose_gap_s * 1e9))

    @staticmethod
    def _tracker(config: PipelineConfig) -> ScaleTracker:
        return ScaleTracker(config.scale_source, config.scale, config.scale_window,
                            config.scale_min_confidence)

    @staticmethod
    def _epipolar_for(config: PipelineConfig) -> EpipolarOdometry | None:
        if config.odometry_source != 'epipolar':
            return None
        return EpipolarOdometry(EpipolarConfig.for_motion(config.motion_model,
                                                          _ground_scale(config)))

    @staticmethod
    def _refiner_for(config: PipelineConfig) -> TrackRefiner | None:
        return TrackRefiner() if config.depth_refinement == 'tracks' else None

    @property
    def measures_motion(self) -> bool:
        return self._epipolar is not None or bool(self.predictor.has_pose)

    def reconfigure(self, config: PipelineConfig) -> None:
        """Apply new settings from the next frame on; the chain and the filter carry on."""
        old, self.config = self.config, config
        self._chain.max_gap_ns = self._gap_ns(config)
        self._gate.threshold = config.motion_gate_threshold
        if (config.scale_source, config.scale, config.scale_window) != (
                old.scale_source, old.scale, old.scale_window):
            self._scale = self._tracker(config)
        self._scale.set_min_confidence(config.scale_min_confidence)
        if (config.odometry_source, config.motion_model, _ground_scale(config)) != (
                old.odometry_source, old.motion_model, _ground_scale(old)):
            self._epipolar, self._last_motion = self._epipolar_for(config), None
            self._depth_scale = None
        if config.depth_refinement != old.depth_refinement:
            self._refiner = self._refiner_for(config)

    def reset(self) -> None:
        """Forget the previous frame: the chain starts again at the identity."""
        self._chain.reset()
        self._scale.reset()
        self._gate.reset()
        if self._epipolar is not None:
            self._epipolar.reset()
        if self._refiner is not None:
            self._refiner.reset()
        self._previous = None
        self._last_motion = None
        self._depth_scale = None

    def process(self, rgb: np.ndarray, intrinsics: Intrinsics, stamp_ns: int,
                mounting: Mounting | None = None) -> FrameResult | DroppedFrame:
        """Depth, scale and odometry of one frame.

        Args:
            rgb: [H, W, 3] uint8 image.
            intrinsics: the camera's intrinsics (scaled to the image when its size differs).
            stamp_ns: the frame's stamp in nanoseconds.
            mounting: the camera's mounting for this frame (the 'tf' scale source); None uses
                the configured one.

        Returns:
            FrameResult, or DroppedFrame when the input is malformed.
        """
        config = self.config
        try:
            intr, notes = check_frame(rgb, intrinsics)
        except InputError as exc:
            return DroppedFrame(int(stamp_ns), 'invalid_input', str(exc))
        event = self._chain.classify(stamp_ns)
        if event in (Event.BACKWARDS, Event.GAP):
            self._scale.reset()  # a restart or a jump: the ground seen before says nothing now
        start = time.perf_counter()
        pending = self._start_epipolar(rgb, intr, event)  # beside the depth network
        tracking = self._start_tracks(rgb, intr, event)
        try:
            prepare = getattr(self.predictor, 'prepare', None)
            prepared = prepare(rgb) if prepare is not None else rgb
            prediction = self.predictor.predict(prepared)
        finally:  # never leave the epipolar state to a thread still running
            epipolar = pending.result() if pending is not None else None
            tracks = tracking.result() if tracking is not None else None
        network_s = time.perf_counter() - start
        scale = self._scale.update(prediction.depth_m, intr, mounting or config.mounting)
        previous, self._previous = self._previous, prepared
        motion_factor = scale.factor
        if self._epipolar is not None:
            depth_for_motion = prediction.depth_m
            if _ground_scale(config):  # it measures in camera-height metres
                depth_for_motion = depth_for_motion * np.float32(scale.factor)
                motion_factor = 1.0
            if epipolar is not None:
                self._epipolar.remember_depth(depth_for_motion)
                self._follow_scale(scale, config)
            measure, note = self._epipolar_motion(epipolar)
            notes += note
            status = _epipolar_status(epipolar)
        elif self.predictor.has_pose:
            def measure():
                return self.predictor.relative_pose(previous, prepared)
            status = 'posenet'
        else:
            measure, status = None, 'none (no pose network)'
        motion = GatedMotion(measure, motion_factor, self._gate.advance(rgb))
        step = self._chain.update(stamp_ns, motion)
        odometry = step if self.measures_motion else None
        depth_m, inv_depth_m = self._refined(prediction, tracks)  # what is published
        depth, rgb_out, intr_out = _subsampled(depth_m * np.float32(scale.factor), rgb, intr,
                                               config.depth_downsample)
        refinement = 'off' if self._refiner is None else TrackPoints.describe(tracks)
        return FrameResult(int(stamp_ns), depth, intr_out, rgb_out, inv_depth_m, scale,
                           odometry, step, motion.static, notes, network_s + motion.network_s,
                           status, refinement)

    def _follow_scale(self, scale: ScaleResult, config: PipelineConfig) -> None:
        if _ground_scale(config):
            self._depth_scale = follow_scale(self._epipolar, self._depth_scale, scale.factor,
                                             scale.trusted)

    def _start_epipolar(self, rgb: np.ndarray, intr: Intrinsics,
                        event: Event) -> Future | None:
        """Start measuring this frame's motion on the epipolar thread: it needs the previous
        frame's depth only, so it runs while the depth network works on this frame (OpenCV and
        the inference backends release the GIL). Every frame is fed, so the tracks and the
        filter stay current; None for a repeated stamp or without the epipolar source."""
        if self._epipolar is None or event is Event.REPEAT:
            return None
        if event.resets:
            self._epipolar.reset()
            self._last_motion = None
            self._depth_scale = None
        odometry = self._epipolar
        return self._submit(lambda: odometry.measure(grey_image(rgb), intr))

    def _start_tracks(self, rgb: np.ndarray, intr: Intrinsics, event: Event) -> Future | None:
        """Track this frame's corners for `depth_refinement: tracks` on a thread of their own
        (the images only, like the epipolar odometry); None without it or for a repeated
        stamp."""
        if self._refiner is None or event is Event.REPEAT:
            return None
        if event.resets:
            self._refiner.reset()
        refiner = self._refiner
        return self._submit(lambda: refiner.measure(grey_image(rgb), intr))

    def _submit(self, work: Callable[[], Any]) -> Future:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(2, thread_name_prefix='depth_ros_geometry')
        return self._pool.submit(work)

    def _refined(self, prediction: Any, tracks: TrackPoints | None,
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(depth, inverse depth) in the weights' metres: the network's, or with
        `depth_refinement: tracks` and points this frame, corrected by them."""
        if self._refiner is None or tracks is None or not len(tracks.depth):
            return prediction.depth_m, np.asarray(prediction.inv_depth_m, dtype=np.float32)
        depth = self._refiner.refine(np.asarray(prediction.depth_m, np.float32), tracks)
        return depth, (1.0 / depth).astype(np.float32)

    def _epipolar_motion(self, result: EpipolarStep | None,
                         ) -> tuple[Callable[[], np.ndarray], tuple[str, ...]]:
        """The epipolar motion of this pair; a pair it cannot measure repeats the last motion
        (constant velocity) and says so; a repeated stamp is the identity."""
        if result is None:
            return (lambda: np.eye(4)), ()
        notes: tuple[str, ...] = ()
        if result.previous_from_current is not None:
            self._last_motion = result.previous_from_current
        elif result.status == 'lost':
            notes = (f'epipolar odometry could not measure this pair ({result.tracks} tracks, '
                     f'{result.inliers} inliers): the last motion is repeated',)
        last = self._last_motion
        return (lambda: np.eye(4) if last is None else last.copy()), notes


def _ground_scale(config: PipelineConfig) -> bool:
    """The epipolar odometry measures in the depth's camera-height metres: its factor is
    in the depth it is given and not applied to its steps again."""
    return config.odometry_source == 'epipolar' and config.scale_source in GROUND_SOURCES


def _epipolar_status(step: EpipolarStep | None) -> str:
    """`FrameResult.odometry_status` of the epipolar source."""
    if step is None:
        return 'epipolar: repeated stamp'
    counts = f'({step.tracks} tracks, {step.inliers} inliers)'
    return 'epipolar: ' + {'motion': f'motion {counts}', 'still': 'still (no flow)',
                           'lost': f'lost, last motion repeated {counts}',
                           'first': 'first frame'}.get(step.status, step.status)


def _subsampled(depth: np.ndarray, rgb: np.ndarray, intr: Intrinsics,
                step: int) -> tuple[np.ndarray, np.ndarray, Intrinsics]:
    """Every `step`-th row and column of the depth and colours, with their intrinsics."""
    if step > 1:
        depth, rgb = depth[::step, ::step], rgb[::step, ::step]
        intr = strided_intrinsics(intr, step)
    return np.ascontiguousarray(depth, dtype=np.float32), np.ascontiguousarray(rgb), intr
