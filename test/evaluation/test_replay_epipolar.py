"""`odometry_source: epipolar` through the evaluator and the training data's sparse depth, on a
synthetic drive written to disk (exact depth and poses: the known answer)."""
import hashlib
from types import SimpleNamespace

import numpy as np
from PIL import Image
import pytest

from depth_ros.evaluation.kitti_to_bag import kitti_to_bag
from depth_ros.evaluation.replay import EvalOptions, evaluate_bag, format_result
from depth_ros.geometry.intrinsics import kitti_intrinsics
from depth_ros.geometry.se3 import orthonormalize
from depth_ros.pipeline.epipolar import EpipolarOdometry, grey_image
from depth_ros.pipeline.epipolar_config import EpipolarConfig
from depth_ros.synth import generate_sequence
from depth_ros.synth.writer import decode_depth


pytest.importorskip('cv2')
FRAMES = 10


@pytest.fixture(scope='module')
def drive(tmp_path_factory):
    """A 640x192 synthetic drive in the KITTI layout and as a rosbag2."""
    root = tmp_path_factory.mktemp('epipolar_drive')
    generate_sequence(root, seed=7, frames=FRAMES, sequence='00', progress=False)
    folder = root / 'sequences' / '00'
    kitti_to_bag(folder, root / 'bag', poses=root / 'poses' / '00.txt')
    images = [np.asarray(Image.open(p).convert('RGB'))
              for p in sorted((folder / 'image_2').glob('*.png'))]
    depths = [decode_depth(np.asarray(Image.open(p)))
              for p in sorted((folder / 'depth_2').glob('*.png'))]
    return root, folder, images, depths


class ExactDepth:
    """Depth-only predictor stand-in: the rendered depth of the image it is given."""

    has_pose = False

    def __init__(self, images, depths) -> None:
        self._by_image = {hashlib.sha1(i.tobytes()).hexdigest(): d for i, d in zip(images, depths)}

    def predict(self, rgb: np.ndarray) -> SimpleNamespace:
        depth = self._by_image[hashlib.sha1(rgb.tobytes()).hexdigest()]
        depth = np.where(depth > 0, depth, 1000.0)  # the sky: far
        return SimpleNamespace(depth_m=depth.astype(np.float32),
                               inv_depth_m=(1.0 / depth).astype(np.float32))


@pytest.mark.parametrize('motion_model', ['vehicle', 'free'])
def test_evaluator_scores_the_epipolar_chain(drive, tmp_path, motion_model):
    root, folder, images, depths = drive
    predictor = ExactDepth(images, depths)
    # The default source: epipolar.
    options = EvalOptions(plots=False, result_bag=False, motion_model=motion_model)
    result = evaluate_bag(root / 'bag', predictor, options=options)
    text = format_result(result)  # says what measured the motion, and for what platform
    assert 'odometry: epipolar' in text and 'epipolar odometry ' in text
    assert f'motion_model {motion_model}' in text
    # The same chain computed directly: the evaluator measures what the pipeline does.
    intr = kitti_intrinsics(folder / 'calib.txt', 2, images[0].shape[1], images[0].shape[0])
    odometry = EpipolarOdometry(EpipolarConfig.for_motion(motion_model))
    chain = [np.eye(4)]
    for i, image in enumerate(images):
        step = odometry.step(grey_image(image), predictor.predict(image).depth_m, intr)
        if i:
            chain.append(orthonormalize(chain[-1] @ step.previous_from_current))
    np.testing.assert_allclose(result.world_from_cam, np.stack(chain), atol=1e-9)
    # Exact depth: metric trajectory; the path length within 3 % of the truth.
    truth = result.gt_world_from_cam
    travelled = np.linalg.norm(np.diff(truth[:, :3, 3], axis=0), axis=1).sum()
    measured = np.linalg.norm(np.diff(result.world_from_cam[:, :3, 3], axis=0), axis=1).sum()
    assert measured == pytest.approx(travelled, rel=0.03)
    assert result.trajectory is not None and result.trajectory.ate_5frame.mean < 0.05


class DistortedDepth(ExactDepth):
    """The rendered depth times a smooth error (up to +-25 %) that varies over the image."""

    def predict(self, rgb: np.ndarray) -> SimpleNamespace:
        depth = super().predict(rgb).depth_m
        height, width = depth.shape
        y, x = np.mgrid[0:height, 0:width]
        depth = depth * np.exp(0.25 * np.sin(3 * np.pi * x / width) * np.cos(np.pi * y / height))
        return SimpleNamespace(depth_m=depth.astype(np.float32),
                               inv_depth_m=(1.0 / depth).astype(np.float32))


def test_evaluator_scores_the_refined_depth(drive):
    """With depth_refinement tracks the evaluator scores what the refiner makes of each frame
    (computed here directly, frame after frame), and says it did."""
    from depth_ros.evaluation.depth_metrics import evaluate_depths
    from depth_ros.pipeline.track_depth import TrackRefiner

    root, folder, images, depths = drive
    predictor = DistortedDepth(images, depths)
    options = EvalOptions(plots=False, result_bag=False, depth_refinement='tracks')
    result = evaluate_bag(root / 'bag', predictor, options=options)
    assert 'depth refinement: tracks' in format_result(result)
    intr = kitti_intrinsics(folder / 'calib.txt', 2, images[0].shape[1], images[0].shape[0])
    refiner, refined = TrackRefiner(), []
    for image in images:
        points = refiner.measure(grey_image(image), intr)
        refined.append(1.0 / refiner.refine(predictor.predict(image).depth_m, points))
    expected = evaluate_depths(depths, refined, min_depth=options.min_depth_m,
                               max_depth=options.max_depth_m, garg_crop=options.garg_crop)
    assert result.depth.mean.abs_rel == pytest.approx(expected.mean.abs_rel, rel=1e-6)
    plain = evaluate_bag(root / 'bag', predictor, options=EvalOptions(plots=False,
                                                                      result_bag=False))
    assert result.depth.mean.abs_rel != plain.depth.mean.abs_rel  # frames were refined


def test_posenet_source_without_a_pose_network_has_no_trajectory(drive, posenet):
    root, _, images, depths = drive
    result = evaluate_bag(root / 'bag', ExactDepth(images, depths),
                          options=posenet(plots=False, result_bag=False))
    assert result.world_from_cam is None
    assert 'odometry: posenet' in format_result(result)


@pytest.mark.parametrize('tracking', ['recipe', 'odometry'])
def test_training_sparse_depth_agrees_with_the_rendered_depth(drive, tmp_path, tracking):
    from training.data.geometric_depth import TRACKING, sparse_depth_map, write_sequence

    _, folder, images, depths = drive
    work = tmp_path / 'seq'
    (work / 'image_2').mkdir(parents=True)
    (work / 'calib.txt').write_bytes((folder / 'calib.txt').read_bytes())
    for p in sorted((folder / 'image_2').glob('*.png')):
        (work / 'image_2' / p.name).write_bytes(p.read_bytes())
    counts = write_sequence(work, ExactDepth(images, depths), config=TRACKING[tracking])
    # A corner needs three frames (two triangulations that agree): none for the first pair's
    # first frame, none for the last frame (no next one).
    assert counts['written'] == FRAMES - 2
    errors = []
    for i in range(1, FRAMES - 1):
        sparse = decode_depth(np.asarray(Image.open(work / 'depth_2' / f'{i:06d}.png')))
        known = (sparse > 0) & (depths[i] > 0)
        assert known.sum() > 10
        errors.append(np.abs(sparse[known] - depths[i][known]) / depths[i][known])
    # Median 2.8 % at 640x192 (corners on depth edges and sub-pixel slips make the tail).
    assert np.median(np.concatenate(errors)) < 0.04
    # Two points on one pixel: the nearer wins.
    nearest = sparse_depth_map((4, 4), np.array([[1.0, 2.0], [1.2, 2.1]]), np.array([9.0, 3.0]))
    assert nearest[2, 1] == 3.0 and (nearest > 0).sum() == 1


def test_existing_depth_is_kept_unless_replace_is_given(tmp_path, capsys):
    from training.data.geometric_depth import main

    lidar = tmp_path / 'sequences' / 'a' / 'depth_2'
    lidar.mkdir(parents=True)
    (lidar / '000000.png').write_bytes(b'lidar')
    assert main(['--root', str(tmp_path), '--sequences', 'a']) == 2
    assert 'pass --replace' in capsys.readouterr().err
    assert (lidar / '000000.png').read_bytes() == b'lidar'
