"""Compressed input: PNG and JPEG written by Pillow (an independent encoder) decode right."""
import io
from types import SimpleNamespace

import numpy as np
import pytest


pytest.importorskip('cv2')
pytest.importorskip('rosbags')
import jazzy_msgs as msgs  # noqa: E402
from PIL import Image as PILImage  # noqa: E402

from depth_ros.errors import InputError  # noqa: E402
from depth_ros.ros.codecs.compressed import compressed_to_image, decode_compressed  # noqa: E402


FRAME = np.random.default_rng(3).integers(0, 255, (48, 64, 3), dtype=np.uint8)


def _encode(array, fmt, **kwargs):
    buffer = io.BytesIO()
    PILImage.fromarray(array).save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def test_png_rgb_is_exact():
    pixels, encoding = decode_compressed(msgs.compressed(_encode(FRAME, 'PNG'),
                                                         'rgb8; png compressed bgr8'))
    assert encoding == 'rgb8'
    np.testing.assert_array_equal(pixels, FRAME)


def test_png_mono16_keeps_16_bits():
    mono = (np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) * 20).astype(np.uint16)
    pixels, encoding = decode_compressed(msgs.compressed(_encode(mono, 'PNG'), 'png'))
    assert encoding == 'mono16' and pixels.dtype == np.uint16
    np.testing.assert_array_equal(pixels, mono)


def test_jpeg_is_close():
    u, v = np.meshgrid(np.linspace(0, 255, 64), np.linspace(0, 255, 48))
    smooth = np.stack([u, v, np.full((48, 64), 128.0)], axis=-1).astype(np.uint8)
    pixels, encoding = decode_compressed(msgs.compressed(_encode(smooth, 'JPEG', quality=95),
                                                         'bgr8; jpeg compressed bgr8'))
    assert encoding == 'rgb8' and pixels.shape == smooth.shape
    assert np.abs(pixels.astype(int) - smooth).mean() < 2.0  # channel order kept


def test_garbage_and_empty_payloads_are_input_errors():
    with pytest.raises(InputError, match='cannot decode'):
        decode_compressed(msgs.compressed(b'not an image at all', 'jpeg'))
    with pytest.raises(InputError, match='no data'):
        decode_compressed(msgs.compressed(b'', 'jpeg'))


def test_to_image_message_keeps_header_and_layout():
    msg = msgs.compressed(_encode(FRAME, 'PNG'), 'png', frame_id='cam_left')
    types = SimpleNamespace(Image=msgs.msg_class('sensor_msgs/msg/Image'))
    image = compressed_to_image(types, msg)
    assert image.header.frame_id == 'cam_left' and (image.width, image.height) == (64, 48)
    assert image.encoding == 'rgb8' and image.step == 64 * 3
    np.testing.assert_array_equal(np.frombuffer(image.data, np.uint8).reshape(48, 64, 3), FRAME)
