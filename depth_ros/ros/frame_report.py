"""What one processed frame tells the people watching the node (pure Python): the warnings it
earns, by cause (the node logs each cause at most once per throttle period), and the values it
sets in /diagnostics.
"""
from __future__ import annotations

from depth_ros.inference.scale import TILT_FULL_DEG
from depth_ros.pipeline import Event, FrameResult
from depth_ros.ros.diagnostics import DiagnosticsState, gate_state, scale_state
from depth_ros.ros.params import NodeConfig
from depth_ros.ros.settings import effective_scale


def frame_warnings(result: FrameResult, config: NodeConfig) -> list[tuple[str, str]]:
    """(cause, message) for each thing about `result` an operator should hear of: the
    pipeline's notes, a time jump that reset the odometry, a camera-height scale held or not yet
    trusted (confidence under `scale_min_confidence`)."""
    warnings = [('note', note) for note in result.notes]
    step = result.chain
    if step.event in (Event.BACKWARDS, Event.GAP):
        direction = 'backwards' if step.event is Event.BACKWARDS else 'forward'
        warnings.append(('time_jump', f'time jumped {direction} by {abs(step.dt_s):.3f} s at '
                         f'stamp {result.stamp_ns} ns (a bag restarted or frames were lost?): '
                         'odometry reset'))
    scale = result.scale
    if scale.estimate is None:
        return warnings
    unsure = (f'ground-plane scale confidence {scale.confidence:.2f} under '
              f'scale_min_confidence {config.scale_min_confidence:g}')
    plane = scale.estimate.plane
    if plane is not None and plane.tilt_deg > TILT_FULL_DEG:
        unsure += (f'; the fitted ground is tilted {plane.tilt_deg:.1f} degrees from the '
                   "mounting's up: if the road is in view, check camera_pitch_deg (or the TF "
                   'mounting)')
    if scale.held:
        warnings.append(('scale_held', f'{unsure} (road hidden by traffic, or not flat?): '
                         f'keeping the last trusted factor {scale.factor:.3f}'))
    elif not scale.from_ground:
        warnings.append(('no_ground', f'no trusted ground plane yet ({unsure}): publishing '
                         f'depth with scale {effective_scale(config)} until one is'))
    return warnings


def record(state: DiagnosticsState, result: FrameResult, config: NodeConfig) -> None:
    """Set the diagnostics values that describe the latest frame: the motion gate, the
    odometry's status and, with a camera-height estimate, its confidence, which factor the
    depth carries and the fitted ground's tilt."""
    state.motion_gate = gate_state(config.motion_gate_threshold, result.static,
                                   result.chain.event)
    state.odometry = result.odometry_status
    state.depth_refinement = result.depth_refinement
    scale = result.scale
    if scale.estimate is not None:
        state.scale_confidence = float(scale.confidence)
        state.scale_applied = scale_state(scale.from_ground, scale.held)
        if scale.estimate.plane is not None:
            state.ground_tilt_deg = float(scale.estimate.plane.tilt_deg)
