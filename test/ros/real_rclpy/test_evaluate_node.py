"""The node and `depth-ros evaluate` give the same depth and odometry for the same frames, and
`evaluate --recorded` on the node's recorded outputs reports `evaluate`'s figures; for both
odometry sources (the pose network, and the epipolar odometry), and with the depth corrected by
long-baseline corners (`depth_refinement: tracks`, on a longer and larger drive: the corners
need a moving camera and pixels).

A synthetic drive (`depth-ros synth`) becomes a bag (`depth-ros kitti-to-bag`); its frames go
through the real node here, and through `depth-ros evaluate` in the main environment (where
`rosbags` lives; see main_env.py). The node's published messages, serialised by rclpy as
`ros2 bag record` stores them, become a recording that `depth-ros evaluate --recorded` scores.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess

from harness import OPTICAL_AT_BASE
import numpy as np
import pytest
from rclpy.serialization import serialize_message

from depth_ros.geometry.frames import cam0_from_cam_of_odometry
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.geometry.mounting import parse_mounting
from depth_ros.ros import codecs


ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
FRAMES, WIDTH, HEIGHT = 8, 320, 96
# run: (odometry source, depth refinement, frames, width, height)
RUNS = {'posenet': ('posenet', 'none', FRAMES, WIDTH, HEIGHT),
        'epipolar': ('epipolar', 'none', FRAMES, WIDTH, HEIGHT),
        'epipolar_tracks': ('epipolar', 'tracks', 20, 640, 192)}


def _main_python() -> str:
    python = os.environ.get('DEPTH_ROS_MAIN_PYTHON', str(ROOT / '.venv' / 'bin' / 'python'))
    assert Path(python).is_file(), (f'the main environment ({python}) runs the evaluator side; '
                                    'set DEPTH_ROS_MAIN_PYTHON')
    return python


def _main_env(*args: str, module: bool = True) -> str:
    """Run `depth-ros ARGS` (or main_env.py ARGS) in the main environment; its stdout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('LD_LIBRARY_PATH', 'AMENT_PREFIX_PATH', '_ROS_WHEELS_BOOTSTRAP_COMPLETE')}
    env.update(OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    command = ([_main_python(), '-m', 'depth_ros.cli', *args] if module
               else [_main_python(), str(HERE / 'main_env.py'), *args])
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _weights(checkpoint: str) -> list[str]:
    return ['--weights', checkpoint] if checkpoint else []


def _send(h, frames, index: int) -> int:
    stamp = int(frames['stamps_ns'][index])
    fx, fy, cx, cy, width, height = frames['intrinsics'][index]
    header = codecs.make_header(h.types, stamp, str(frames['frame_id']))
    h.info_pub.publish(codecs.intrinsics_to_camera_info(
        h.types, Intrinsics(fx, fy, cx, cy, int(width), int(height)), header))
    h.image_pub.publish(codecs.rgb_to_image(h.types, frames['rgb'][index], header, 'rgb8'))
    return stamp


def _pack(messages: list, key: str) -> dict[str, np.ndarray]:
    raw = [np.frombuffer(serialize_message(m), np.uint8) for m in messages]
    sizes = np.array([r.size for r in raw])
    return {f'{key}_bytes': np.concatenate(raw), f'{key}_sizes': sizes,
            f'{key}_offsets': np.concatenate([[0], np.cumsum(sizes)[:-1]]),
            f'{key}_stamps': np.array([codecs.stamp_to_ns(m.header.stamp) for m in messages])}


@pytest.fixture(scope='module', params=sorted(RUNS))
def runs(tmp_path_factory, checkpoint, request):
    """(tmp dir, bag, frames, evaluate's JSON, odometry source, depth refinement)."""
    source, refinement, frames, width, height = RUNS[request.param]
    tmp = tmp_path_factory.mktemp(f'node_vs_evaluate_{request.param}')
    _main_env('synth', '--out', str(tmp / 'synth'), '--seed', '11', '--frames', str(frames),
              '--width', str(width), '--height', str(height))
    bag = tmp / 'bag'
    _main_env('kitti-to-bag', '--sequence-dir', str(tmp / 'synth' / 'sequences' / '00'),
              '--out', str(bag))
    _main_env('export-frames', str(bag), str(tmp / 'frames.npz'), module=False)
    # Both sides on torch: this checks the pipeline, not two backends' rounding.
    evaluated = json.loads(_main_env('evaluate', '--bag', str(bag), *_weights(checkpoint),
                                     '--backend', 'torch', '--out', str(tmp / 'evaluate'),
                                     '--odometry-source', source,
                                     '--depth-refinement', refinement, '--json'))
    return tmp, bag, np.load(tmp / 'frames.npz'), evaluated, source, refinement


@pytest.fixture(scope='module')
def node_outputs(runs, checkpoint, request):
    from harness import Harness, wait_for

    tmp, _, frames, _, source, refinement = runs
    h = Harness(checkpoint, namespace='/replay', overrides={
        'publish_colored': False, 'backend': 'torch', 'odometry_source': source,
        'depth_refinement': refinement})
    request.addfinalizer(h.close)
    h.start()
    depth, odometry = [], []
    for i in range(len(frames['stamps_ns'])):
        stamp = _send(h, frames, i)
        depth.append(h.wait_output('depth/image', stamp, timeout_s=30))
        odometry.append(h.wait_output('visual_odometry', stamp, timeout_s=30))
    np.savez(tmp / 'node.npz', **_pack(depth, 'depth_image'),
             **_pack(odometry, 'visual_odometry'))
    # /diagnostics names what measured the motion (the synthetic street has corners to track).
    expected = 'epipolar: motion (' if source == 'epipolar' else 'posenet'
    assert wait_for(lambda: h.node.diagnostics.state.odometry.startswith(expected))
    if refinement == 'tracks':  # the last frames were corrected, and /diagnostics says so
        assert wait_for(lambda: ' points, ' in h.node.diagnostics.state.depth_refinement)
    height, width = frames['rgb'].shape[1:3]
    print(f'received {len(depth)} camera frames {width}x{height} from the bag; published '
          f'{len(depth)} depth/image and {len(odometry)} visual_odometry ({source}, depth '
          f'refinement {h.node.diagnostics.state.depth_refinement})')
    return depth, odometry


def test_node_and_evaluate_give_identical_depth_and_odometry(runs, node_outputs):
    tmp, _, frames, _, source, _ = runs
    depth_msgs, odometry_msgs = node_outputs
    _main_env('export-result', str(tmp / 'evaluate' / 'result_bag'), str(tmp / 'eval.npz'),
              module=False)
    evaluated = np.load(tmp / 'eval.npz')
    np.testing.assert_array_equal(evaluated['stamps_ns'], frames['stamps_ns'])
    node_depth = np.stack([codecs.image_to_depth(m) for m in depth_msgs])
    np.testing.assert_array_equal(node_depth, evaluated['depth'])  # bit for bit
    odom_from_base = np.stack([codecs.odometry_to_pose(m) for m in odometry_msgs])
    node_cam = cam0_from_cam_of_odometry(odom_from_base, parse_mounting(OPTICAL_AT_BASE))
    assert np.abs(evaluated['poses'][-1][:3, 3]).max() > 0.1  # the camera moved
    np.testing.assert_allclose(node_cam, evaluated['poses'], atol=1e-9)
    print(f"processed {len(depth_msgs)} frames: node depth identical to evaluate's, {source} "
          f'odometry within {np.abs(node_cam - evaluated["poses"]).max():.1e}')


def test_evaluate_recorded_reports_evaluates_figures(runs, node_outputs, checkpoint):
    tmp, bag, frames, evaluated, _, _ = runs
    _main_env('write-recording', str(tmp / 'node.npz'), str(tmp / 'recording'), module=False)
    recorded = json.loads(_main_env(
        'evaluate', '--recorded', str(tmp / 'recording'), '--bag', str(bag), '--base-to-camera',
        OPTICAL_AT_BASE, '--out', str(tmp / 'evaluate_recorded'), '--json'))
    assert recorded['source'] == 'recorded'
    assert recorded['gt_frames'] == len(frames['stamps_ns'])
    assert recorded['ate_5frame']['n_tracks'] == evaluated['ate_5frame']['n_tracks'] > 0
    for key in ('mean', 'std'):
        assert recorded['ate_5frame'][key] == pytest.approx(evaluated['ate_5frame'][key],
                                                            rel=1e-6, abs=1e-12)
    for kind in ('depth', 'depth_unscaled'):
        for metric in ('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'a1', 'a2', 'a3'):
            assert recorded[kind][metric] == pytest.approx(evaluated[kind][metric], rel=1e-5)
    print(f"published outputs scored by evaluate --recorded: 5-frame ATE "
          f"{recorded['ate_5frame']['mean']:.6f} m (evaluate: "
          f"{evaluated['ate_5frame']['mean']:.6f}), abs_rel {recorded['depth']['abs_rel']:.5f} "
          f"(evaluate: {evaluated['depth']['abs_rel']:.5f})")



def test_the_epipolar_twist_carries_the_measured_covariance(runs, node_outputs):
    """The camera looks along base_link's x axis (OPTICAL_AT_BASE): the published twist
    covariance is README's model in plain numbers (weights' metres: 0.34 of the speed along
    x, 0.04 across, 0.02 m/s in quadrature, 0.05 degrees a frame); the pose network's and
    every pose covariance are unknown (1e6)."""
    _, _, frames, _, source, _ = runs
    _, odometry_msgs = node_outputs
    unknown = np.eye(6) * 1e6
    for previous, msg in zip(odometry_msgs, odometry_msgs[1:]):
        np.testing.assert_array_equal(np.reshape(msg.pose.covariance, (6, 6)), unknown)
        twist = np.reshape(msg.twist.covariance, (6, 6))
        if source == 'posenet':
            np.testing.assert_array_equal(twist, unknown)
            continue
        v = msg.twist.twist.linear
        speed = np.linalg.norm([v.x, v.y, v.z])
        dt_s = (codecs.stamp_to_ns(msg.header.stamp)
                - codecs.stamp_to_ns(previous.header.stamp)) / 1e9
        rate = np.radians(0.05) / dt_s
        expected = np.diag([(0.34 * speed) ** 2 + 0.02 ** 2] + [(0.04 * speed) ** 2
                                                                + 0.02 ** 2] * 2 + [rate ** 2] * 3)
        np.testing.assert_allclose(twist, expected, rtol=1e-9, atol=1e-12)
    print(f'{source}: published {len(odometry_msgs) - 1} twists with '
          + ('the measured covariance' if source == 'epipolar' else 'the unknown covariance'))
