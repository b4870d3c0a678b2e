"""Input options under real rclpy: compressed images (image_transport compressed), rectify,
and late camera_infos (reuse_camera_info)."""
from __future__ import annotations

from harness import FRAME_ID, HEIGHT, SECOND, T0, WIDTH, K, wait_for
import numpy as np
import pytest
from rclpy.lifecycle import TransitionCallbackReturn
from sensor_msgs.msg import CompressedImage

from depth_ros.ros import codecs as conv


cv2 = pytest.importorskip('cv2')


def _compressed(h, stamp, data: bytes, fmt='rgb8; jpeg compressed bgr8'):
    return CompressedImage(header=conv.make_header(h.types, stamp, FRAME_ID), format=fmt,
                           data=data)


def test_compressed_input_is_decoded_and_garbage_is_dropped(make_harness):
    h = make_harness(overrides={'image_transport': 'compressed'})
    publisher = h.probe.create_publisher(CompressedImage, 'image/compressed', 10)
    assert h.node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert h.node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert wait_for(lambda: publisher.get_subscription_count() > 0)
    assert h.image_pub.get_subscription_count() == 0  # raw 'image' is not subscribed
    rgb = np.random.default_rng(5).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    jpeg = cv2.imencode('.jpg', rgb[..., ::-1])[1].tobytes()
    png = cv2.imencode('.png', rgb[..., ::-1])[1].tobytes()
    for i, (data, fmt) in enumerate([(jpeg, 'rgb8; jpeg compressed bgr8'), (b'garbage', 'jpeg'),
                                     (png, 'rgb8; png compressed bgr8')]):
        stamp = T0 + i * SECOND // 10
        h.info_pub.publish(h.camera_info(stamp))
        publisher.publish(_compressed(h, stamp, data, fmt))
        if data != b'garbage':
            depth = h.wait_output('depth/image', stamp)
            assert (depth.width, depth.height, depth.header.frame_id) == (WIDTH, HEIGHT,
                                                                           FRAME_ID)
    assert wait_for(lambda: h.node.inputs.drops['bad_compressed'] == 1), dict(
        h.node.inputs.drops)
    print('compressed input: JPEG and PNG frames processed, a garbage payload dropped as '
          'bad_compressed')


def test_rectify_publishes_the_rectified_camera_info(make_harness):
    h = make_harness(overrides={'rectify': True})
    h.start()
    stamp = T0
    info = h.camera_info(stamp)
    info.d = [-0.25, 0.08, 0.001, -0.001, 0.0]
    info.p = [50.0, 0.0, 31.0, 0.0, 0.0, 51.0, 24.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    h.info_pub.publish(info)
    rgb = np.random.default_rng(6).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    h.image_pub.publish(conv.rgb_to_image(h.types, rgb, conv.make_header(h.types, stamp,
                                                                         FRAME_ID)))
    out = h.wait_output('depth/camera_info', stamp)
    np.testing.assert_allclose(np.reshape(out.k, (3, 3)),
                               [[50.0, 0, 31.0], [0, 51.0, 24.0], [0, 0, 1]])
    assert not any(out.d) and h.node.inputs.rectifier.map_builds == 1
    assert K[0] != 50.0  # the published intrinsics are P's, not the raw K


def test_late_camera_info_is_replaced_by_the_latest_while_they_repeat(make_harness):
    """Default reuse_camera_info: an image whose camera_info is late is processed with the
    latest one while camera_infos repeat; after a change it waits for its own again."""
    h = make_harness()
    h.start()
    stamps = [T0 + i * SECOND // 10 for i in range(6)]
    for stamp in stamps[:2]:
        h.send(stamp)
        h.wait_output('depth/image', stamp)
    h.send(stamps[2], info=False)  # its camera_info is late: the latest stands in
    out = h.wait_output('depth/camera_info', stamps[2])
    assert list(out.k) == [float(v) for v in K]
    zoomed = [2 * K[0], 0.0, K[2], 0.0, 2 * K[4], K[5], 0.0, 0.0, 1.0]
    h.info_pub.publish(h.camera_info(stamps[3], k=zoomed))  # intrinsics change
    h.send(stamps[3], info=False, seed=1)
    assert list(h.wait_output('depth/camera_info', stamps[3]).k) == zoomed
    h.send(stamps[4], info=False)  # one changed camera_info is not yet static: it waits
    h.info_pub.publish(h.camera_info(stamps[4], k=zoomed))
    assert list(h.wait_output('depth/camera_info', stamps[4]).k) == zoomed
    pairer = h.node.inputs.pairer
    assert (pairer.reused, pairer.info_changes) == (1, 1), (pairer.reused, pairer.info_changes)
    assert h.node.inputs.drops['no_camera_info'] == 0
    print('late camera_info: the latest reused while static (1 image), a changed camera_info '
          'made the next image wait for its own')
