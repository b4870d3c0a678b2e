"""The frame pipeline: one frame in, one result out (depth, scale, motion, chained pose).

Pure Python and free of ROS: the node and the evaluator both call `FramePipeline.process`, so
what is evaluated is what is published.

Modules:
    frame: FramePipeline, PipelineConfig; results: FrameResult, DroppedFrame.
    scale: the scale sources (none, fixed, camera_height, tf) and the camera mounting.
    odometry: the one chaining of frame-to-frame motion, with its reset events.
    motion_gate: nearly identical consecutive frames get no motion.
    epipolar: motion from tracked corners and two-view geometry (odometry_source: epipolar).
    track_depth: depth corrected by corners triangulated over a long baseline
        (depth_refinement: tracks).
    mounting: camera motion as robot-base motion (REP 105) is in `depth_ros.geometry.mounting`.
"""
from depth_ros.pipeline.frame import (
    DroppedFrame,
    FramePipeline,
    FrameResult,
    PipelineConfig,
    check_frame,
)
from depth_ros.pipeline.motion_gate import MotionGate
from depth_ros.pipeline.odometry import Event, OdometryChain, OdometryStep
from depth_ros.pipeline.scale import SCALE_SOURCES, Mounting, ScaleResult, ScaleTracker


__all__ = ['SCALE_SOURCES', 'DroppedFrame', 'Event', 'FramePipeline', 'FrameResult', 'MotionGate',
           'Mounting', 'OdometryChain', 'OdometryStep', 'PipelineConfig', 'ScaleResult',
           'ScaleTracker', 'check_frame']
