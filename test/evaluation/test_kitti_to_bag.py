"""kitti-to-bag: real KITTI 06 frames and constructed sequences/drives, read back and compared."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from depth_ros.cli import main
from depth_ros.errors import InputError, OutputError
from depth_ros.evaluation.bag_io import BagReader, read_bag_poses, read_bag_poses_ns
from depth_ros.evaluation.kitti import read_kitti_poses
from depth_ros.evaluation.kitti_to_bag import (
    CAMERA_INFO_TOPIC,
    EARTH_RADIUS_M,
    GT_DEPTH_TOPIC,
    GT_ODOM_TOPIC,
    IMAGE_TOPIC,
    _parse_raw_timestamp,
    kitti_to_bag,
)
from depth_ros.geometry.intrinsics import read_kitti_calib
from depth_ros.ros.codecs import camera_info_to_intrinsics, image_to_depth, image_to_rgb


FRAMES_06 = 51
START_NS = 1_700_000_000 * 10**9  # the documented default first stamp of relative times
P2 = [[700.0, 0.0, 48.0, 46.9], [0.0, 700.0, 16.0, 0.1], [0.0, 0.0, 1.0, 0.006]]


def _messages(bag: Path, topic: str) -> list:
    with BagReader(bag) as reader:
        return [decode() for _, _, _, decode in reader.messages([topic])]


def make_sequence(root: Path, frames: int = 5, width: int = 96, height: int = 32,
                  depth: bool = True, times: bool = True, poses: bool = True) -> Path:
    """A KITTI odometry layout (sequences/00 + poses/00.txt) like depth_ros.synth writes."""
    seq = root / 'sequences' / '00'
    (seq / 'image_2').mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(frames):
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(
            seq / 'image_2' / f'{i:06d}.png')
    rows = [' '.join(f'{v:.12e}' for v in np.eye(3, 4).ravel())] * 2
    rows.insert(2, 'P2: ' + ' '.join(f'{v:.12e}' for v in np.ravel(P2)))
    (seq / 'calib.txt').write_text('P0: ' + rows[0] + '\nP1: ' + rows[1] + '\n' + rows[2] + '\n')
    if times:
        np.savetxt(seq / 'times.txt', np.arange(frames) * 0.1037 + 0.5, fmt='%.6e')
    if depth:
        (seq / 'depth_2').mkdir()
        for i in range(frames):
            values = (rng.uniform(1, 80, (height, width)) * 256).astype(np.uint16)
            values[0, :] = 0  # no measurement
            Image.fromarray(values).save(seq / 'depth_2' / f'{i:06d}.png')
    if poses:
        (root / 'poses').mkdir()
        world_from_cam = np.tile(np.eye(4), (frames + 3, 1, 1))
        world_from_cam[:, 2, 3] = np.arange(frames + 3) * 0.8
        np.savetxt(root / 'poses' / '00.txt', world_from_cam[:, :3].reshape(-1, 12), fmt='%.9e')
    return seq


@pytest.fixture(scope='module')
def kitti06(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    seq = shared_data / 'kitti_odometry' / 'sequences' / '06'
    if not (seq / 'image_0').is_dir():
        pytest.skip(f'KITTI 06 frames not found at {seq}')
    bag = tmp_path_factory.mktemp('k06') / 'bag'
    kitti_to_bag(seq, bag)
    return seq, bag


def test_kitti06_counts_stamps_and_topics(kitti06):
    _, bag = kitti06
    with BagReader(bag) as reader:
        counts = {topic: info.count for topic, info in reader.topics.items()}
        stamps = reader.header_stamps_ns(IMAGE_TOPIC)
    assert counts == {IMAGE_TOPIC: FRAMES_06, CAMERA_INFO_TOPIC: FRAMES_06,
                      GT_ODOM_TOPIC: FRAMES_06}  # no depth_0 folder: no depth topic
    # No times.txt in the shared 06: nominal 10 Hz from the default start time (not 0).
    np.testing.assert_array_equal(stamps, START_NS + np.arange(FRAMES_06) * 100_000_000)


def test_kitti06_image_bytes_round_trip(kitti06):
    seq, bag = kitti06
    images = _messages(bag, IMAGE_TOPIC)
    for i, msg in enumerate(images):
        assert msg.encoding == 'mono8' and msg.header.frame_id == 'camera'
        original = np.asarray(Image.open(seq / 'image_0' / f'{i:06d}.png'))
        assert (msg.height, msg.width) == original.shape == (370, 1226)
        assert bytes(msg.data) == original.tobytes()
        np.testing.assert_array_equal(image_to_rgb(msg)[..., 1], original)


def test_kitti06_camera_info_is_calib_p0(kitti06):
    seq, bag = kitti06
    p0 = read_kitti_calib(seq / 'calib.txt')['P0'].reshape(3, 4)
    infos = _messages(bag, CAMERA_INFO_TOPIC)
    intr = camera_info_to_intrinsics(infos[0])
    assert (intr.width, intr.height) == (1226, 370)
    np.testing.assert_allclose([intr.fx, intr.fy, intr.cx, intr.cy],
                               [p0[0, 0], p0[1, 1], p0[0, 2], p0[1, 2]])
    np.testing.assert_allclose(np.reshape(infos[-1].k, (3, 3)), p0[:, :3])


def test_kitti06_ground_truth_is_first_51_poses(kitti06, shared_data):
    _, bag = kitti06
    expected = read_kitti_poses(shared_data / 'kitti_odometry' / 'poses' / '06.txt')
    got = read_bag_poses(bag, GT_ODOM_TOPIC)
    assert len(expected) > FRAMES_06 and len(got) == FRAMES_06
    # KITTI rotations are printed to 7 digits; the quaternion round trip makes them orthonormal.
    np.testing.assert_allclose(got.world_from_cam, expected.world_from_cam[:FRAMES_06],
                               atol=2e-6)
    odom = _messages(bag, GT_ODOM_TOPIC)[3]
    assert (odom.header.frame_id, odom.child_frame_id) == ('world', 'camera_gt')


def test_same_bag_as_gt_and_pred_scores_zero(kitti06, capsys):
    _, bag = kitti06
    spec = f'{bag}:{GT_ODOM_TOPIC}'
    assert main(['eval-trajectory', '--gt', spec, '--pred', spec, '--json']) == 0
    import json
    report = json.loads(capsys.readouterr().out)
    assert report['n_poses'] == FRAMES_06
    assert report['ate_5frame']['mean'] == pytest.approx(0.0, abs=1e-9)
    assert report['ape']['se3']['rmse'] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize('storage', ['sqlite3', 'mcap'])
def test_constructed_sequence_both_storages(tmp_path, storage):
    seq = make_sequence(tmp_path)
    summary = kitti_to_bag(seq, tmp_path / 'bag', storage=storage)
    suffix = {'sqlite3': '.db3', 'mcap': '.mcap'}[storage]
    assert any(p.suffix == suffix for p in (tmp_path / 'bag').iterdir())
    assert summary.topics == {CAMERA_INFO_TOPIC: 5, IMAGE_TOPIC: 5, GT_DEPTH_TOPIC: 5,
                              GT_ODOM_TOPIC: 5}
    assert summary.stamps_source == 'times.txt'
    images = _messages(tmp_path / 'bag', IMAGE_TOPIC)
    assert images[2].encoding == 'rgb8'
    np.testing.assert_array_equal(image_to_rgb(images[2]),
                                  np.asarray(Image.open(seq / 'image_2' / '000002.png')))
    stamps_ns = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in images]
    # times.txt steps, first stamp at the default start time.
    np.testing.assert_array_equal(stamps_ns, START_NS + np.rint(np.arange(5) * 0.1037 * 1e9))
    raw = np.asarray(Image.open(seq / 'depth_2' / '000004.png')).astype(np.float32) / 256
    depth = image_to_depth(_messages(tmp_path / 'bag', GT_DEPTH_TOPIC)[4])
    assert np.isnan(depth[0]).all()  # 0 in the PNG = no measurement = NaN (REP 118)
    np.testing.assert_allclose(depth[1:], raw[1:])
    poses, pose_stamps = read_bag_poses_ns(tmp_path / 'bag', GT_ODOM_TOPIC)
    np.testing.assert_allclose(poses[:, 2, 3], np.arange(5) * 0.8)  # trimmed to the frames
    np.testing.assert_array_equal(pose_stamps, stamps_ns)
    intr = camera_info_to_intrinsics(_messages(tmp_path / 'bag', CAMERA_INFO_TOPIC)[0])
    assert (intr.fx, intr.cx, intr.cy, intr.width, intr.height) == (700.0, 48.0, 16.0, 96, 32)


def test_nominal_rate_when_no_times(tmp_path):
    seq = make_sequence(tmp_path, times=False, depth=False, poses=False)
    summary = kitti_to_bag(seq, tmp_path / 'bag')
    assert summary.stamps_source == 'nominal 10 Hz' and summary.gt_source == ''
    assert GT_ODOM_TOPIC not in summary.topics
    summary = kitti_to_bag(seq, tmp_path / 'bag20', rate_hz=20.0)
    assert summary.stamps_source == 'nominal 20 Hz'
    with BagReader(tmp_path / 'bag20') as reader:
        np.testing.assert_array_equal(reader.header_stamps_ns(IMAGE_TOPIC),
                                      START_NS + np.arange(5) * 50_000_000)


def test_too_few_poses_and_existing_output_are_errors(tmp_path):
    seq = make_sequence(tmp_path)
    short = tmp_path / 'short.txt'
    np.savetxt(short, np.tile(np.eye(3, 4).ravel(), (3, 1)))
    with pytest.raises(InputError, match='3 poses but the sequence has 5'):
        kitti_to_bag(seq, tmp_path / 'bag', poses=short)
    kitti_to_bag(seq, tmp_path / 'bag')
    with pytest.raises(OutputError, match='exists already'):
        kitti_to_bag(seq, tmp_path / 'bag')


def test_cli_one_line_errors_and_summary(tmp_path, capsys):
    assert main(['kitti-to-bag', '--sequence-dir', str(tmp_path / 'nope'), '--out',
                 str(tmp_path / 'b')]) == 2
    err = capsys.readouterr().err
    assert 'sequence folder not found' in err and 'Traceback' not in err
    seq = make_sequence(tmp_path, times=False)
    assert main(['kitti-to-bag', '--sequence-dir', str(seq), '--out', str(tmp_path / 'b'),
                 '--storage', 'mcap']) == 0
    out = capsys.readouterr().out
    assert 'nominal 10 Hz' in out and '/ground_truth/depth: 5 messages' in out


# ---------------------------------------------------------------------------------------------
# KITTI raw drives


def _oxts_record(lat_deg: float, lon_deg: float, yaw: float) -> str:
    values = np.zeros(30)
    values[:6] = [lat_deg, lon_deg, 120.0, 0.0, 0.0, yaw]
    return ' '.join(f'{v:.12f}' for v in values)


@pytest.fixture
def raw_drive(shared_data, tmp_path) -> Path:
    calib = shared_data / 'kitti_raw' / '2011_09_26_calib' / '2011_09_26'
    if not (calib / 'calib_imu_to_velo.txt').is_file():
        pytest.skip(f'KITTI raw calibration not found at {calib}')
    date = tmp_path / '2011_09_26'
    date.mkdir()
    for name in ('calib_cam_to_cam.txt', 'calib_imu_to_velo.txt', 'calib_velo_to_cam.txt'):
        (date / name).write_bytes((calib / name).read_bytes())
    drive = date / '2011_09_26_drive_0001_sync'
    (drive / 'image_02' / 'data').mkdir(parents=True)
    (drive / 'oxts' / 'data').mkdir(parents=True)
    rng = np.random.default_rng(1)
    lat0, step_m = 49.0, 1.5
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (375, 1242, 3), dtype=np.uint8)).save(
            drive / 'image_02' / 'data' / f'{i:010d}.png')
        # Heading east (yaw 0) at step_m per frame along the Mercator x axis.
        lon = np.degrees(i * step_m / (np.cos(np.radians(lat0)) * EARTH_RADIUS_M))
        (drive / 'oxts' / 'data' / f'{i:010d}.txt').write_text(_oxts_record(lat0, lon, 0.0))
    stamps = [f'2011-09-26 13:02:25.{100000000 * i + 12345:09d}' for i in range(4)]
    (drive / 'image_02' / 'timestamps.txt').write_text('\n'.join(stamps) + '\n')
    return drive


def test_raw_timestamp_parsing():
    ns = _parse_raw_timestamp('2011-09-26 13:02:25.964389445')
    assert ns == 1317042145 * 10**9 + 964389445


def test_raw_drive_to_bag(raw_drive, tmp_path):
    summary = kitti_to_bag(raw_drive, tmp_path / 'raw_bag')
    assert summary.stamps_source == 'timestamps.txt' and summary.frames == 4
    assert (summary.width, summary.height) == (1242, 375)
    with BagReader(tmp_path / 'raw_bag') as reader:
        stamps = reader.header_stamps_ns(IMAGE_TOPIC)
    np.testing.assert_array_equal(stamps - stamps[0], np.arange(4) * 100_000_000)
    assert stamps[0] == 1317042145 * 10**9 + 12345
    cam_to_cam = read_kitti_calib(raw_drive.parent / 'calib_cam_to_cam.txt')
    p_rect = cam_to_cam['P_rect_02'].reshape(3, 4)
    intr = camera_info_to_intrinsics(_messages(tmp_path / 'raw_bag', CAMERA_INFO_TOPIC)[0])
    np.testing.assert_allclose([intr.fx, intr.fy, intr.cx, intr.cy],
                               [p_rect[0, 0], p_rect[1, 1], p_rect[0, 2], p_rect[1, 2]])
    # Driving straight ahead: the camera moves along its own optical axis (z), step_m a frame.
    poses = read_bag_poses(tmp_path / 'raw_bag', GT_ODOM_TOPIC).world_from_cam
    np.testing.assert_allclose(poses[0], np.eye(4), atol=1e-9)
    np.testing.assert_allclose(poses[:, 2, 3], np.arange(4) * 1.5, rtol=2e-3)
    assert np.abs(poses[:, :2, 3]).max() < 0.05 * 4.5
    np.testing.assert_allclose(poses[:, :3, :3], np.tile(np.eye(3), (4, 1, 1)), atol=1e-6)
