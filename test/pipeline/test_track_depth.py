"""Depth refined by long-baseline corners (`pipeline.track_depth`) against the synthetic world's
exact depth: the triangulated corners' relative depth, a depth with a smooth error brought back
towards the truth, a still camera left alone, the correction's limit, and the frame pipeline's
wiring."""
from types import SimpleNamespace

from exact_depth import ExactDepth
import numpy as np
import pytest

from depth_ros.errors import ConfigError
from depth_ros.pipeline import FramePipeline, PipelineConfig
from depth_ros.pipeline.epipolar import grey_image
from depth_ros.pipeline.track_depth import TrackConfig, TrackPoints, TrackRefiner
from depth_ros.synth import render_sequence, synth_intrinsics


pytest.importorskip('cv2')
SECOND = 1_000_000_000


@pytest.fixture(scope='module')
def synthetic():
    """24 frames of the synthetic street (640x192): images, exact depth, true poses (the car
    starts slowly: the first frames have no reference frame far enough back)."""
    return list(render_sequence(2026, 24, 640, 192)), synth_intrinsics(640, 192)


def _distorted(depth: np.ndarray) -> np.ndarray:
    """The truth times a smooth error of up to +-25 % that varies over the image, as a
    network's error does (the sky, depth 0 in the synthetic world, at 80 m)."""
    height, width = depth.shape
    y, x = np.mgrid[0:height, 0:width]
    error = 0.25 * np.sin(3 * np.pi * x / width) * np.cos(np.pi * y / height)
    sky = ~(np.isfinite(depth) & (depth > 0))
    return (np.where(sky, 80.0, depth) * np.exp(error)).astype(np.float32)


def _abs_rel(depth: np.ndarray, truth: np.ndarray) -> float:
    """Median-scaled abs_rel over the pixels with a finite depth within 80 m."""
    valid = np.isfinite(truth) & (truth > 0) & (truth < 80)
    pred = depth[valid] * np.median(truth[valid]) / np.median(depth[valid])
    return float(np.mean(np.abs(pred - truth[valid]) / truth[valid]))


def _measured(frames, intr):
    refiner = TrackRefiner()
    return refiner, [refiner.measure(grey_image(f.rgb), intr) for f in frames]


def test_the_first_frame_has_no_points_and_later_frames_reach_back(synthetic):
    frames, intr = synthetic
    _, points = _measured(frames, intr)
    assert points[0].status == 'first' and not len(points[0].depth)
    assert points[-1].status == 'points' and points[-1].frames_back >= 1
    assert len(points[-1].depth) >= 100


def test_triangulated_corners_have_the_true_relative_depth(synthetic):
    """Up to one scale, the corners' depth is far closer to the truth than the distorted
    depth's (a corner on an object's edge may read the surface behind it: medians)."""
    frames, intr = synthetic
    _, points = _measured(frames, intr)
    last, truth = points[-1], frames[-1].depth_m
    cols = np.clip(np.round(last.pixels[:, 0]).astype(int), 0, truth.shape[1] - 1)
    rows = np.clip(np.round(last.pixels[:, 1]).astype(int), 0, truth.shape[0] - 1)
    seen = truth[rows, cols] > 0  # not the sky
    true = truth[rows, cols][seen]

    def spread(depth: np.ndarray) -> float:
        log_error = np.log(depth) - np.log(true)
        return float(np.median(np.abs(log_error - np.median(log_error))))

    assert spread(last.depth[seen]) < 0.08
    network = _distorted(truth)[rows, cols][seen]
    log_error = np.log(network) - np.log(true)
    assert spread(last.depth[seen]) < 0.5 * np.median(np.abs(log_error - np.median(log_error)))


def test_a_depth_with_a_smooth_error_is_brought_back_towards_the_truth(synthetic):
    frames, intr = synthetic
    refiner, points = _measured(frames, intr)
    before, after = [], []
    for frame, found in zip(frames[-6:], points[-6:]):
        distorted = _distorted(frame.depth_m)
        before.append(_abs_rel(distorted, frame.depth_m))
        after.append(_abs_rel(refiner.refine(distorted, found), frame.depth_m))
    assert np.mean(after) < 0.85 * np.mean(before), (before, after)


def test_a_still_camera_leaves_the_depth_as_it_is(synthetic):
    frames, intr = synthetic
    refiner = TrackRefiner()
    grey = grey_image(frames[0].rgb)
    found = [refiner.measure(grey, intr) for _ in range(4)]
    assert [f.status for f in found] == ['first', 'still', 'still', 'still']
    assert TrackPoints.describe(found[-1]) == 'tracks: still (no earlier frame far enough)'
    depth = frames[0].depth_m.astype(np.float32)
    assert refiner.refine(depth, found[-1]) is depth


def test_a_new_image_size_starts_the_tracks_again(synthetic):
    frames, intr = synthetic
    refiner = TrackRefiner()
    for frame in frames[:12]:
        refiner.measure(grey_image(frame.rgb), intr)
    half = grey_image(frames[12].rgb)[::2, ::2].copy()
    assert refiner.measure(half, intr).status == 'first'


def test_the_correction_is_limited_and_has_no_effect_without_enough_points():
    config = TrackConfig(max_log_correction=0.2, prior=0.0)
    refiner = TrackRefiner(config)
    depth = np.full((60, 200), 10.0, np.float32)
    rng = np.random.default_rng(0)
    pixels = np.c_[rng.uniform(0, 100, 200), rng.uniform(0, 60, 200)].astype(np.float32)
    pixels = np.r_[pixels, pixels + [100.0, 0.0]].astype(np.float32)
    # Left half 100x farther than the right half, relative to the network: both clipped.
    tracks = TrackPoints(pixels, (60, 200), np.r_[np.full(200, 1000.0), np.full(200, 10.0)],
                         3, 'points')
    log_change = np.log(refiner.refine(depth, tracks) / depth)
    assert log_change.max() == pytest.approx(0.2) and log_change.min() == pytest.approx(-0.2)
    assert log_change[:, :60].min() > 0 > log_change[:, 140:].max()
    few = TrackPoints(pixels[:5], (60, 200), np.full(5, 1000.0), 3, 'points')
    assert refiner.refine(depth, few) is depth


def test_a_tracking_grid_maps_its_points_to_the_depth_resolution():
    """Points found on a half-size grid correct the full-size depth in the same places."""
    refiner = TrackRefiner(TrackConfig(prior=0.0, sigma=0.02))
    depth = np.full((120, 400), 10.0, np.float32)
    pixels = np.array([[x, y] for x in range(5, 100, 4) for y in range(5, 55, 4)], np.float32)
    far = np.where(pixels[:, 0] < 50, 20.0, 10.0)  # the grid's left quarter twice as far
    tracks = TrackPoints(pixels, (60, 200), far, 2, 'points')
    change = refiner.correction(depth, tracks)
    assert change[:, 40].mean() > 0.2 > 0.0 > change[:, 180].mean() > -0.5


@pytest.mark.parametrize('values', [{'min_flow': 0.0}, {'sigma': -1.0}, {'max_frames': 0},
                                    {'min_points': 3}, {'prior': -1.0}])
def test_bad_settings_are_refused(values):
    with pytest.raises(ConfigError):
        TrackConfig(**values)


def test_the_pipeline_refuses_an_unknown_refinement():
    with pytest.raises(ConfigError, match='depth_refinement'):
        PipelineConfig(depth_refinement='lidar')


class DistortedDepth(ExactDepth):
    """Depth-only predictor stand-in: the synthetic world's depth with a smooth error."""

    def predict(self, rgb: np.ndarray) -> SimpleNamespace:
        depth = _distorted(super().predict(rgb).depth_m)
        return SimpleNamespace(depth_m=depth, inv_depth_m=1.0 / depth)


def test_the_pipeline_publishes_and_scores_the_refined_depth(synthetic):
    """With depth_refinement tracks the published depth and the evaluated inverse depth are the
    refiner's (both on the thread beside the network), and closer to the truth than without."""
    frames, intr = synthetic
    plain = FramePipeline(DistortedDepth(frames))
    refined = FramePipeline(DistortedDepth(frames), PipelineConfig(depth_refinement='tracks'))
    refiner = TrackRefiner()
    for i, frame in enumerate(frames):
        stamp = i * SECOND // 10
        before, after = plain.process(frame.rgb, intr, stamp), refined.process(frame.rgb, intr,
                                                                                stamp)
        points = refiner.measure(grey_image(frame.rgb), intr)
        expected = refiner.refine(_distorted(frame.depth_m), points)
    np.testing.assert_allclose(after.depth_m, expected, rtol=1e-6)
    assert before.depth_refinement == 'off'
    assert after.depth_refinement == (f'tracks: {len(points.depth)} points, '
                                      f'{points.frames_back} frames back')
    np.testing.assert_allclose(after.unscaled_inv_depth_m, 1.0 / expected, rtol=1e-6)
    truth = frames[-1].depth_m
    assert _abs_rel(after.depth_m, truth) < 0.9 * _abs_rel(before.depth_m, truth)
