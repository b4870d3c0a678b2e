"""Input checks name the field at fault; logging is rate-limited per cause, not per call site."""
import math

import pytest


pytest.importorskip('rosbags')

import jazzy_msgs as msgs  # noqa: E402

from depth_ros.ros import input_checks as checks  # noqa: E402


def test_good_messages_pass():
    assert checks.check_image(msgs.image(), min_size=32) is None
    assert checks.check_camera_info(msgs.camera_info()) is None
    assert checks.check_compressed(msgs.compressed(b'\xff\xd8')) is None


@pytest.mark.parametrize('frame_id', ['', '   '])
def test_empty_frame_id_is_rejected_everywhere(frame_id):
    for msg in (msgs.image(frame_id=frame_id), msgs.camera_info(frame_id=frame_id),
                msgs.compressed(b'x', frame_id=frame_id)):
        rejection = (checks.check_image(msg, 32) if hasattr(msg, 'encoding') else
                     checks.check_camera_info(msg) if hasattr(msg, 'k') else
                     checks.check_compressed(msg))
        assert rejection.cause == 'empty_frame_id' and rejection.field == 'header.frame_id'


@pytest.mark.parametrize('width, height', [(64, 1), (31, 48), (0, 0)])
def test_images_smaller_than_the_stride_are_rejected(width, height):
    rejection = checks.check_image(msgs.image(width=width, height=height), min_size=32)
    assert rejection.cause == 'image_too_small' and f'{width}x{height}' in rejection.reason


def test_image_layout_errors_name_the_field():
    assert checks.check_image(msgs.image(encoding='32FC1'), 32).field == 'encoding'
    assert checks.check_image(msgs.image(step=10), 32).field == 'step'
    short = msgs.image(data=bytes(100))
    assert checks.check_image(short, 32).field == 'data'


@pytest.mark.parametrize('k, p, field', [
    ([0.0] * 9, None, 'K'),                                   # uncalibrated camera: zeros
    ([math.nan, 0, 32, 0, 50, 24, 0, 0, 1], None, 'K'),
    (None, [50, 0, 32, 0, 0, math.inf, 24, 0, 0, 0, 1, 0], 'P'),
    (None, [50, 0, 32, 0, 0, -5, 24, 0, 0, 0, 1, 0], 'P'),
    ([50, 0, 32], None, 'K'),                                 # wrong length
])
def test_bad_intrinsics_are_rejected(k, p, field):
    rejection = checks.check_camera_info(msgs.camera_info(k=k, p=p))
    assert rejection.cause == 'bad_intrinsics' and rejection.field == field


def test_zero_size_camera_info_is_rejected():
    assert checks.check_camera_info(msgs.camera_info(width=0)).field == 'width/height'


def test_rejection_message_names_the_field():
    rejection = checks.check_image(msgs.image(frame_id=''), 32)
    assert rejection.message('image').startswith('image dropped: header.frame_id: empty')


def test_distortion_warning_only_with_non_zero_d():
    assert checks.distortion_warning(msgs.camera_info(d=[0.0] * 5)) is None
    warning = checks.distortion_warning(msgs.camera_info(d=[-0.3, 0.1, 0, 0, 0]))
    assert 'rectify' in warning and 'image_rect' in warning


def test_limiter_is_per_cause_not_per_call_site():
    limiter = checks.CauseLimiter(period_s=5.0)
    assert limiter.allow('empty_frame_id', 0.0) == 0
    assert limiter.allow('empty_frame_id', 1.0) is None       # same cause: quiet
    assert limiter.allow('bad_intrinsics', 1.5) == 0          # another cause: reported at once
    assert limiter.allow('empty_frame_id', 2.0) is None
    assert limiter.allow('empty_frame_id', 5.0) == 2          # period over: 2 were suppressed
