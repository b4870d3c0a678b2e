"""/diagnostics status: rates, latency statistics, drops by cause, level, message shape."""
from types import SimpleNamespace

import pytest


pytest.importorskip('rosbags')

import jazzy_msgs as msgs  # noqa: E402

from depth_ros.ros.diagnostics import (  # noqa: E402
    ERROR,
    OK,
    WARN,
    DiagnosticsCollector,
    scale_state,
)


def _classes():
    return SimpleNamespace(**{name: msgs.msg_class(f'diagnostic_msgs/msg/{name}')
                              for name in ('DiagnosticArray', 'DiagnosticStatus', 'KeyValue')})


def _running(collector, seconds=5, hz=10, latency_ms=lambda i: 50.0):
    """Feed `hz` frames a second for `seconds`; returns the time of the last event."""
    collector.state.configured = True
    collector.state.backend, collector.state.device = 'torch', 'cpu'
    for i in range(seconds * hz):
        t = 100.0 + i / hz
        collector.input(t)
        collector.output(t + 0.01, latency_ms(i) / 1e3)
    return 100.0 + seconds


def test_rates_and_latency_percentiles():
    collector = DiagnosticsCollector('mono_depth: depth and odometry', window_s=5.0)
    # Latencies 1..50 ms: median 25.5 ms, numpy's linear p95 of 1..50 is 47.55 ms.
    now = _running(collector, latency_ms=lambda i: float(i % 50 + 1))
    summary = collector.summary(now)
    assert summary['input_hz'] == pytest.approx(10.0)
    assert summary['output_hz'] == pytest.approx(10.0)
    assert summary['latency_median_ms'] == pytest.approx(25.5)
    assert summary['latency_p95_ms'] == pytest.approx(47.55)
    assert collector.level(summary) == (OK, 'running')


def test_old_events_leave_the_window():
    collector = DiagnosticsCollector('n: t', window_s=5.0)
    now = _running(collector)
    summary = collector.summary(now + 10.0)
    assert summary['input_hz'] == 0 and summary['latency_median_ms'] is None
    assert collector.level(summary) == (WARN, 'no input images')


def test_drops_by_cause_warn_and_are_listed():
    collector = DiagnosticsCollector('n: t')
    now = _running(collector)
    for _ in range(10):
        collector.drop(now - 1.0, 'no_camera_info')
    collector.drop(now - 1.0, 'empty_frame_id')
    summary = collector.summary(now)
    level, message = collector.level(summary)
    assert level == WARN and 'no_camera_info' in message
    values = dict(collector.key_values(summary))
    assert values['drops no_camera_info (window / total)'] == '10 / 10'
    assert values['drops empty_frame_id (window / total)'] == '1 / 1'


def test_unconfigured_is_an_error():
    collector = DiagnosticsCollector('n: t')
    assert collector.level(collector.summary(0.0))[0] == ERROR


def test_builds_one_status_with_the_documented_keys():
    collector = DiagnosticsCollector('mono_depth: depth and odometry')
    now = _running(collector)
    collector.state.scale_confidence = 0.8
    collector.state.scale_applied = scale_state(True, True)
    collector.state.motion_gate = 'static'
    collector.state.odometry = 'epipolar: still (no flow)'
    collector.state.ground_tilt_deg = 2.345
    array = collector.build(_classes(), now, msgs.header(frame_id=''))
    assert len(array.status) == 1
    status = array.status[0]
    assert status.name == 'mono_depth: depth and odometry' and status.level == OK
    assert status.hardware_id == 'cpu'
    values = {kv.key: kv.value for kv in status.values}
    assert values['motion gate'] == 'static' and values['scale confidence'] == '0.80'
    assert values['odometry'] == 'epipolar: still (no flow)'
    assert values['scale applied'] == 'last trusted factor (confidence under the minimum)'
    assert values['ground plane tilt (deg)'] == '2.3'
    assert {'input rate (Hz)', 'output rate (Hz)', 'latency median (ms)', 'latency p95 (ms)',
            'backend', 'device'} <= set(values)


def test_gate_state_names_why_no_motion_was_measured():
    from depth_ros.pipeline import Event
    from depth_ros.ros.diagnostics import gate_state

    assert gate_state(0.0, True, Event.MOTION) == 'off'
    assert gate_state(0.45, True, Event.MOTION) == 'static (motion published as zero)'
    assert gate_state(0.45, False, Event.MOTION) == 'moving'
    assert gate_state(0.45, None, Event.GAP) == 'not measured (gap)'
    assert gate_state(0.45, None, Event.START) == 'not measured (start)'
    assert gate_state(0.45, None, Event.MOTION) == 'not measured (no pose network)'


def test_scale_state_says_which_factor_the_depth_carries():
    assert scale_state(True, False) == 'ground plane'
    assert scale_state(False, False) == 'scale (no trusted ground plane yet)'
    assert scale_state(True, True).startswith('last trusted factor')
