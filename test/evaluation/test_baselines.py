"""Baselines: constructed cases with known answers (flat plane, row-only depth, straight line)."""
import numpy as np
import pytest

from depth_ros.evaluation import baselines as bl
from depth_ros.evaluation.depth_metrics import evaluate_depth_image
from depth_ros.evaluation.trajectory import ate_5frame
from depth_ros.geometry.intrinsics import Intrinsics


INTR = Intrinsics(fx=700.0, fy=710.0, cx=300.0, cy=100.5, width=600, height=190)


def _plane_depth(intr: Intrinsics, height_m: float, pitch_rad: float = 0.0) -> np.ndarray:
    """Ray casting: depth where each pixel's ray meets the road plane `height_m` below the
    camera (normal 'up' tilted by `pitch_rad` about x); 0 where the ray misses it."""
    v, u = np.mgrid[0:intr.height, 0:intr.width].astype(np.float64)
    rays = np.stack([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones_like(u)], -1)
    up = np.array([0.0, -np.cos(pitch_rad), -np.sin(pitch_rad)])
    # Points X on the plane satisfy up . X = -height_m; X = t * ray.
    denominator = rays @ up
    with np.errstate(divide='ignore'):
        t = np.where(denominator < -1e-9, -height_m / denominator, 0.0)
    return np.where(t * rays[..., 2] < 200.0, t * rays[..., 2], 0.0)


def test_flat_ground_prior_is_exact_on_a_flat_plane():
    gt = _plane_depth(INTR, 1.65)
    prior = bl.flat_ground_depth(INTR, 1.65, max_depth=1000.0)
    valid = gt > 0
    assert valid[INTR.height - 1].all() and not valid[:100].any()
    np.testing.assert_allclose(prior[valid], gt[valid], rtol=1e-6)
    assert np.all(prior[:101] == 1000.0)  # at and above the horizon row (cy = 100.5)
    metrics, _ = evaluate_depth_image(gt, 1.0 / prior, scale=1.0, max_depth=80.0,
                                      garg_crop=False)
    assert metrics.abs_rel < 1e-6 and metrics.a1 == 1.0


def test_flat_ground_prior_at_the_wrong_height_is_off_by_the_height_ratio():
    gt = _plane_depth(INTR, 1.2)
    gt[gt > 50.0] = 0.0  # so that 1.65 / 1.2 times the depth stays under the 80 m clamp
    scores = bl.DepthBaselines(prior=bl.row_prior_from_depths([gt]), camera_height_m=1.65,
                               garg_crop=False)
    scores.add(gt, INTR)
    flat = scores.to_dict()['flat_ground']
    assert flat['unscaled']['abs_rel'] == pytest.approx(1.65 / 1.2 - 1, rel=1e-4)
    assert flat['median_scaled']['abs_rel'] < 1e-5
    # The camera-height estimator on the prior's own flat road finds 1.65 m: factor 1.
    assert flat['camera_height']['abs_rel'] == pytest.approx(flat['unscaled']['abs_rel'],
                                                             rel=1e-4)


def test_camera_height_factor_of_the_flat_prior_is_one():
    depth = bl.flat_ground_depth(INTR, 1.65)
    assert bl.camera_height_factor(depth, INTR, 1.65) == pytest.approx(1.0, abs=1e-6)
    assert bl.camera_height_factor(np.full((190, 600), 7.0), INTR, 1.65) is None


def test_row_prior_scores_zero_on_depth_that_depends_only_on_the_row():
    rng = np.random.default_rng(3)
    column = rng.uniform(2.0, 60.0, size=190)
    maps = []
    for _ in range(3):  # sparse, like LiDAR: a different 5 % of pixels per frame
        depth = np.repeat(column[:, None], 600, axis=1)
        depth[rng.random(depth.shape) > 0.05] = 0.0
        maps.append(depth)
    prior = bl.row_prior_from_depths(maps)
    np.testing.assert_allclose(prior.depth_m, column, rtol=1e-6)
    scores = bl.DepthBaselines(prior=prior, garg_crop=False)
    for depth in maps:
        scores.add(depth)
    row = scores.to_dict()['row_prior']
    assert row['frames'] == 3
    assert row['median_scaled']['abs_rel'] < 1e-6 and row['unscaled']['abs_rel'] < 1e-6
    assert row['camera_height'] is None  # no intrinsics given: no camera-height scale


def test_row_prior_median_fill_and_resampling():
    depth = np.zeros((4, 3))
    depth[1] = [1.0, 2.0, 9.0]
    depth[3] = [4.0, 0.0, 0.0]
    prior = bl.row_prior_from_depths([depth, depth])
    np.testing.assert_array_equal(prior.depth_m[[1, 3]], [2.0, 4.0])
    assert np.isnan(prior.depth_m[[0, 2]]).all()
    assert prior.constant_depth_m == pytest.approx(np.median([1, 2, 9, 4]))
    np.testing.assert_allclose(prior.depth_map(4, 2)[:, 0], [2.0, 2.0, 3.0, 4.0])
    # A linear profile resamples exactly to another height (row centres map linearly).
    linear = bl.RowPrior(np.arange(10.0) * 2 + 1, 5.0)
    resampled = linear.depth_map(5, 1)[:, 0]
    centres = (np.arange(5) + 0.5) * 2 - 0.5
    np.testing.assert_allclose(resampled, centres * 2 + 1)


def test_row_prior_round_trip_and_package_prior(tmp_path):
    prior = bl.RowPrior(np.array([np.nan, 3.0, 4.5]), 3.5, 'test')
    loaded = bl.load_row_prior(bl.save_row_prior(prior, tmp_path / 'p.json'))
    np.testing.assert_array_equal(loaded.depth_m, prior.depth_m)
    assert loaded.constant_depth_m == 3.5 and loaded.source == 'test'
    package = bl.load_row_prior()
    assert len(package.depth_m) == 375 and 'sfnd' in package.source
    assert 1.0 < package.constant_depth_m < 80.0


def _straight_line(frames: int, step: float) -> np.ndarray:
    poses = np.tile(np.eye(4), (frames, 1, 1))
    poses[:, 2, 3] = step * np.arange(frames)
    return poses


def test_constant_forward_has_zero_error_on_a_straight_line():
    gt = _straight_line(12, 0.7)
    figures = bl.odometry_baselines(gt)['constant_forward']
    assert figures['ate_5frame']['mean'] < 1e-12
    assert figures['ape']['sim3']['rmse'] < 1e-9
    assert figures['kitti_devkit']['7dof']['ate_m'] < 1e-9
    # Unscaled SE(3) APE sees the unit step against 0.7 m: positions drift 0.3 m per frame.
    assert figures['ape']['se3']['rmse'] > 0.5


def test_static_baseline_scores_the_ground_truth_track_length():
    gt = _straight_line(12, 0.7)
    figures = bl.odometry_baselines(gt)['static']
    # A full 5-point track of a static prediction: sqrt(sum (i * 0.7)^2, i=0..4) / 5.
    first_track = ate_5frame(gt, bl.static_poses(12)).track_errors[0]
    assert first_track == pytest.approx(0.7 * np.sqrt(30) / 5)
    assert figures['ate_5frame']['mean'] > 0.5
    assert figures['ape']['sim3'] is None  # no scale for a camera that never moves


def test_constant_forward_poses_step_along_the_optical_axis():
    poses = bl.constant_forward_poses(3, step=2.0)
    np.testing.assert_array_equal(poses[:, :3, :3], np.broadcast_to(np.eye(3), (3, 3, 3)))
    np.testing.assert_array_equal(poses[:, :3, 3], [[0, 0, 0], [0, 0, 2], [0, 0, 4]])


def test_verdicts_say_plainly_when_the_network_loses():
    network = {'median_scaled': {'abs_rel': 0.30}}
    baselines = {'row_prior': {'median_scaled': {'abs_rel': 0.25}},
                 'constant_depth': {'median_scaled': {'abs_rel': 0.40}}}
    trajectory = {'ate_5frame': {'mean': 0.02}}
    odometry = {'constant_forward': {'ate_5frame': {'mean': 0.01}}}
    lines = bl.comparison_lines(network, baselines, trajectory, odometry)
    assert any('does NOT beat the row prior' in line and '1.20x' in line for line in lines)
    assert any('network beats the constant depth' in line for line in lines)
    assert any('does NOT beat the constant-forward' in line for line in lines)
    assert len(lines) == 3


def test_baseline_comparison_for_evaluate_reports_and_formats():
    comparison = bl.BaselineComparison(garg_crop=False, camera_height_m=1.65)
    gt = _plane_depth(INTR, 1.65)
    gt[gt > 60.0] = 0.0
    for _ in range(2):
        comparison.add_depth(gt, INTR)
    network_depth = {'median_scaled': {'abs_rel': 0.1}, 'unscaled': {'abs_rel': 0.2}}
    network_trajectory = {'ate_5frame': {'mean': 0.5}}
    report = comparison.report(_straight_line(6, 0.5), network_depth, network_trajectory)
    flat = report['depth']['flat_ground']
    assert flat['frames'] == 2 and flat['unscaled']['abs_rel'] < 1e-5
    assert report['odometry']['constant_forward']['ate_5frame']['mean'] < 1e-12
    verdicts = report['verdicts']
    assert any('unscaled: network 0.2 vs flat-ground prior' in v and 'does NOT beat' in v
               for v in verdicts)
    assert any('5-frame ATE (m): network 0.5 vs constant-forward' in v
               and 'does NOT beat' in v for v in verdicts)
    named = comparison.report(_straight_line(6, 0.5), None, network_trajectory,
                              odometry_subject='epipolar odometry')['verdicts']
    assert any(v.startswith('5-frame ATE (m): epipolar odometry 0.5 vs constant-forward')
               and 'epipolar odometry does NOT beat' in v for v in named)
    text = '\n'.join(bl.format_baselines(report))
    assert 'flat-ground prior' in text and 'constant-forward' in text and 'static' in text
    assert bl.format_baselines(None) == []


def test_evaluate_reports_baselines_on_the_frames_it_scores(tmp_path, shared_data,
                                                          copy_kitti_frames):
    """`depth-ros evaluate`'s replay: the baselines see the same frames, crop and pixels."""
    from depth_ros.evaluation.depth_metrics import evaluate_depths
    from depth_ros.evaluation.kitti_to_bag import kitti_to_bag
    from depth_ros.evaluation.replay import EvalOptions, evaluate_bag, format_result
    from depth_ros.inference import Predictor
    from depth_ros.inference.image_io import read_image

    dev = shared_data / 'real' / 'dev' / 'kitti_raw_0926_0005' / 'sequences' / '0926_0005'
    if not dev.is_dir():
        pytest.skip(f'real dev drive not found at {dev}')
    seq = copy_kitti_frames(dev, tmp_path / 'sequences' / 'dev')
    poses = (dev.parent.parent / 'poses' / '0926_0005.txt').read_text().splitlines(True)[:3]
    (tmp_path / 'poses').mkdir()
    (tmp_path / 'poses' / 'dev.txt').write_text(''.join(poses))
    kitti_to_bag(seq, tmp_path / 'bag')
    result = evaluate_bag(tmp_path / 'bag', Predictor.from_checkpoint(),
                          options=EvalOptions(garg_crop=True))
    row = result.baselines['depth']['row_prior']
    assert row['frames'] == len(result.depth.per_image) == 3
    gts = [read_image(seq / 'depth_2' / f'{i:06d}.png') / 256.0 for i in range(3)]
    expected = evaluate_depths(gts, [1.0 / bl.load_row_prior().depth_map(375, 1242)] * 3,
                               scale=1.0)
    assert row['unscaled']['abs_rel'] == pytest.approx(expected.mean.abs_rel, rel=1e-5)
    assert row['camera_height'] is None  # no camera height given
    assert set(result.baselines['odometry']) == {'constant_forward', 'static'}
    text = format_result(result)
    assert 'baselines (same frames and pixels)' in text and 'the row prior' in text
    assert result.to_dict()['baselines']['verdicts'] == result.baselines['verdicts']
