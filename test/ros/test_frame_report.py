"""What a frame's result makes the node say: warnings by cause and the diagnostics values.

Scale results come from the real `ScaleTracker` on constructed flat roads (known factor, known
confidence k / 5 after k frames), chain steps from the real `OdometryChain` fed stamps.
"""
from dataclasses import replace

import numpy as np
import pytest

from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.pipeline import FrameResult
from depth_ros.pipeline.odometry import Event, OdometryChain
from depth_ros.pipeline.scale import Mounting, ScaleTracker
from depth_ros.ros.diagnostics import DiagnosticsState
from depth_ros.ros.frame_report import frame_warnings, record
from depth_ros.ros.params import NodeConfig


INTR = Intrinsics(fx=200.0, fy=200.0, cx=160.0, cy=48.0, width=320, height=96)
MOUNTING = Mounting.from_pitch(1.65)
FACTOR = 3.0


def road(factor: float) -> np.ndarray:
    """Depth of a flat road 1.65 m below the camera, divided by `factor`."""
    v = np.arange(INTR.height, dtype=np.float64)[:, None].repeat(INTR.width, 1)
    with np.errstate(divide='ignore'):
        depth = np.where(v > INTR.cy + 1, 1.65 * INTR.fy / (v - INTR.cy), np.nan)
    return depth / factor


def result(scale, chain_step, notes=(), static=None) -> FrameResult:
    empty = np.zeros((2, 2), np.float32)
    return FrameResult(stamp_ns=7, depth_m=empty, intrinsics=INTR, rgb=empty,
                       unscaled_inv_depth_m=empty, scale=scale, odometry=None, chain=chain_step,
                       static=static, notes=notes, odometry_status='epipolar: first frame')


def start_step():
    return OdometryChain(max_gap_ns=10**9).update(0, lambda: np.eye(4))


def test_a_fixed_scale_and_a_steady_chain_say_nothing():
    fixed = ScaleTracker('fixed', scale=1.0, window=30).update(road(FACTOR), INTR, MOUNTING)
    assert frame_warnings(result(fixed, start_step()), NodeConfig()) == []
    state = DiagnosticsState()
    record(state, result(fixed, start_step()), NodeConfig())
    assert state.scale_confidence is None and state.scale_applied == 'n/a'
    assert state.odometry == 'epipolar: first frame'
    assert state.depth_refinement == 'off'


def test_what_the_depth_refinement_did_reaches_the_diagnostics():
    fixed = ScaleTracker('fixed', scale=1.0, window=30).update(road(FACTOR), INTR, MOUNTING)
    frame = result(fixed, start_step())
    refined = replace(frame, depth_refinement='tracks: 40 points, 3 frames back')
    state = DiagnosticsState()
    record(state, refined, NodeConfig(depth_refinement='tracks'))
    assert state.depth_refinement == 'tracks: 40 points, 3 frames back'


@pytest.mark.parametrize('stamps, direction', [((10**9, 0), 'backwards'),
                                               ((0, 5 * 10**9), 'forward')])
def test_a_time_jump_is_reported_with_its_size(stamps, direction):
    chain = OdometryChain(max_gap_ns=10**9)
    chain.update(stamps[0], lambda: np.eye(4))
    step = chain.update(stamps[1], lambda: np.eye(4))
    assert step.event in (Event.BACKWARDS, Event.GAP)
    fixed = ScaleTracker('fixed', scale=1.0, window=30).update(road(FACTOR), INTR, MOUNTING)
    (cause, message), = frame_warnings(result(fixed, step), NodeConfig())
    seconds = abs(stamps[1] - stamps[0]) * 1e-9
    assert cause == 'time_jump' and f'jumped {direction} by {seconds:.3f} s' in message


def test_the_camera_height_scale_is_reported_untrusted_then_trusted_then_held():
    config = NodeConfig(scale_source='camera_height', scale=1.5, scale_min_confidence=0.7)
    tracker = ScaleTracker('camera_height', scale=1.5, window=6, min_confidence=0.7)
    state = DiagnosticsState()
    first = tracker.update(road(FACTOR), INTR, MOUNTING)  # confidence 0.2
    (cause, message), = frame_warnings(result(first, start_step()), config)
    assert cause == 'no_ground' and 'confidence 0.20 under scale_min_confidence 0.7' in message
    assert 'with scale 1.5 until' in message
    record(state, result(first, start_step()), config)
    assert state.scale_confidence == pytest.approx(0.2)
    assert state.scale_applied == 'scale (no trusted ground plane yet)'

    for _ in range(5):
        trusted = tracker.update(road(FACTOR), INTR, MOUNTING)
    assert frame_warnings(result(trusted, start_step()), config) == []
    record(state, result(trusted, start_step()), config)
    assert state.scale_applied == 'ground plane' and state.scale_confidence == 1.0

    held = None
    for i in range(6):  # roads that disagree (2x, 0.5x) drive the confidence down
        r = tracker.update(road(FACTOR * (2.0 if i % 2 else 0.5)), INTR, MOUNTING)
        held = r if r.held else held
    assert held is not None
    (cause, message), = frame_warnings(result(held, start_step()), config)
    assert cause == 'scale_held' and f'last trusted factor {FACTOR:.3f}' in message
    record(state, result(held, start_step()), config)
    assert state.scale_applied == 'last trusted factor (confidence under the minimum)'


def test_notes_and_the_motion_gate_reach_the_operator():
    fixed = ScaleTracker('fixed', scale=1.0, window=30).update(road(FACTOR), INTR, MOUNTING)
    frame = result(fixed, start_step(), notes=('image 3x2 is smaller than the network',),
                   static=True)
    assert frame_warnings(frame, NodeConfig()) == [
        ('note', 'image 3x2 is smaller than the network')]
    state = DiagnosticsState()
    record(state, frame, NodeConfig(motion_gate_threshold=1.0))
    assert state.motion_gate == 'static (motion published as zero)'
    record(state, frame, NodeConfig(motion_gate_threshold=0.0))
    assert state.motion_gate == 'off'


def test_a_ground_tilted_from_the_mounting_names_the_pitch():
    # A level road, a mounting pitched 10 degrees down: the plane tilts 10 degrees from it.
    config = NodeConfig(scale_source='camera_height', camera_pitch_deg=10.0)
    tracker = ScaleTracker('camera_height', scale=1.0, window=30, min_confidence=0.4)
    first = tracker.update(road(FACTOR), INTR, Mounting.from_pitch(1.65, 10.0))
    assert first.estimate.plane.tilt_deg == pytest.approx(10.0, abs=0.05)
    (cause, message), = frame_warnings(result(first, start_step()), config)
    assert cause == 'no_ground'
    assert 'the fitted ground is tilted 10.0 degrees' in message and 'camera_pitch_deg' in message
    state = DiagnosticsState()
    record(state, result(first, start_step()), config)
    assert state.ground_tilt_deg == pytest.approx(10.0, abs=0.05)
    level = ScaleTracker('camera_height', scale=1.0, window=30, min_confidence=0.4)
    (_, message), = frame_warnings(result(level.update(road(FACTOR), INTR, MOUNTING),
                                          start_step()), config)
    assert 'tilted' not in message  # confidence 0.2 on the first frame, the plane level
