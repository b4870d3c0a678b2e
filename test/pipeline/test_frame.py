"""FramePipeline on constructed predictors: scale, downsampling, chaining, resets, drops."""
from types import SimpleNamespace

import numpy as np
import pytest

from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.pipeline import (
    DroppedFrame,
    Event,
    FramePipeline,
    FrameResult,
    Mounting,
    PipelineConfig,
)


SECOND = 1_000_000_000
INTR = Intrinsics(fx=200.0, fy=200.0, cx=160.0, cy=48.0, width=320, height=96)
HEIGHT_M, FACTOR, STEP_M = 1.4, 4.0, 0.8


def posenet(**settings) -> PipelineConfig:
    """Settings with the pose-network source (these stand-ins are a pose network's answers)."""
    return PipelineConfig(odometry_source='posenet', **settings)


def road_depth() -> np.ndarray:
    """True depth of a flat road HEIGHT_M below a level camera; 200 m above the horizon."""
    v = np.arange(INTR.height, dtype=np.float64)[:, None].repeat(INTR.width, 1)
    with np.errstate(divide='ignore'):
        depth = np.where(v > INTR.cy + 2, HEIGHT_M * INTR.fy / (v - INTR.cy), 200.0)
    return depth.astype(np.float32)


class ScaledTruth:
    """Predictor stand-in: the true road depth / FACTOR, forward motion STEP_M / FACTOR."""

    has_pose = True

    def __init__(self) -> None:
        self.pairs: list[tuple[int, int]] = []

    def prepare(self, rgb: np.ndarray) -> int:
        return int(rgb[0, 0, 0])

    def predict(self, index: int) -> SimpleNamespace:
        depth = road_depth() / np.float32(FACTOR)
        return SimpleNamespace(depth_m=depth, inv_depth_m=1 / depth)

    def relative_pose(self, previous: int, current: int) -> np.ndarray:
        self.pairs.append((previous, current))
        pose = np.eye(4)
        pose[2, 3] = STEP_M / FACTOR
        return pose


def image(index: int) -> np.ndarray:
    """A textured frame of its own (the motion gate sees every two as different views)."""
    rgb = np.random.default_rng(index).integers(0, 256, (INTR.height, INTR.width, 3), np.uint8)
    rgb[0, 0, 0] = index
    return rgb


def run(pipeline: FramePipeline, stamps_ns: list[int]) -> list[FrameResult]:
    return [pipeline.process(image(i), INTR, stamp) for i, stamp in enumerate(stamps_ns)]


def test_fixed_scale_multiplies_depth_and_motion():
    pipeline = FramePipeline(ScaledTruth(), posenet(scale_source='fixed',
                                                           scale=FACTOR))
    results = run(pipeline, [i * SECOND // 10 for i in range(4)])
    np.testing.assert_allclose(results[0].depth_m, road_depth(), rtol=1e-6)
    np.testing.assert_allclose(results[-1].unscaled_inv_depth_m, FACTOR / road_depth(), rtol=1e-6)
    np.testing.assert_allclose(results[-1].odometry.cam0_from_cam[:3, 3], [0, 0, 3 * STEP_M])
    np.testing.assert_allclose(results[-1].odometry.linear_velocity, [0, 0, STEP_M * 10])
    assert [r.event for r in results] == [Event.START] + [Event.MOTION] * 3
    assert results[-1].scale.factor == FACTOR and not results[-1].scale.from_ground


def test_camera_height_scale_recovers_the_factor():
    config = posenet(scale_source='camera_height', mounting=Mounting.from_pitch(HEIGHT_M))
    results = run(FramePipeline(ScaledTruth(), config), [i * SECOND // 10 for i in range(3)])
    assert results[-1].scale.from_ground
    assert results[-1].scale.factor == pytest.approx(FACTOR, rel=1e-3)
    np.testing.assert_allclose(results[-1].depth_m, road_depth(), rtol=1e-3)
    assert results[-1].odometry.cam0_from_cam[2, 3] == pytest.approx(2 * STEP_M, rel=1e-3)


def test_downsampling_strides_depth_colours_and_intrinsics():
    pipeline = FramePipeline(ScaledTruth(), posenet(depth_downsample=4))
    result = pipeline.process(image(7), INTR, 0)
    assert result.depth_m.shape == (24, 80) and result.rgb.shape == (24, 80, 3)
    assert result.rgb[0, 0, 0] == 7
    assert (result.intrinsics.fx, result.intrinsics.cx) == (50.0, 40.0)
    np.testing.assert_allclose(result.depth_m, road_depth()[::4, ::4] / FACTOR, rtol=1e-6)


def test_pairs_previous_with_current_and_resets_on_backwards_and_gaps():
    predictor = ScaledTruth()
    pipeline = FramePipeline(predictor, posenet(max_pose_gap_s=1.0))
    stamps = [10 * SECOND, 10 * SECOND + SECOND // 10, 5 * SECOND, 5 * SECOND + SECOND // 10,
              9 * SECOND]
    results = run(pipeline, stamps)
    assert [r.event for r in results] == [Event.START, Event.MOTION, Event.BACKWARDS,
                                          Event.MOTION, Event.GAP]
    assert predictor.pairs == [(0, 1), (2, 3)]
    np.testing.assert_allclose(results[2].odometry.cam0_from_cam, np.eye(4))
    assert not np.allclose(results[3].odometry.cam0_from_cam, np.eye(4))
    np.testing.assert_allclose(results[4].odometry.cam0_from_cam, np.eye(4))


def test_intrinsics_of_another_size_are_scaled_with_a_note():
    pipeline = FramePipeline(ScaledTruth(), posenet())
    half = Intrinsics(100.0, 100.0, 80.0, 24.0, 160, 48)
    result = pipeline.process(image(0), half, 0)
    assert result.intrinsics == INTR and 'scaling the intrinsics' in result.notes[0]


@pytest.mark.parametrize('bad', [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32),
                                 np.zeros((0, 4, 3), np.uint8)])
def test_malformed_images_are_dropped_with_the_reason(bad):
    pipeline = FramePipeline(ScaledTruth(), posenet())
    dropped = pipeline.process(bad, INTR, 5)
    assert isinstance(dropped, DroppedFrame) and dropped.cause == 'invalid_input'
    assert 'uint8 RGB image' in dropped.reason and dropped.stamp_ns == 5


def test_without_a_pose_network_there_is_no_odometry():
    predictor = ScaledTruth()
    predictor.has_pose = False
    results = run(FramePipeline(predictor, posenet()), [0, SECOND // 10])
    assert all(r.odometry is None for r in results) and predictor.pairs == []
    assert {r.odometry_status for r in results} == {'none (no pose network)'}


def test_the_motion_gate_gives_a_repeated_view_no_motion():
    predictor = ScaledTruth()
    pipeline = FramePipeline(predictor, posenet(scale_source='fixed', scale=FACTOR))
    frames = [image(1), image(1), image(2)]
    results = [pipeline.process(f, INTR, k * SECOND // 10) for k, f in enumerate(frames)]
    assert [r.static for r in results] == [None, True, False]
    assert {r.odometry_status for r in results} == {'posenet'}
    np.testing.assert_array_equal(results[1].odometry.previous_from_current, np.eye(4))
    assert results[2].odometry.previous_from_current[2, 3] == pytest.approx(STEP_M)
    assert predictor.pairs == [(1, 2)]  # the pose network ran for the moving pair only
    off = FramePipeline(ScaledTruth(), posenet(scale_source='fixed', scale=FACTOR,
                                                      motion_gate_threshold=0.0))
    still = [off.process(f, INTR, k * SECOND // 10) for k, f in enumerate(frames[:2])]
    assert still[1].static is None
    assert still[1].odometry.previous_from_current[2, 3] == pytest.approx(STEP_M)


def test_the_chain_reports_time_jumps_without_a_pose_network():
    class DepthOnly(ScaledTruth):
        has_pose = False

    pipeline = FramePipeline(DepthOnly(), posenet(max_pose_gap_s=1.0))
    results = run(pipeline, [0, SECOND // 2, 3 * SECOND, 2 * SECOND])
    assert all(r.odometry is None for r in results)
    assert [r.chain.event for r in results] == [Event.START, Event.MOTION, Event.GAP,
                                                Event.BACKWARDS]
    assert [r.chain.dt_s for r in results] == pytest.approx([0.0, 0.5, 2.5, -1.0])
