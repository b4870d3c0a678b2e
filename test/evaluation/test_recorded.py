"""`evaluate --recorded`: a bag of what the node publishes scores like `evaluate` on the source.

The recorded bag is built here the way the node publishes (REP 105 odometry odom -> base_link
through `geometry.mounting.base_pose` with a tilted, offset mounting, and the odometry codec; depth
through the depth codec),
from the frame pipeline's results on a constructed KITTI-layout drive; the real node does the same
in test/ros/real_rclpy/test_evaluate_node.py. A wrong frame conversion, a stamp paired twice or a
depth read back wrongly shows up as a different ATE or depth figure.
"""
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image
import pytest

from depth_ros.cli import main
from depth_ros.evaluation.bag_io import BagReader, BagWriter, read_bag_poses_ns, typestore
from depth_ros.evaluation.kitti_to_bag import GT_DEPTH_TOPIC, GT_ODOM_TOPIC, kitti_to_bag
from depth_ros.evaluation.recorded import RecordedTopics, evaluate_recorded
from depth_ros.evaluation.replay import evaluate_bag
from depth_ros.geometry.mounting import base_pose, parse_mounting
from depth_ros.ros.codecs import (
    MsgTypes,
    depth_to_image,
    make_header,
    pose_to_odometry,
    pose_to_transform_stamped,
)


N, HEIGHT, WIDTH = 9, 32, 96
# A camera 1.2 m up and 0.3 m forward of the base, looking along its x axis, pitched down.
MOUNTING = '0.3 -0.05 1.2 -1.6707963 0 -1.5707963'


def _truth(n: int) -> np.ndarray:
    """A drive turning gently, ~1 m per frame (optical axes)."""
    poses = np.tile(np.eye(4), (n, 1, 1))
    for i in range(1, n):
        step = np.eye(4)
        a = 0.04
        step[:3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
        step[:3, 3] = [0.05, 0.01, 1.0]
        poses[i] = poses[i - 1] @ step
    return poses


class NoisyTruth:
    """Predictor stand-in: ground-truth motion with a per-frame error, depth 0.4x the truth
    with row noise, so the scores are not zero."""

    has_pose = True

    def __init__(self) -> None:
        self.poses = _truth(N)

    def prepare(self, rgb: np.ndarray) -> int:
        return int(rgb[0, 0, 0])

    def predict(self, index: int) -> SimpleNamespace:
        rows = np.linspace(5.0, 30.0, HEIGHT, dtype=np.float32)[:, None]
        depth = np.broadcast_to(rows * (0.4 + 0.01 * index), (HEIGHT, WIDTH)).copy()
        depth *= 1 + 0.05 * np.sin(np.arange(WIDTH, dtype=np.float32))[None]
        return SimpleNamespace(depth_m=depth, inv_depth_m=1 / depth)

    def relative_pose(self, previous: int, current: int) -> np.ndarray:
        rel = np.linalg.inv(self.poses[previous]) @ self.poses[current]
        rel[:3, 3] *= 0.5 + 0.05 * current  # a drifting scale: non-zero ATE
        return rel


@pytest.fixture(scope='module')
def drive(tmp_path_factory) -> Path:
    """A kitti-to-bag bag of a constructed sequence with ground-truth depth and poses."""
    root = tmp_path_factory.mktemp('recorded')
    seq = root / 'kitti' / 'sequences' / '00'
    for sub in ('image_2', 'depth_2'):
        (seq / sub).mkdir(parents=True)
    rows = np.linspace(5.0, 30.0, HEIGHT)[:, None].repeat(WIDTH, 1)
    for i in range(N):
        rgb = np.random.default_rng(i).integers(0, 255, (HEIGHT, WIDTH, 3), np.uint8)
        rgb[0, 0, 0] = i
        Image.fromarray(rgb).save(seq / 'image_2' / f'{i:06d}.png')
        Image.fromarray((rows * 256).round().astype(np.uint16)).save(
            seq / 'depth_2' / f'{i:06d}.png')
    p = f'80 0 {WIDTH / 2} 0 0 80 {HEIGHT / 2} 0 0 0 1 0'
    (seq / 'calib.txt').write_text(''.join(f'P{c}: {p}\n' for c in range(4)))
    (root / 'kitti' / 'poses').mkdir()
    np.savetxt(root / 'kitti' / 'poses' / '00.txt', _truth(N)[:, :3, :].reshape(N, 12))
    kitti_to_bag(seq, root / 'bag')
    return root / 'bag'


class Published:
    """Sink keeping what the node would publish for each frame."""

    def __init__(self) -> None:
        self.frames: list[tuple] = []

    def start(self, frames, gt) -> None:
        pass

    def frame(self, position, stamp_ns, frame_id, depth_m, cam0_from_cam, rgb, gt_depth_m):
        self.frames.append((stamp_ns, frame_id, depth_m, cam0_from_cam))


def write_node_recording(path: Path, frames: list[tuple], gt_from: Path | None,
                         child: str = 'base_link', tf_static: bool = False) -> None:
    """The node's /visual_odometry (odom -> `child`) and /depth/image for `frames`, plus the
    ground truth of `gt_from`; with `tf_static` the mounting on /tf_static."""
    types = MsgTypes.from_typestore(typestore())
    base_from_cam = parse_mounting(MOUNTING) if child == 'base_link' else np.eye(4)
    with BagWriter(path) as writer:
        if tf_static:
            tf_message = typestore().types['tf2_msgs/msg/TFMessage']
            writer.write('/tf_static', frames[0][0], tf_message(transforms=[
                pose_to_transform_stamped(types, base_from_cam,
                                          make_header(types, frames[0][0], 'base_link'),
                                          frames[0][1])]))
        for stamp, frame_id, depth_m, cam0_from_cam in frames:
            header = make_header(types, stamp, frame_id)
            writer.write('/depth/image', stamp, depth_to_image(types, depth_m, header))
            writer.write('/visual_odometry', stamp, pose_to_odometry(
                types, base_pose(base_from_cam, cam0_from_cam),
                make_header(types, stamp, 'odom'), child if child == 'base_link' else frame_id))
        if gt_from is not None:
            poses, stamps = read_bag_poses_ns(gt_from, GT_ODOM_TOPIC)
            for pose, stamp in zip(poses, stamps):
                writer.write(GT_ODOM_TOPIC, int(stamp), pose_to_odometry(
                    types, pose, make_header(types, int(stamp), 'world'), 'camera_gt'))
            with BagReader(gt_from) as reader:
                for _, _, log_ns, decode in reader.messages([GT_DEPTH_TOPIC]):
                    writer.write(GT_DEPTH_TOPIC, log_ns, decode())


@pytest.fixture(scope='module')
def replayed(drive, posenet):
    published = Published()
    from depth_ros.evaluation.replay import replay_bag
    result = replay_bag(drive, NoisyTruth(), options=posenet(), sink=published)
    return result, published.frames


def _same_figures(recorded, replayed_result) -> None:
    assert recorded.source == 'recorded' and len(recorded.gt_frames) == N
    assert recorded.trajectory.ate_5frame.mean > 1e-3  # not trivially zero
    assert recorded.trajectory.ate_5frame.mean == pytest.approx(
        replayed_result.trajectory.ate_5frame.mean, rel=1e-9)
    assert recorded.trajectory.ape['se3'].rmse == pytest.approx(
        replayed_result.trajectory.ape['se3'].rmse, rel=1e-9)
    for kind in ('depth', 'depth_unscaled'):
        ours, theirs = getattr(recorded, kind), getattr(replayed_result, kind)
        assert ours.mean.abs_rel > 1e-3
        np.testing.assert_allclose(ours.mean.as_array(), theirs.mean.as_array(), rtol=1e-5)


@pytest.mark.parametrize('gt_in_recording', [True, False])
def test_recorded_outputs_score_like_the_replay(drive, replayed, tmp_path, gt_in_recording):
    result, frames = replayed
    recording = tmp_path / 'recording'
    write_node_recording(recording, frames, drive if gt_in_recording else None)
    recorded = evaluate_recorded(recording, None if gt_in_recording else drive,
                                 base_to_camera=MOUNTING)
    _same_figures(recorded, result)
    assert 'REP 105' in recorded.to_dict()['conventions']['odometry']


@pytest.mark.parametrize('child, tf_static', [('base_link', True), ('camera', False)])
def test_mounting_from_tf_static_or_a_camera_child_frame(drive, replayed, tmp_path, child,
                                                         tf_static):
    result, frames = replayed
    write_node_recording(tmp_path / 'recording', frames, drive, child, tf_static)
    _same_figures(evaluate_recorded(tmp_path / 'recording'), result)


def test_unknown_mounting_is_refused(drive, replayed, tmp_path):
    from depth_ros.errors import InputError
    _, frames = replayed
    write_node_recording(tmp_path / 'recording', frames, drive)
    with pytest.raises(InputError, match='--base-to-camera'):
        evaluate_recorded(tmp_path / 'recording')


def test_recorded_cli_writes_the_same_files(drive, replayed, tmp_path, capsys):
    _, frames = replayed
    write_node_recording(tmp_path / 'recording', frames, None)
    out = tmp_path / 'out'
    assert main(['evaluate', '--recorded', str(tmp_path / 'recording'), '--bag', str(drive),
                 '--out', str(out), '--previews', '2', '--base-to-camera', MOUNTING]) == 0
    text = capsys.readouterr().out
    assert 'recorded outputs' in text and 'KITTI camera frame' in text
    names = {p.name for p in out.iterdir()}
    assert {'metrics.json', 'result_bag', 'trajectory.png'} <= names
    assert sum(name.startswith('depth_preview_') for name in names) == 2
    assert not any(p.name.endswith('.partial') for p in tmp_path.iterdir())


def test_wrong_frame_convention_is_visible(drive, replayed, tmp_path, posenet):
    """Scoring the base's odometry as if it were the camera's (no mounting) changes the 5-frame
    ATE: the tests above would catch a missing conversion."""
    result, frames = replayed
    write_node_recording(tmp_path / 'recording', frames, drive)
    recorded = evaluate_recorded(tmp_path / 'recording', options=posenet(),
                                 base_to_camera='0 0 0 0 0 0')
    assert recorded.trajectory.ate_5frame.mean != pytest.approx(
        result.trajectory.ate_5frame.mean, rel=1e-3)


def test_topics_missing_from_the_recording(drive, tmp_path):
    from depth_ros.errors import InputError
    with pytest.raises(InputError, match='neither odometry'):
        evaluate_recorded(drive, topics=RecordedTopics(depth='/nope'))


def test_evaluate_bag_result_unchanged_by_writing(drive, tmp_path, posenet):
    bare = evaluate_bag(drive, NoisyTruth(), options=posenet())
    written = evaluate_bag(drive, NoisyTruth(), tmp_path / 'out',
                           options=posenet(plots=False))
    assert bare.trajectory.ate_5frame.mean == written.trajectory.ate_5frame.mean
    assert (tmp_path / 'out' / 'metrics.json').is_file()


def test_eval_trajectory_takes_the_node_odometry(drive, replayed, tmp_path, capsys):
    import json
    result, frames = replayed
    write_node_recording(tmp_path / 'recording', frames, None, tf_static=True)
    assert main(['eval-trajectory', '--gt', f'{drive}:/ground_truth/odom', '--pred',
                 f'{tmp_path / "recording"}:/visual_odometry', '--json']) == 0
    report = json.loads(capsys.readouterr().out)
    assert 'TF base_link -> camera' in report['conventions']['odometry']
    assert report['ate_5frame']['mean'] == pytest.approx(result.trajectory.ate_5frame.mean,
                                                         rel=1e-9)


def test_result_bag_without_ground_truth_depth(drive, replayed, tmp_path, posenet):
    from depth_ros.evaluation.recorded import evaluate_recorded_to
    _, frames = replayed
    write_node_recording(tmp_path / 'recording', frames, None)
    result = evaluate_recorded_to(tmp_path / 'out', tmp_path / 'recording', drive,
                                  RecordedTopics(gt_depth=None),
                                  posenet(plots=False),
                                  MOUNTING)
    assert result.depth is None and result.trajectory is not None
    with BagReader(tmp_path / 'out' / 'result_bag') as reader:
        counts = {topic: info.count for topic, info in reader.topics.items()}
    assert counts == {'/depth_ros/depth': N, '/depth_ros/odom': N, GT_ODOM_TOPIC: N}
