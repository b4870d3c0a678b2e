"""`evaluate_bag` with the camera-height scale on a constructed world of known scale.

A stand-in predictor returns the true depth of a flat road divided by a known factor, and the
true motion with its translation divided by the same factor: the camera-height mode must
recover that factor and give near-zero unscaled errors, where the unscaled figures are off.
"""
from pathlib import Path

import numpy as np
import pytest

from depth_ros.evaluation.kitti_to_bag import kitti_to_bag
from depth_ros.evaluation.replay import EvalOptions, evaluate_bag, format_result
from depth_ros.evaluation.results import _format_camera_height
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.geometry.se3 import invert


INTR = Intrinsics(fx=200.0, fy=200.0, cx=160.0, cy=48.0, width=320, height=96)
HEIGHT_M, FACTOR, STEP_M = 1.4, 4.0, 0.8


def road_depth() -> np.ndarray:
    v = np.arange(INTR.height, dtype=np.float64)[:, None].repeat(INTR.width, 1)
    with np.errstate(divide='ignore'):
        return np.where(v > INTR.cy + 2, HEIGHT_M * INTR.fy / (v - INTR.cy), 0.0)


class ScaledTruth:
    """Predictor stand-in: true road depth / FACTOR, true forward motion / FACTOR."""

    has_pose = True

    def prepare(self, rgb):
        return rgb

    def predict(self, image):
        from depth_ros.inference.predictor import DepthResult
        depth = road_depth()
        depth = np.where(depth > 0, depth, 200.0) / FACTOR
        return DepthResult(depth.astype(np.float32), (1 / depth).astype(np.float32))

    def relative_pose(self, previous, current):
        prev_from_cur = np.eye(4)
        prev_from_cur[2, 3] = STEP_M / FACTOR
        return prev_from_cur


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    """An 8-frame KITTI-layout sequence driving straight at STEP_M per frame, as a bag."""
    from PIL import Image
    n, seq = 8, tmp_path / 'kitti' / 'sequences' / '00'
    for sub in ('image_2', 'depth_2'):
        (seq / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (INTR.height, INTR.width, 3), np.uint8)).save(
            seq / 'image_2' / f'{i:06d}.png')
        Image.fromarray((road_depth() * 256).round().astype(np.uint16)).save(
            seq / 'depth_2' / f'{i:06d}.png')
    p = f'{INTR.fx} 0 {INTR.cx} 0 0 {INTR.fy} {INTR.cy} 0 0 0 1 0'
    (seq / 'calib.txt').write_text(''.join(f'P{c}: {p}\n' for c in range(4)))
    (seq / 'times.txt').write_text(''.join(f'{0.1 * i:.6e}\n' for i in range(n)))
    poses = tmp_path / 'kitti' / 'poses'
    poses.mkdir()
    (poses / '00.txt').write_text(''.join(
        f'1 0 0 0 0 1 0 0 0 0 1 {STEP_M * i}\n' for i in range(n)))
    out = tmp_path / 'road_bag'
    kitti_to_bag(seq, out)
    return out


def test_camera_height_mode_recovers_the_scale(bag, tmp_path, posenet):
    options = posenet(camera_height_m=HEIGHT_M, plots=False, result_bag=False)
    result = evaluate_bag(bag, ScaledTruth(), tmp_path / 'out', options=options)
    report = result.camera_height
    # The first frame's confidence (0.2, below) is under scale_min_confidence 0.4: not applied.
    assert report['frames_with_factor'] == result.frames - 1
    assert (report['frames_untrusted'], report['frames_held']) == (1, 0)
    assert report['median_factor'] == pytest.approx(FACTOR, rel=1e-3)
    assert report['median_factor_over_gt_ratio'] == pytest.approx(1.0, rel=1e-3)
    # A flat road every frame: full support and agreement, so the confidence is the filter's
    # frame count k / 5 (at most 1): 0.2 on the first frame, median of 0.2 ... 0.8, 1, 1, 1, 1.
    assert report['min_confidence'] == pytest.approx(0.2, abs=0.01)
    assert report['median_confidence'] == pytest.approx(0.9, abs=0.02)
    assert report['median_plane_tilt_deg'] == pytest.approx(0.0, abs=0.05)  # a level road
    text = format_result(result)
    assert 'confidence median 0.9' in text and 'unsure' not in text and 'tilted' not in text
    assert 'last trusted factor kept on 0, scale (no trusted factor yet) on 1' in text
    assert report['depth']['abs_rel'] < 1e-3 < result.depth_unscaled.mean.abs_rel
    ape = report['trajectory']['ape']['se3']
    assert ape['rmse'] < 1e-3
    # The evaluated trajectory is the pipeline's, as the node publishes it with
    # scale_source camera_height: metric, not in the weights' units (issue 13).
    assert invert(result.world_from_cam[-1])[2, 3] == pytest.approx(
        -STEP_M * (result.frames - 1), rel=1e-3)
    assert report['trajectory'] == result.trajectory.to_dict()


def test_without_the_gate_every_frame_has_a_factor(bag, tmp_path, posenet):
    options = posenet(camera_height_m=HEIGHT_M, scale_min_confidence=0.0, plots=False,
                      result_bag=False)
    report = evaluate_bag(bag, ScaledTruth(), tmp_path / 'out', options=options).camera_height
    assert report['frames_with_factor'] == report['frames']
    assert (report['frames_untrusted'], report['frames_held']) == (0, 0)


def test_a_camera_pitched_more_than_it_is_said_to_be_is_reported(bag, tmp_path, posenet):
    # The road is level, the mounting says the camera looks 10 degrees down: every fitted
    # plane is 10 degrees from the up direction expected, weighs (13 - 10) / 6 = 0.5 and the
    # confidence of 8 agreeing frames is at most 0.5.
    options = posenet(camera_height_m=HEIGHT_M, camera_pitch_deg=10.0, plots=False,
                      result_bag=False)
    result = evaluate_bag(bag, ScaledTruth(), tmp_path / 'out', options=options)
    report = result.camera_height
    assert report['median_plane_tilt_deg'] == pytest.approx(10.0, abs=0.05)
    assert report['min_confidence'] == pytest.approx(0.1, abs=0.01)  # 0.5 x 1 / 5
    assert report['median_confidence'] <= 0.5 + 1e-6
    assert 'the fitted ground is tilted 10.0 degrees' in format_result(result)


def test_an_unsure_camera_height_scale_is_said_to_be_so():
    report = {'camera_height_m': 1.65, 'frames_with_factor': 78, 'frames': 78,
              'median_factor': 1.47, 'median_confidence': 0.24, 'min_confidence': 0.16,
              'depth': None, 'trajectory': None}
    lines = _format_camera_height(report)
    assert lines[2] == '  median factor 1.470 (confidence median 0.24, min 0.16)'
    assert lines[3].startswith('  confidence under 0.4: the ground fit is unsure')
    # Gated (the node's default): no factor confident enough on any frame.
    report.update(frames_with_factor=0, median_factor=None, frames_untrusted=78)
    lines = _format_camera_height(report)
    assert lines[2] == ('  confidence under the minimum on 78 frames: the last trusted factor '
                        'kept on 0, scale (no trusted factor yet) on 78')
    assert lines[3] == ('  no ground-plane factor confident enough (confidence median 0.24, '
                        'min 0.16): the depth kept scale (the unscaled row above)')


def test_camera_height_mode_needs_camera_info(bag, tmp_path):
    from depth_ros.errors import InputError
    options = EvalOptions(camera_height_m=HEIGHT_M, camera_info_topic='/nope', plots=False,
                          result_bag=False)
    with pytest.raises(InputError, match='camera intrinsics'):
        evaluate_bag(bag, ScaledTruth(), tmp_path / 'out', options=options)
