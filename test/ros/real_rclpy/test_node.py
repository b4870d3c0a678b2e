"""The mono_depth node under real rclpy: outputs, bad frames, load, parameters, lifecycle."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

from harness import FRAME_ID, HEIGHT, OPTICAL_AT_BASE, SECOND, T0, WIDTH, K, wait_for
import numpy as np
import pytest
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter

from depth_ros.geometry.camera import depth_to_points
from depth_ros.ros import codecs as conv


@pytest.mark.parametrize('encoding', conv.RGB_ENCODINGS)
def test_each_encoding_publishes_every_output(make_harness, encoding):
    h = make_harness()
    h.start()
    stamp = T0 + 123_456_789
    h.send(stamp, encoding)
    depth = h.wait_output('depth/image', stamp)
    assert (depth.encoding, depth.height, depth.width) == ('32FC1', HEIGHT, WIDTH)
    assert (depth.step, depth.is_bigendian, depth.header.frame_id) == (WIDTH * 4, 0, FRAME_ID)
    depth_m = conv.image_to_depth(depth)
    assert np.isfinite(depth_m).all() and (depth_m > 0).all()
    info = h.wait_output('depth/camera_info', stamp)
    assert (info.width, info.height, info.header.frame_id) == (WIDTH, HEIGHT, FRAME_ID)
    np.testing.assert_allclose(info.k, K)
    points = h.wait_output('points', stamp)
    xyz, rgb = conv.pointcloud_to_arrays(points)
    assert points.header.frame_id == FRAME_ID and rgb is not None
    expected = depth_to_points(depth_m, conv.camera_info_to_intrinsics(info), stride=4)
    np.testing.assert_allclose(xyz, expected, rtol=1e-5)
    odom = h.wait_output('visual_odometry', stamp)
    assert (odom.header.frame_id, odom.child_frame_id) == ('odom', 'base_link')
    np.testing.assert_allclose(conv.odometry_to_pose(odom), np.eye(4), atol=1e-9)
    colored = h.wait_output('depth/colored', stamp)
    assert (colored.encoding, colored.height, colored.width) == ('bgr8', HEIGHT, WIDTH)
    print(f'received Image {encoding} {WIDTH}x{HEIGHT} + CameraInfo at stamp {stamp}; published '
          f'depth/image 32FC1 {depth.width}x{depth.height} (median {np.median(depth_m):.2f} m), '
          f'depth/camera_info, points ({len(xyz)} pts), visual_odometry, depth/colored, frame '
          f'{FRAME_ID!r}')


def _raw_image(h, stamp, encoding='rgb8', width=WIDTH, height=HEIGHT, step=None, size=None):
    step = WIDTH * 3 if step is None else step
    size = step * height if size is None else size
    return h.types.Image(header=conv.make_header(h.types, stamp, FRAME_ID), width=width,
                         height=height, encoding=encoding, step=step, data=bytes(size))


def test_bad_frames_are_dropped_and_the_node_stays_alive(make_harness):
    h = make_harness(overrides={'reuse_camera_info': False})  # exact pairing: T0 + 5 waits
    h.start()
    bad = {T0 + 1: _raw_image(h, T0 + 1, encoding='yuv422', step=WIDTH * 2),
           T0 + 2: _raw_image(h, T0 + 2, step=WIDTH * 3 - 1),
           T0 + 3: _raw_image(h, T0 + 3, width=0, height=0, step=0, size=0),
           T0 + 4: _raw_image(h, T0 + 4, size=100)}
    for stamp, image in bad.items():
        h.send(stamp, image=image)
        time.sleep(0.2)
    drops = h.node.inputs.drops
    expected = {'bad_encoding': 1, 'bad_image_layout': 2, 'image_too_small': 1}
    assert wait_for(lambda: {c: drops[c] for c in expected} == expected), dict(drops)
    print(f'received 4 bad frames (yuv422, short step, 0x0, short data): dropped by cause '
          f'{dict(drops)}, node alive')
    h.send(T0 + 5, info=False)            # no camera_info for this one
    time.sleep(0.2)
    h.send(T0 + 6)
    assert wait_for(lambda: drops['no_camera_info'] == 1), dict(drops)
    h.wait_output('depth/image', T0 + 6)
    assert not any(h.outputs('depth/image', s) for s in [*bad, T0 + 5])


def test_no_inference_while_nobody_listens(make_harness):
    h = make_harness(namespace='/quiet', subscribe=False)
    h.start()
    for i in range(5):
        h.send(T0 + i * SECOND // 10)
    assert wait_for(lambda: h.node.stats['skipped_no_subscribers'] == 5), dict(h.node.stats)
    assert h.node.stats['processed'] == 0
    h.listen('visual_odometry')
    assert wait_for(lambda: h.node.output_subscribers('visual_odometry') > 0)
    h.send(T0 + SECOND)
    h.wait_output('visual_odometry', T0 + SECOND)


def test_30hz_for_10s_leaves_no_backlog(make_harness):
    h = make_harness(overrides={'publish_colored': False})
    h.start()
    sent_at, max_pending = {}, 0
    start = time.monotonic()
    for i in range(300):
        stamp = T0 + i * SECOND // 30
        time.sleep(max(0.0, start + i / 30 - time.monotonic()))
        sent_at[stamp] = time.monotonic()
        h.send(stamp, seed=i % 7)
        max_pending = max(max_pending, h.node.worker.pending())
    node = h.node

    def accounted() -> int:
        # Under CPU load rclpy may not deliver every image in-process; each image the node did
        # receive must end in exactly one place: processed, replaced while the worker was busy,
        # dropped on input, or still waiting for its camera_info.
        return (node.stats['processed'] + node.stats['dropped_busy']
                + sum(node.inputs.drops.values()) + node.inputs.pairer.waiting_images())

    assert _settles(lambda: (node.stats['images'], node.stats['processed'],
                             len(h.received['depth/image'])),
                    lambda: node.worker.pending() == 0 and accounted() == node.stats['images']), (
        dict(node.stats), dict(node.inputs.drops))
    settled = len(h.received['depth/image'])
    time.sleep(1.0)
    assert len(h.received['depth/image']) == settled, 'outputs kept coming: a backlog'
    stats = node.stats
    assert accounted() == stats['images'], (dict(stats), dict(node.inputs.drops))
    assert 240 <= stats['images'] <= 300, f'{stats["images"]}/300 images delivered'
    assert max_pending <= 1
    stamps = [conv.stamp_to_ns(m.header.stamp) for _, m in h.received['depth/image']]
    assert len(set(stamps)) == len(stamps) <= stats['processed'], (len(stamps), dict(stats))
    latencies = [t - sent_at[conv.stamp_to_ns(m.header.stamp)] for t, m in
                 h.received['depth/image']]
    dropped = sum(node.inputs.drops.values())
    assert max(latencies[5:]) < 2.0, f'max latency {max(latencies):.2f} s'
    print(f'received {stats["images"]}/300, processed {stats["processed"]}, dropped as stale '
          f'{stats["dropped_busy"]}, dropped on input {dropped}, '
          f'median latency {np.median(latencies) * 1000:.0f} ms')


def _settles(state, done, quiet_s: float = 0.5, timeout_s: float = 10.0) -> bool:
    """True once `done()` holds and `state()` has not changed for `quiet_s` (messages the
    loaded executor delivers late, or a camera_info arriving after its image, come first)."""
    deadline, last, since = time.monotonic() + timeout_s, None, time.monotonic()
    while time.monotonic() < deadline:
        current = state()
        if current != last:
            last, since = current, time.monotonic()
        elif done() and time.monotonic() - since >= quiet_s:
            return True
        time.sleep(0.02)
    return False


def test_parameters_are_validated_and_applied(make_harness):
    h = make_harness()
    h.start()
    node = h.node
    refused = {
        'point_stride': 0,
        'qos_reliability': 'bogus',
        'colored_min_depth_m': 500.0,
        'device': 'gpu0',
        'precision': 'fp16',  # on the CPU, as the backend refuses it
        'cuda_graphs': True,
        'input_size': '640x100',
    }
    for name, value in refused.items():
        result = node.set_parameters([Parameter(name, value=value)])[0]
        assert not result.successful, name
    assert node.get_parameter('point_stride').value == 4
    assert node.set_parameters([Parameter('point_stride', value=8)])[0].successful
    assert node.config.point_stride == 8
    h.send(T0, seed=3)
    base = conv.image_to_depth(h.wait_output('depth/image', T0))
    assert node.set_parameters([Parameter('scale', value=2.0),
                                Parameter('depth_downsample', value=2)])[0].successful
    h.send(T0 + SECOND // 10, seed=3)
    scaled = conv.image_to_depth(h.wait_output('depth/image', T0 + SECOND // 10))
    np.testing.assert_allclose(scaled, 2.0 * base[::2, ::2], rtol=1e-5)
    info = h.wait_output('depth/camera_info', T0 + SECOND // 10)
    assert (info.width, info.height) == (WIDTH // 2, HEIGHT // 2)
    np.testing.assert_allclose(info.k[0], K[0] / 2)
    # the deprecated name still works for one release: set away from 1.0, its value is used
    assert node.set_parameters([Parameter('depth_scale', value=3.0)])[0].successful
    h.send(T0 + SECOND // 5, seed=3)
    old_name = conv.image_to_depth(h.wait_output('depth/image', T0 + SECOND // 5))
    np.testing.assert_allclose(old_name, 3.0 * base[::2, ::2], rtol=1e-5)


def test_input_size_runs_the_networks_at_that_size(make_harness, checkpoint):
    """The published depth is the library's at the same input size, image-sized."""
    from depth_ros.inference import Predictor

    h = make_harness(overrides={'input_size': '256x96'})
    h.start()
    assert h.node.predictor.input_size == (96, 256)
    assert h.node.diagnostics.state.extra['network input (WxH)'] == '256x96'
    h.send(T0, seed=3)
    depth = conv.image_to_depth(h.wait_output('depth/image', T0))
    rgb = np.random.default_rng(3).integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8)  # h.send's
    expected = Predictor.from_checkpoint(checkpoint or None, input_size=(96, 256),
                                         backend=h.node.predictor.backend_name)
    np.testing.assert_allclose(depth, expected.predict(rgb).depth_m, rtol=1e-4)


@pytest.mark.parametrize('jump_s', [-5.0, 3.0])  # back (a bag restarted), forward > max gap
def test_time_jumps_reset_odometry(make_harness, jump_s):
    # Random frames: only the pose network measures a motion between them.
    h = make_harness(overrides={'odometry_source': 'posenet'})
    h.start()
    start = T0 + 10 * SECOND
    for seed, stamp in enumerate((start, start + SECOND // 10)):
        h.send(stamp, seed=seed)  # different frames: the motion gate lets the motion through
        h.wait_output('visual_odometry', stamp)
    moved = conv.odometry_to_pose(h.outputs('visual_odometry', start + SECOND // 10)[0])
    assert not np.allclose(moved, np.eye(4)), 'the pose network moved nothing'
    assert h.node.diagnostics.state.motion_gate == 'moving'
    jumped = start + SECOND // 10 + int(jump_s * SECOND)
    h.send(jumped, seed=2)
    reset = conv.odometry_to_pose(h.wait_output('visual_odometry', jumped))
    np.testing.assert_allclose(reset, np.eye(4), atol=1e-9)
    event = 'backwards' if jump_s < 0 else 'gap'
    assert wait_for(lambda: h.node.diagnostics.state.motion_gate == f'not measured ({event})')


def test_configure_fails_cleanly_and_can_be_retried(make_harness, checkpoint):
    h = make_harness(overrides={'weights': '/nonexistent/model.safetensors'})
    node = h.node
    assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
    assert node.predictor is None
    assert node.set_parameters([Parameter('weights', value=checkpoint)])[0].successful
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert wait_for(lambda: h.image_pub.get_subscription_count() > 0)
    h.send(T0)
    h.wait_output('depth/image', T0)


def _run_main(*ros_args: str) -> subprocess.Popen:
    code = 'import sys; from depth_ros.ros.node import main; sys.exit(main())'
    return subprocess.Popen([sys.executable, '-c', code, '--ros-args', *ros_args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_main_fails_at_start_up_on_bad_weights():
    proc = _run_main('-p', 'weights:=/nonexistent/model.safetensors')
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, output
    assert 'weights file not found: /nonexistent/model.safetensors' in output


def test_main_runs_until_interrupted(checkpoint):
    # '' means the shipped weights, the node's default: rcl refuses an empty override.
    proc = _run_main('-p', f'base_to_camera:={OPTICAL_AT_BASE}', '-p', 'motion_model:=free',
                     *(['-p', f'weights:={checkpoint}'] if checkpoint else []))
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any('model loaded' in x for x in lines):
        lines.append(proc.stdout.readline())
        if proc.poll() is not None:
            break
    assert proc.poll() is None, ''.join(lines)
    # The log says what measures the motion, for which platform (the parameter given above).
    assert 'odometry epipolar (free)' in ''.join(lines), ''.join(lines)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, ''.join(lines) + output


def test_camera_height_scale_status_is_published_without_nan(make_harness):
    h = make_harness()
    h.start()
    node = h.node
    assert not node.set_parameters([Parameter('scale_source', value='sonar')])[0].successful
    assert node.set_parameters([Parameter('scale_source', value='camera_height'),
                                Parameter('camera_height_m', value=1.2)])[0].successful
    stamps = [T0 + i * SECOND // 10 for i in range(3)]
    for stamp in stamps:
        h.send(stamp, seed=5)
        h.wait_output('depth/image', stamp)
    assert wait_for(lambda: len(h.received['depth/scale']) >= len(stamps))
    status = h.received['depth/scale'][-1][1]
    factor, confidence, frame_factor, height, applied = status.data
    assert status.layout.dim[0].label == ','.join(conv.SCALE_STATUS_LABELS)
    assert height == 1.2 and np.isfinite(list(status.data)).all()
    assert (factor > 0 and confidence > 0) or (factor == -1.0 and confidence == 0.0)
    # The depth carries the filter's factor once it is trusted, before that `scale` (1.0):
    # three frames are too few for the default scale_min_confidence.
    gate = node.get_parameter('scale_min_confidence').value
    assert applied == (factor if confidence >= gate else 1.0)
    depth = conv.image_to_depth(h.wait_output('depth/image', stamps[-1]))
    assert np.isfinite(depth).all()
    print(f'scale_source camera_height: published depth/scale factor={factor:.3f} '
          f'confidence={confidence:.2f} (-1 = no ground plane seen)')
