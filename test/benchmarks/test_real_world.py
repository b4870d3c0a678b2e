"""benchmarks/real_world.py on a few real frames of the dev drive (skips without ../shared)."""
import hashlib
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

from depth_ros.models import ArchSpec
from depth_ros.models.checkpoint import CheckpointMeta


ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get('DEPTH_ROS_SHARED', ROOT.parent / 'shared'))


DEV = SHARED / 'data' / 'real' / 'dev' / 'kitti_raw_0926_0005' / 'sequences' / '0926_0005'


@pytest.fixture(scope='module')
def real_world():
    if not DEV.is_dir():
        pytest.skip(f'real dev drive not found at {DEV}')
    spec = importlib.util.spec_from_file_location('real_world',
                                                  ROOT / 'benchmarks' / 'real_world.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _beside_dev(real_world, out: Path, name: str, folder: Path, frames: int, *extra: str) -> dict:
    """The benchmark's results for the dev drive's first `frames` frames and, in the same run,
    the sequence `name=folder`."""
    assert real_world.main(['--out', str(out), '--shared', str(SHARED), '--frames', str(frames),
                            '--sets', 'dev_0926_0005', '--sequence', f'{name}={folder}',
                            *extra]) == 0
    return json.loads((out / 'real_world.json').read_text())


def test_the_kitti_loader_reads_the_jpeg_dev_drive_with_depth_and_poses():
    if not DEV.is_dir():
        pytest.skip(f'real dev drive not found at {DEV}')
    from depth_ros.evaluation.kitti_to_bag import load_kitti_sequence
    from depth_ros.inference.image_io import read_image

    seq = load_kitti_sequence(DEV)
    assert len(seq) == 154 and seq.camera == 2
    assert all(p.suffix == '.jpg' for p in seq.image_paths)
    assert read_image(seq.image_paths[0]).shape == (375, 1242, 3)
    assert seq.world_from_cam.shape == (154, 4, 4) and seq.depth_reader is not None
    # SOURCE.txt: ~4.2 % of the pixels carry LiDAR depth.
    assert 0.03 < np.mean(seq.depth_reader(0) > 0) < 0.06


def test_benchmark_on_three_dev_frames(real_world, tmp_path):
    assert real_world.main(['--out', str(tmp_path), '--shared', str(SHARED), '--frames', '3',
                            '--sets', 'dev_0926_0005', '--static-pairs', '1',
                            '--previews', '1']) == 0
    results = json.loads((tmp_path / 'real_world.json').read_text())
    dev = results['sets']['dev_0926_0005']
    assert dev['frames'] == 3
    network, base = dev['depth']['network'], dev['depth']['baselines']
    assert network['frames'] == 3 and 0 < network['median_scaled']['abs_rel'] < 1
    assert {'row_prior', 'flat_ground', 'constant_depth', 'row_prior_oracle'} <= set(base)
    assert all(b['frames'] == 3 for b in base.values())  # the same frames as the network
    # The flat-ground prior is a level road 1.65 m down: its camera-height factor is 1.
    assert base['flat_ground']['camera_height']['abs_rel'] == pytest.approx(
        base['flat_ground']['unscaled']['abs_rel'], rel=1e-4)
    odometry = dev['trajectory']['baselines']
    assert odometry['static']['ate_5frame']['mean'] > odometry['constant_forward'][
        'ate_5frame']['mean']
    assert dev['trajectory']['network']['n_poses'] == 3
    static = results['static_pairs']['identical_dev_0926_0005']
    assert static['pairs'] == 1 and static['translation_m_max'] >= 0
    # The epipolar odometry on the same frames; a frame paired with itself has no flow: zero.
    assert dev['trajectory']['epipolar']['n_poses'] == 3
    assert dev['trajectory']['epipolar_camera_height']['n_poses'] == 3
    still = results['static_pairs']['epipolar_identical_dev_0926_0005']
    assert still['pairs'] == 1 and still['translation_m_max'] == 0.0
    assert still['rotation_deg_max'] == 0.0 and still['meets_targets']
    preview = tmp_path / dev['previews'][0]
    from PIL import Image
    with Image.open(preview) as im:  # camera, prediction and LiDAR panels, 512 wide
        assert im.size == (512, 3 * round(375 * 512 / 1242))
    targets = {t['target']: t for t in results['issue_12_targets']}
    abs_rel = targets['dev abs_rel (Garg crop, median-scaled) <= 0.17']
    assert abs_rel['value'] == network['median_scaled']['abs_rel']
    assert abs_rel['met'] == (abs_rel['value'] <= 0.17)
    table = (tmp_path / 'real_world.md').read_text()
    assert '| dev_0926_0005 | **network** |' in table and 'row prior' in table
    # The error by LiDAR range: the same pixels, so its parts add up to the abs_rel above.
    ranges = network['by_range']
    assert ranges['frames'] == 3 and 0 < ranges['log_slope_median'] < 2
    assert sum(row['abs_rel_part'] for row in ranges['bins']) == pytest.approx(
        network['median_scaled']['abs_rel'], rel=1e-5)
    assert base['row_prior']['by_range']['frames'] == 3
    assert '## Depth error by LiDAR range' in table and '| dev_0926_0005 | 5-10 |' in table
    with Image.open(tmp_path / dev['depth_by_range_plot']) as im:
        assert im.size == (1100, 420)
    # Top-down: as published and Sim(3)-aligned, named in the table.
    with Image.open(tmp_path / dev['trajectory_plot']) as im:
        assert im.size == (1200, 600)
    assert f"dev_0926_0005 `{dev['trajectory_plot']}`" in table


def test_the_640x192_weights_beat_the_row_prior_on_dev_frames(real_world, tmp_path):
    # The GPU-trained weights by their packaged name, against the drive's LiDAR: the same
    # frames and pixels for the network and the baselines.
    assert real_world.main(['--out', str(tmp_path), '--shared', str(SHARED), '--frames', '4',
                            '--sets', 'dev_0926_0005', '--static-pairs', '0', '--previews', '0',
                            '--weights', 'real_640x192']) == 0
    results = json.loads((tmp_path / 'real_world.json').read_text())
    depth = results['sets']['dev_0926_0005']['depth']
    network = depth['network']['median_scaled']['abs_rel']
    assert network < 0.6 * depth['baselines']['row_prior']['median_scaled']['abs_rel']
    from depth_ros.inference.predictor import default_weights_path
    packaged = default_weights_path('real_640x192').read_bytes()
    assert results['weights_sha256'] == hashlib.sha256(packaged).hexdigest()
    # --input-size runs the same weights at another size (the node's input_size), and says so.
    at = tmp_path / 'at512'
    assert real_world.main(['--out', str(at), '--shared', str(SHARED), '--frames', '4',
                            '--sets', 'dev_0926_0005', '--static-pairs', '0', '--previews', '0',
                            '--weights', 'real_640x192', '--input-size', '512x160']) == 0
    smaller = json.loads((at / 'real_world.json').read_text())
    assert results['input_size'] is None and smaller['input_size'] == [160, 512]
    assert 'run at 512x160 (input_size)' in (at / 'real_world.md').read_text()
    assert smaller['sets']['dev_0926_0005']['depth']['network'] != depth['network']


def test_a_sequence_of_your_own_scores_as_the_same_frames_of_a_built_in_set(
        real_world, tmp_path, copy_kitti_frames):
    """--sequence NAME=FOLDER: the dev drive's first frames copied into a folder of their own
    (odometry layout, poses in ../../poses) score exactly as the built-in set's."""
    own = copy_kitti_frames(DEV, tmp_path / 'mine' / 'sequences' / 'drive', frames=4)
    (own / 'times.txt').write_text(''.join((DEV / 'times.txt').read_text()
                                           .splitlines(True)[:4]))
    (tmp_path / 'mine' / 'poses').mkdir()
    gt_poses = DEV.parent.parent / 'poses' / f'{DEV.name}.txt'
    (tmp_path / 'mine' / 'poses' / 'drive.txt').write_text(
        ''.join(gt_poses.read_text().splitlines(True)[:4]))
    out = tmp_path / 'out'
    results = _beside_dev(real_world, out, 'mine', own, 4, '--static-pairs', '1',
                          '--previews', '1')
    dev, mine = results['sets']['dev_0926_0005'], results['sets']['mine']
    assert mine['frames'] == 4 and mine['depth_ground_truth'] and mine['gt_source']
    assert mine['depth'] == dev['depth'] and mine['trajectory'] == dev['trajectory']
    targets = {t['target']: t['value'] for t in results['issue_12_targets']}
    assert targets['mine abs_rel (Garg crop, median-scaled) <= 0.17'] == targets[
        'dev abs_rel (Garg crop, median-scaled) <= 0.17']
    assert (out / mine['previews'][0]).is_file()
    # Only the named sequence when --sets is not given.
    only = tmp_path / 'only'
    assert real_world.main(['--out', str(only), '--shared', str(SHARED), '--frames', '2',
                            '--sequence', f'mine={own}', '--static-pairs', '1',
                            '--previews', '0']) == 0
    assert list(json.loads((only / 'real_world.json').read_text())['sets']) == ['mine']


def test_a_kitti_raw_drive_with_velodyne_scans_scores_as_the_same_frames(real_world, tmp_path):
    """The layout a user's own KITTI raw drive comes in (image_02/data, velodyne_points/data
    .bin scans, the date's calib_*.txt beside it): the dev drive's first frames, their LiDAR
    depth PNGs turned back into velodyne points through the inverse of the date's projection,
    score as the built-in set's frames (depth, baselines, camera-height scale)."""
    from depth_ros.evaluation.kitti import kitti_velo_to_image

    calib = SHARED / 'data' / 'kitti_raw' / '2011_09_26_calib' / '2011_09_26'
    if not (calib / 'calib_velo_to_cam.txt').is_file():
        pytest.skip(f'KITTI raw calibration not found at {calib}')
    date = tmp_path / '2011_09_26'
    drive = date / '2011_09_26_drive_0005_sync'
    for sub in ('image_02/data', 'velodyne_points/data'):
        (drive / sub).mkdir(parents=True)
    for name in ('calib_cam_to_cam.txt', 'calib_velo_to_cam.txt', 'calib_imu_to_velo.txt'):
        (date / name).write_bytes((calib / name).read_bytes())
    image_from_velo = kitti_velo_to_image(date, camera=2).image_from_velo
    from PIL import Image
    for i in range(3):
        (drive / 'image_02' / 'data' / f'{i:010d}.jpg').write_bytes(
            (DEV / 'image_2' / f'{i:06d}.jpg').read_bytes())
        with Image.open(DEV / 'depth_2' / f'{i:06d}.png') as im:
            depth = np.asarray(im, dtype=np.float64) / 256.0
        rows, cols = np.nonzero(depth)
        d = depth[rows, cols]
        # pixel = round(u) - 1: u = col + 1; solve image_from_velo @ [x; 1] = d * [u, v, 1].
        image = np.stack([(cols + 1) * d, (rows + 1) * d, d])
        velo = np.linalg.solve(image_from_velo[:, :3], image - image_from_velo[:, 3:])
        points = np.concatenate([velo.T, np.zeros((len(d), 1))], axis=1).astype(np.float32)
        points.tofile(drive / 'velodyne_points' / 'data' / f'{i:010d}.bin')
    results = _beside_dev(real_world, tmp_path / 'out', 'raw', drive, 3, '--static-pairs', '0',
                          '--previews', '0')
    dev, raw = results['sets']['dev_0926_0005'], results['sets']['raw']
    assert raw['frames'] == 3 and raw['depth_ground_truth']
    for protocol in ('median_scaled', 'unscaled', 'camera_height'):
        for metric in ('abs_rel', 'rmse', 'a1'):
            assert raw['depth']['network'][protocol][metric] == pytest.approx(
                dev['depth']['network'][protocol][metric], rel=1e-4), (protocol, metric)
    assert raw['depth']['baselines']['row_prior']['median_scaled']['abs_rel'] == pytest.approx(
        dev['depth']['baselines']['row_prior']['median_scaled']['abs_rel'], rel=1e-4)


@pytest.mark.parametrize('argv', [['--sequence', 'no_equals_sign'],
                                  ['--sequence', 'bad name=.'],
                                  ['--sequence', 'x=/no/such/folder'],
                                  ['--sequence', 'dev_0926_0005=.', '--sets', 'dev_0926_0005'],
                                  ['--sets'],
                                  ['--camera-height-m', '0'],
                                  ['--input-size', '512x150'], ['--input-size', '512']])
def test_bad_sequence_arguments_are_refused(argv, capsys):
    spec = importlib.util.spec_from_file_location('real_world_args',
                                                  ROOT / 'benchmarks' / 'real_world.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as exit_:
        module._parse(argv)
    assert exit_.value.code == 2 and 'error:' in capsys.readouterr().err


def test_kitti_to_bag_writes_the_real_jpeg_frames_unchanged(tmp_path, copy_kitti_frames):
    if not DEV.is_dir():
        pytest.skip(f'real dev drive not found at {DEV}')
    from PIL import Image

    from depth_ros.evaluation.bag_io import BagReader
    from depth_ros.evaluation.kitti_to_bag import GT_DEPTH_TOPIC, IMAGE_TOPIC, kitti_to_bag
    from depth_ros.ros.codecs import image_to_depth, image_to_rgb

    seq = copy_kitti_frames(DEV, tmp_path / 'sequences' / '0926_0005')
    (seq / 'times.txt').write_text(''.join((DEV / 'times.txt').read_text().splitlines(True)[:3]))
    kitti_to_bag(seq, tmp_path / 'bag')
    with BagReader(tmp_path / 'bag') as reader:
        images = [decode() for _, _, _, decode in reader.messages([IMAGE_TOPIC])]
        depths = [decode() for _, _, _, decode in reader.messages([GT_DEPTH_TOPIC])]
    assert len(images) == len(depths) == 3
    for i, (image, depth) in enumerate(zip(images, depths)):
        with Image.open(seq / 'image_2' / f'{i:06d}.jpg') as jpeg:
            np.testing.assert_array_equal(image_to_rgb(image), np.asarray(jpeg.convert('RGB')))
        with Image.open(seq / 'depth_2' / f'{i:06d}.png') as png:
            raw = np.asarray(png)  # metres * 256, 0 = none (NaN in the bag's 32FC1)
        np.testing.assert_allclose(image_to_depth(depth), np.where(raw > 0, raw / 256.0, np.nan),
                                   rtol=1e-6)


def test_issue_targets_from_constructed_results():
    spec = importlib.util.spec_from_file_location('real_world_report',
                                                  ROOT / 'benchmarks' / 'real_world_report.py')
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    depth = {'network': {'median_scaled': {'abs_rel': 0.15}},
             'baselines': {'row_prior': {'median_scaled': {'abs_rel': 0.30}},
                           'row_prior_oracle': {'median_scaled': {'abs_rel': 0.20}}}}
    trajectory = {'network': {'ate_5frame': {'mean': 0.02}},
                  'epipolar': {'ate_5frame': {'mean': 0.036}},
                  'baselines': {'constant_forward': {'ate_5frame': {'mean': 0.04}}}}
    results = {'sets': {'dev_0926_0005': {'depth': depth, 'trajectory': trajectory,
                                          'camera_height': {'factor_over_lidar_scale': 0.85}}},
               'static_pairs': {'targets': report.STATIC_TARGETS,
                                'identical_dev': {'pairs': 2, 'translation_m_max': 0.01,
                                                  'rotation_deg_max': 0.2}}}
    got = {t['target']: (t['value'], t['met'])
           for t in report.issue_targets(results, 25_000_000)}
    assert got['dev abs_rel (Garg crop, median-scaled) <= 0.17'] == (0.15, True)
    assert got['dev abs_rel <= 0.6x the row prior'] == (pytest.approx(0.5), True)
    assert got["dev abs_rel <= 0.6x the row prior of the set's own LiDAR (oracle)"] == (
        pytest.approx(0.75), False)
    assert got['dev camera-height scale within 10 % of the LiDAR scale '
               '(abs(factor / LiDAR - 1))'] == (pytest.approx(0.15), False)
    assert got['dev_0926_0005 5-frame ATE <= 0.75x constant-forward'] == (0.5, True)
    assert got['epipolar odometry: dev_0926_0005 5-frame ATE <= 0.75x constant-forward'] == (
        pytest.approx(0.9), False)
    assert got['identical_dev: max translation < 0.02 m per frame'] == (0.01, True)
    assert got['identical_dev: max rotation < 0.1 deg per frame'] == (0.2, False)
    assert got['weights file <= 20 MB'] == (25.0, False)


def test_sets_the_weights_were_trained_on_are_named_and_their_targets_marked():
    spec = importlib.util.spec_from_file_location('real_world_report',
                                                  ROOT / 'benchmarks' / 'real_world_report.py')
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    # The dev drive goes into training mixes as dev_0005 (config/real_dev.yaml); a set of
    # your own by its own name; '81' is a synthetic training sequence, not an evaluated set.
    def sequences(training_config):  # as the weights' metadata reads them
        return CheckpointMeta(ArchSpec.of('dna_depth'), None, 128, 416,
                              training_config=training_config).training_sequences

    config = {'data': {'sequences': ['kitti_cgebbe', 'dev_0005', 81, 'mine']}}
    names = ['dev_0926_0005', 'odometry_06', 'mine', 'other']
    assert report.trained_on(sequences(config), names) == ['dev_0926_0005', 'mine']
    assert report.trained_on(sequences({'data': {'sequences': ['kitti_cgebbe']}}), names) == []
    assert report.trained_on(sequences({}), names) == []  # weights without a training config
    depth = {'network': {'median_scaled': {'abs_rel': 0.15}}, 'baselines': {}}
    trajectory = {'network': {'ate_5frame': {'mean': 0.02}},
                  'baselines': {'constant_forward': {'ate_5frame': {'mean': 0.04}}}}
    results = {'sets': {'dev_0926_0005': {'depth': depth, 'trajectory': trajectory},
                        'odometry_06': {'trajectory': trajectory}},
               'static_pairs': {'targets': report.STATIC_TARGETS},
               'trained_on': ['dev_0926_0005']}
    held_out = {t['target']: t['held_out'] for t in report.issue_targets(results, 1)}
    assert held_out['dev abs_rel (Garg crop, median-scaled) <= 0.17'] is False
    assert held_out['dev_0926_0005 5-frame ATE <= 0.75x constant-forward'] is False
    assert held_out['odometry_06 5-frame ATE <= 0.75x constant-forward'] is True
    assert held_out['weights file <= 20 MB'] is True
    results.update(command='c', weights='w', weights_sha256='0' * 64, architecture='a',
                   metres_per_unit=1.0, protocol='p', row_prior='r', seconds=1.0,
                   issue_12_targets=report.issue_targets(results, 1))
    table = report.format_markdown(results)
    assert '**Trained on: dev_0926_0005.**' in table
    assert '| dev abs_rel (Garg crop, median-scaled) <= 0.17 | 0.1500 | yes (trained on: ' \
        'not held-out) |' in table
    assert '| odometry_06 5-frame ATE <= 0.75x constant-forward | 0.5000 | yes |' in table


def test_the_odometry_table_gives_the_distance_an_estimate_publishes():
    spec = importlib.util.spec_from_file_location('real_world_report',
                                                  ROOT / 'benchmarks' / 'real_world_report.py')
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    from depth_ros.evaluation import baselines as bl

    # A drive 1 m a frame straight ahead, turning 1 degree a frame; the estimates have its
    # shape at half and at 1.25x the distance.
    yaw = np.deg2rad(1.0)
    step = np.eye(4)
    step[:3, :3] = [[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]]
    step[2, 3] = 1.0
    gt = [np.eye(4)]
    for _ in range(29):
        gt.append(gt[-1] @ step)
    gt = np.stack(gt)

    def scaled(factor: float) -> np.ndarray:
        out = gt.copy()
        out[:, :3, 3] *= factor
        return out

    traj = {'network': bl.trajectory_figures(gt, scaled(0.5)),
            'epipolar': bl.trajectory_figures(gt, scaled(1.25)),
            'baselines': bl.odometry_baselines(gt)}
    rows = {line.split(' | ')[1].strip('*'): line.split(' | ')
            for line in report._trajectory_rows('s', traj)}
    assert rows['network'][6] == '0.50'
    assert rows[report.EPIPOLAR_TITLE][6] == '1.25'
    assert rows['constant-forward'][6] == 'n/a' and rows['static'][6] == 'n/a'
