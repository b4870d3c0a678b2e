"""The node's /diagnostics status, following diagnostic_updater's conventions (pure Python).

One `diagnostic_msgs/DiagnosticStatus` per node, published at 1 Hz inside a DiagnosticArray:
name '<node>: <task>', hardware_id the inference device, level OK / WARN / ERROR with a one-line
message, and key/value pairs. Rates are measured over a sliding window like diagnostic_updater's
FrequencyStatus; latency is the median and 95th percentile of the window's frames. Only the
message classes are needed (passed in), no diagnostic_updater.
"""
from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from depth_ros.pipeline.odometry import Event


OK, WARN, ERROR = 0, 1, 2  # DiagnosticStatus levels (bytes in the message)
# A window with more drops than this share of its input is a WARN.
DROP_WARN_SHARE = 0.1


@dataclass
class DiagnosticsState:
    """What the node reports besides rates: set by the node as frames are processed.

    Attributes:
        backend, device: inference backend and device.
        scale_confidence: confidence of the metric scale (0..1), None before any estimate.
        scale_applied: `scale_state` of the latest frame ('n/a' without a camera-height scale).
        ground_tilt_deg: the latest fitted ground plane's tilt from the mounting's up direction
            (None before one; over `inference.scale.TILT_FULL_DEG` it counts less: a camera
            pitched more than camera_pitch_deg says, or the road hidden).
        motion_gate: `gate_state` of the latest frame.
        odometry: `FrameResult.odometry_status` of the latest frame.
        depth_refinement: `FrameResult.depth_refinement` of the latest frame.
        configured: False until the model is loaded.
    """

    backend: str = ''
    device: str = ''
    scale_confidence: float | None = None
    scale_applied: str = 'n/a'
    ground_tilt_deg: float | None = None
    motion_gate: str = 'off'
    odometry: str = 'n/a'
    depth_refinement: str = 'off'
    configured: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def scale_state(from_ground: bool, held: bool) -> str:
    """Which camera-height factor the latest frame's depth carries (`ScaleResult`'s flags):
    the filter's, the last trusted one (held while the confidence is under
    scale_min_confidence), or `scale` before any factor was trusted."""
    if held:
        return 'last trusted factor (confidence under the minimum)'
    return 'ground plane' if from_ground else 'scale (no trusted ground plane yet)'


def gate_state(threshold: float, static: bool | None, event: Event) -> str:
    """The motion gate's diagnostics value for a frame (`FrameResult.static`, its chain event).

    'off' (threshold 0), 'static (motion published as zero)', 'moving', or 'not measured'
    with the reason when no motion links the frame to the one before (first frame, a time jump,
    the same stamp again).
    """
    if threshold <= 0:
        return 'off'
    if static is not None:
        return 'static (motion published as zero)' if static else 'moving'
    reason = 'no pose network' if event is Event.MOTION else event.value
    return f'not measured ({reason})'


class DiagnosticsCollector:
    """Collects input, output, latency and drop events; builds the status once a second.

    Args:
        name: status name, '<node name>: <task>'.
        window_s: sliding window of the rates and latency statistics (seconds).
    """

    def __init__(self, name: str, window_s: float = 5.0):
        self.name = name
        self.window_s = float(window_s)
        self.state = DiagnosticsState()
        self.drops_total: Counter[str] = Counter()
        self._inputs: deque[float] = deque()
        self._outputs: deque[tuple[float, float]] = deque()
        self._drops: deque[tuple[float, str]] = deque()

    def input(self, now_s: float) -> None:
        """An image arrived."""
        self._inputs.append(now_s)

    def output(self, now_s: float, latency_s: float) -> None:
        """A frame was published `latency_s` after its image arrived."""
        self._outputs.append((now_s, latency_s))

    def drop(self, now_s: float, cause: str) -> None:
        """A frame was dropped for `cause`."""
        self._drops.append((now_s, cause))
        self.drops_total[cause] += 1

    def summary(self, now_s: float) -> dict[str, Any]:
        """Window statistics: rates (Hz), latency (ms), drops by cause."""
        self._trim(now_s)
        span = self.window_s
        latencies = np.array([lat for _, lat in self._outputs], dtype=np.float64) * 1e3
        recent = Counter(cause for _, cause in self._drops)
        return {
            'input_hz': len(self._inputs) / span,
            'output_hz': len(self._outputs) / span,
            'latency_median_ms': float(np.median(latencies)) if latencies.size else None,
            'latency_p95_ms': float(np.percentile(latencies, 95)) if latencies.size else None,
            'recent_drops': recent,
        }

    def level(self, summary: Mapping[str, Any]) -> tuple[int, str]:
        """Level and one-line message of the status."""
        if not self.state.configured:
            return ERROR, 'not configured: no model loaded'
        if summary['input_hz'] == 0:
            return WARN, 'no input images'
        dropped = sum(summary['recent_drops'].values())
        if dropped > DROP_WARN_SHARE * summary['input_hz'] * self.window_s:
            worst = summary['recent_drops'].most_common(1)[0][0]
            return WARN, f'dropping frames (mostly {worst})'
        if summary['output_hz'] == 0:
            return WARN, 'input arrives but nothing is published (no subscribers?)'
        return OK, 'running'

    def key_values(self, summary: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Ordered key/value pairs of the status."""
        state = self.state

        def fmt(value: float | None, digits: int = 1) -> str:
            return 'n/a' if value is None else f'{value:.{digits}f}'

        pairs = [
            ('input rate (Hz)', fmt(summary['input_hz'])),
            ('output rate (Hz)', fmt(summary['output_hz'])),
            ('latency median (ms)', fmt(summary['latency_median_ms'])),
            ('latency p95 (ms)', fmt(summary['latency_p95_ms'])),
            ('scale confidence', fmt(state.scale_confidence, 2)),
            ('scale applied', state.scale_applied),
            ('ground plane tilt (deg)', fmt(state.ground_tilt_deg)),
            ('motion gate', state.motion_gate),
            ('odometry', state.odometry),
            ('depth refinement', state.depth_refinement),
            ('backend', state.backend),
            ('device', state.device),
        ]
        causes = sorted(set(self.drops_total) | set(summary['recent_drops']))
        pairs += [(f'drops {cause} (window / total)',
                   f'{summary["recent_drops"][cause]} / {self.drops_total[cause]}')
                  for cause in causes]
        pairs += sorted(state.extra.items())
        return pairs

    def build(self, classes: Any, now_s: float, header: Any) -> Any:
        """The DiagnosticArray to publish.

        Args:
            classes: an object with DiagnosticArray, DiagnosticStatus and KeyValue attributes
                (for example the `diagnostic_msgs.msg` module).
            now_s: the clock the events were recorded with.
            header: std_msgs/Header of the array (the current time, no frame).
        """
        summary = self.summary(now_s)
        level, message = self.level(summary)
        # rclpy types the `byte` level as bytes, other message libraries as an integer.
        is_bytes = isinstance(getattr(classes.DiagnosticStatus, 'OK', 0), bytes)
        status = classes.DiagnosticStatus(
            level=bytes([level]) if is_bytes else level, name=self.name, message=message,
            hardware_id=self.state.device,
            values=[classes.KeyValue(key=k, value=v) for k, v in self.key_values(summary)])
        return classes.DiagnosticArray(header=header, status=[status])

    def _trim(self, now_s: float) -> None:
        start = now_s - self.window_s
        while self._inputs and self._inputs[0] < start:
            self._inputs.popleft()
        for queue in (self._outputs, self._drops):
            while queue and queue[0][0] < start:
                queue.popleft()
