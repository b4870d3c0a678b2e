"""The frame pipeline's epipolar odometry: beside the depth network, with depth-only weights,
in camera-height metres, through the scale gate, without OpenCV."""
import sys

from exact_depth import SECOND, ExactDepth, epipolar_steps, with_depth
import numpy as np
import pytest

from depth_ros.errors import ConfigError, InputError
from depth_ros.geometry.se3 import invert
from depth_ros.pipeline import FramePipeline, PipelineConfig
from depth_ros.pipeline.epipolar import EpipolarOdometry, grey_image
from depth_ros.pipeline.epipolar_config import EpipolarConfig
from depth_ros.pipeline.scale import Mounting
from depth_ros.synth import DEFAULT_CAMERA_HEIGHT_M


pytest.importorskip('cv2')


def test_pipeline_chains_epipolar_motion_with_depth_only_weights(synthetic):
    frames, intr = synthetic
    posenet = FramePipeline(ExactDepth(frames), PipelineConfig(odometry_source='posenet'))
    epipolar = FramePipeline(ExactDepth(frames))  # the default source
    for i, frame in enumerate(frames):
        without = posenet.process(frame.rgb, intr, i * SECOND // 10)
        result = epipolar.process(frame.rgb, intr, i * SECOND // 10)
    assert without.odometry is None  # depth-only weights: nothing measures motion
    truth = invert(frames[0].world_from_cam) @ frames[-1].world_from_cam
    chained = result.odometry.cam0_from_cam
    travelled = np.linalg.norm(truth[:3, 3])
    assert np.linalg.norm(chained[:3, 3] - truth[:3, 3]) < 0.02 * travelled


@pytest.mark.parametrize('motion_model', ['vehicle', 'free'])
def test_the_pipeline_measures_beside_the_depth_network_with_the_same_motions(synthetic,
                                                                                motion_model):
    """The pipeline runs `measure` on its own thread while the depth network works, then gives
    it the depth: every pair's motion equals `step` called one frame after the other, with the
    settings of its motion model."""
    frames, intr = synthetic
    pipeline = FramePipeline(ExactDepth(frames), PipelineConfig(odometry_source='epipolar',
                                                                motion_model=motion_model))
    motions = [pipeline.process(f.rgb, intr, i * SECOND // 10).odometry.previous_from_current
               for i, f in enumerate(frames)]
    expected = [s.previous_from_current for s in
                epipolar_steps(frames, intr, config=EpipolarConfig.for_motion(motion_model))]
    assert motions[0] is None and expected[0] is None
    for got, want in zip(motions[1:], expected[1:]):
        np.testing.assert_array_equal(got, want)
    other = 'free' if motion_model == 'vehicle' else 'vehicle'
    others = epipolar_steps(frames, intr, config=EpipolarConfig.for_motion(other))
    assert not np.array_equal(motions[-1], others[-1].previous_from_current)


@pytest.mark.parametrize('scale_source', ['camera_height', 'none'])
def test_with_a_ground_scale_the_odometry_measures_in_camera_height_metres(synthetic,
                                                                          scale_source):
    """Weights whose depth is half the truth: with scale_source camera_height the odometry
    is given the depth times each frame's camera-height factor, measures from corners 5-15 m
    away and publishes true metres; with none, the weights' (half the truth). Every factor is
    applied from the first frame on (scale_min_confidence 0; the gate:
    test_scale_min_confidence.py)."""
    frames, intr = synthetic
    halves = [with_depth(f, f.depth_m / np.float32(2)) for f in frames]
    pipeline = FramePipeline(ExactDepth(halves), PipelineConfig(
        scale_source=scale_source, mounting=Mounting.from_pitch(DEFAULT_CAMERA_HEIGHT_M),
        scale_min_confidence=0.0))
    results = [pipeline.process(f.rgb, intr, i * SECOND // 10) for i, f in enumerate(halves)]
    ground = scale_source == 'camera_height'
    if ground:
        assert all(r.scale.from_ground for r in results)
        assert results[-1].scale.factor == pytest.approx(2.0, rel=0.02)
    config = EpipolarConfig.for_motion('vehicle', ground_scale=ground)
    assert config.measure_band_m == ((5.0, 15.0) if ground else None)
    odometry = EpipolarOdometry(config)
    for i, (frame, result) in enumerate(zip(halves, results)):
        step = odometry.step(grey_image(frame.rgb), frame.depth_m * np.float32(
            result.scale.factor), intr)
        if i:
            np.testing.assert_array_equal(result.odometry.previous_from_current,
                                          step.previous_from_current)
    truth = invert(frames[0].world_from_cam) @ frames[-1].world_from_cam
    travelled = np.linalg.norm(results[-1].odometry.cam0_from_cam[:3, 3])
    assert travelled == pytest.approx(np.linalg.norm(truth[:3, 3]) * (1.0 if ground else 0.5),
                                      rel=0.03)


def test_the_odometry_follows_when_the_gate_first_trusts_a_factor(synthetic):
    """The node's default gate: the first frames' factor (confidence under 0.4) is not applied,
    so the odometry first gets the depth in `scale`'s metres (here half the truth): those
    steps are half as long, as published. From the frame whose factor is trusted on, the
    distance filter is rescaled (`follow_scale`) and the steps are true; without the rescale
    its relative scale keeps the earlier metres and they stay short."""
    frames, intr = synthetic
    halves = [with_depth(f, f.depth_m / np.float32(2)) for f in frames]
    pipeline = FramePipeline(ExactDepth(halves), PipelineConfig(
        scale_source='camera_height', mounting=Mounting.from_pitch(DEFAULT_CAMERA_HEIGHT_M)))
    results = [pipeline.process(f.rgb, intr, i * SECOND // 10) for i, f in enumerate(halves)]
    trusted = [r.scale.from_ground for r in results]
    first = trusted.index(True)  # the filter's confidence grows with its frames (count / 5)
    assert 1 <= first <= 3 and all(trusted[first:])
    assert all(r.scale.factor == 1.0 for r in results[:first])

    def ratios(steps):  # step length / true step length, pairs (k - 1, k)
        return [np.linalg.norm(step[:3, 3]) / np.linalg.norm(
            (invert(frames[k - 1].world_from_cam) @ frames[k].world_from_cam)[:3, 3])
            for k, step in enumerate(steps) if k]

    published = ratios([r.odometry.previous_from_current for r in results])
    # Pair (k - 1, k) is measured with frame k - 1's depth: in `scale`'s metres up to `first`.
    np.testing.assert_allclose(published[:first], 0.5, rtol=0.05)
    np.testing.assert_allclose(published[first:], 1.0, rtol=0.05)
    odometry = EpipolarOdometry(EpipolarConfig.for_motion('vehicle', True))
    unfollowed = ratios([odometry.step(grey_image(f.rgb), f.depth_m * np.float32(
        r.scale.factor), intr).previous_from_current for f, r in zip(halves, results)])
    np.testing.assert_allclose(unfollowed[:first], published[:first], rtol=1e-6)
    assert max(unfollowed[first:]) < 0.9  # the same depths, no rescale: still short


def test_a_frame_without_its_depth_is_no_previous_frame(synthetic):
    """`measure` without `remember_depth` (the depth network failed on that frame): the next
    pair is not measured, rather than measured with an older frame's depth."""
    frames, intr = synthetic
    odometry = EpipolarOdometry()
    odometry.step(grey_image(frames[0].rgb), frames[0].depth_m, intr)
    assert odometry.measure(grey_image(frames[1].rgb), intr).status == 'motion'
    assert odometry.measure(grey_image(frames[2].rgb), intr).status == 'first'
    odometry.remember_depth(frames[2].depth_m)
    assert odometry.measure(grey_image(frames[3].rgb), intr).status == 'motion'
    with pytest.raises(InputError, match='last measured frame'):
        odometry.remember_depth(frames[3].depth_m[:10])


def test_without_opencv_the_epipolar_source_is_a_configuration_error(synthetic, monkeypatch):
    monkeypatch.setitem(sys.modules, 'cv2', None)  # `import cv2` raises ImportError
    frames, _ = synthetic
    with pytest.raises(ConfigError, match='opencv-python-headless'):
        FramePipeline(ExactDepth(frames))  # the default source
    # The pose-network source needs none.
    FramePipeline(ExactDepth(frames), PipelineConfig(odometry_source='posenet'))


@pytest.mark.parametrize('bad', [0.0, -1.0, float('nan'), float('inf')])
def test_a_rescale_needs_a_positive_ratio(bad):
    with pytest.raises(InputError, match='positive ratio'):
        EpipolarOdometry().rescale(bad)
