"""FrameInput: checks, pairing and per-cause logging together, with real message classes."""
from types import SimpleNamespace

import pytest


pytest.importorskip('rosbags')

import jazzy_msgs as msgs  # noqa: E402

from depth_ros.ros.diagnostics import DiagnosticsCollector  # noqa: E402
from depth_ros.ros.frame_input import FrameInput  # noqa: E402


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _stamped(msg, stamp_ns):
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 10**9)
    return msg


def _input():
    errors, warnings, clock = [], [], _Clock()
    types = SimpleNamespace(Image=msgs.msg_class('sensor_msgs/msg/Image'))
    stage = FrameInput(types, DiagnosticsCollector('n: t'), errors.append, warnings.append,
                       period_s=5.0, clock=clock)
    return stage, errors, clock


def test_a_good_pair_becomes_a_frame_with_its_arrival_time():
    stage, errors, clock = _input()
    assert stage.camera_info(_stamped(msgs.camera_info(), 7)) is None
    frame = stage.image(_stamped(msgs.image(), 7))
    assert frame is not None and frame.arrived_s == clock.now and not errors


def test_drops_are_counted_always_and_logged_once_per_cause_per_period():
    stage, errors, clock = _input()
    for _ in range(3):
        stage.image(msgs.image(frame_id=''))
    stage.camera_info(msgs.camera_info(fx=0.0))
    assert stage.drops == {'empty_frame_id': 3, 'bad_intrinsics': 1}
    assert len(errors) == 2 and 'header.frame_id' in errors[0] and 'K' in errors[1]
    clock.now += 6.0
    stage.image(msgs.image(frame_id=''))
    assert len(errors) == 3 and '2 more since the last report' in errors[2]
    assert stage.diagnostics.drops_total == stage.drops


def test_an_image_whose_camera_info_never_comes_is_dropped_when_a_newer_one_pairs():
    stage, errors, _ = _input()
    stage.image(_stamped(msgs.image(), 1))
    stage.camera_info(_stamped(msgs.camera_info(), 2))
    frame = stage.image(_stamped(msgs.image(), 2))
    assert frame is not None and stage.drops == {'no_camera_info': 1}
    assert 'no camera_info with its stamp 1 ns' in errors[0]


def test_decode_warns_about_distortion_on_a_rectified_input():
    stage, _, _ = _input()
    warnings = []
    stage._log_warn = warnings.append
    stage.camera_info(_stamped(msgs.camera_info(d=[-0.2, 0.1, 0, 0, 0]), 3))
    frame = stage.image(_stamped(msgs.image(), 3))
    rgb, intr = stage.decode(frame, rectify=False, mono16_max=65535)
    assert rgb.shape == (48, 64, 3) and intr.fx == 50.0
    assert warnings and 'image_rect' in warnings[0]


def test_reuse_compares_camera_info_content_and_warns_once_it_changes():
    errors, warnings, clock = [], [], _Clock()
    types = SimpleNamespace(Image=msgs.msg_class('sensor_msgs/msg/Image'))
    stage = FrameInput(types, DiagnosticsCollector('n: t'), errors.append, warnings.append,
                       period_s=5.0, clock=clock)
    stage.configure(queue_size=10, tolerance_s=0.0, reuse_info=True)
    for stamp in (1, 2):  # the same intrinsics, new stamps: static
        stage.camera_info(_stamped(msgs.camera_info(), stamp))
    assert stage.image(_stamped(msgs.image(), 3)) is not None  # its own info is late
    stage.camera_info(_stamped(msgs.camera_info(fx=900.0), 4))  # a new focal length
    assert stage.image(_stamped(msgs.image(), 5)) is None  # waits for its own
    assert len(warnings) == 1 and 'camera_info changed' in warnings[0]
    frame = stage.camera_info(_stamped(msgs.camera_info(fx=900.0), 5))
    assert frame is not None and frame.info.k[0] == 900.0 and not errors
