"""Camera-height scale on real KITTI frames with the shipped weights: a factor with a
confidence for most frames, None (never NaN) when a frame shows no usable ground."""
import math

import numpy as np
import pytest

from depth_ros.geometry.intrinsics import kitti_intrinsics
from depth_ros.inference import Predictor, default_weights_path
from depth_ros.inference.image_io import read_image
from depth_ros.inference.scale import KITTI_CAMERA_HEIGHT_M, CameraHeightScale


def test_factor_on_most_real_frames(shared_data):
    if default_weights_path() is None:
        pytest.skip('this build ships no default weights')
    seq = shared_data / 'kitti_odometry' / 'sequences' / '06'
    files = sorted((seq / 'image_0').glob('*.png'))
    assert len(files) >= 20
    predictor = Predictor.from_checkpoint(None)
    first = read_image(files[0])
    intr = kitti_intrinsics(seq / 'calib.txt', 0, first.shape[1], first.shape[0])
    estimator = CameraHeightScale(KITTI_CAMERA_HEIGHT_M)
    own = []
    for path in files:
        estimate = estimator.update(predictor.predict(read_image(path)).depth_m, intr)
        assert 0.0 <= estimate.confidence <= 1.0
        for value in (estimate.factor, estimate.frame_factor):
            assert value is None or (math.isfinite(value) and value > 0)
        own.append(estimate.frame_factor)
    found = [f for f in own if f is not None]
    assert len(found) > len(files) / 2, f'a factor on only {len(found)}/{len(files)} frames'
    # One camera, one scene: the frames' factors agree with each other.
    assert np.std(found) / np.median(found) < 0.25


def _gated(shared_data, folder: str, frames: int):
    """The node's camera-height scale (its defaults) over a real drive's first frames, with
    each frame's LiDAR median scale (ground truth / predicted depth) beside it."""
    from depth_ros.evaluation.kitti_to_bag import load_kitti_sequence
    from depth_ros.pipeline.scale import Mounting, ScaleTracker

    seq = load_kitti_sequence(shared_data / folder)
    predictor = Predictor.from_checkpoint(None)
    first = read_image(seq.image_paths[0])
    intr = kitti_intrinsics(seq.calib_path, seq.camera, first.shape[1], first.shape[0])
    tracker = ScaleTracker('camera_height', 1.0, 30)
    mounting = Mounting.from_pitch(KITTI_CAMERA_HEIGHT_M)
    out = []
    for i in range(frames):
        result = predictor.predict(read_image(seq.image_paths[i]))
        gt = seq.depth_reader(i)
        valid = (gt > 1e-3) & (gt < 80)
        lidar = float(np.median(gt[valid] * result.inv_depth_m[valid]))
        out.append((tracker.update(result.depth_m, intr, mounting), lidar))
    return out


def test_the_node_applies_the_factor_where_the_road_is_seen(shared_data):
    """The dev drive (road in view): trusted from the first few frames on, within 10 % of the
    LiDAR scale."""
    if default_weights_path() is None:
        pytest.skip('this build ships no default weights')
    frames = _gated(shared_data, 'real/dev/kitti_raw_0926_0005/sequences/0926_0005', 12)
    trusted = [(s, lidar) for s, lidar in frames[4:] if s.from_ground and not s.held]
    assert len(trusted) == 8, [round(s.confidence, 2) for s, _ in frames]
    for s, lidar in trusted:
        assert abs(s.factor / lidar - 1) < 0.10


def test_the_node_keeps_scale_in_a_traffic_queue(shared_data):
    """KITTI's stop-and-go drive: the cars ahead hide the road and the ground fit finds them
    (the filter's factor far from the LiDAR scale); its confidence stays under the default
    minimum, so the depth keeps `scale` (1.0, the weights' metres, here close to LiDAR's)."""
    if default_weights_path() is None:
        pytest.skip('this build ships no default weights')
    frames = _gated(shared_data, 'real/train/kitti_raw_0926_sfnd/sequences/0926_sfnd', 12)
    for s, _ in frames:
        assert s.confidence < 0.4 and not s.from_ground and s.factor == 1.0
    wrong = [s.estimate.factor / lidar for s, lidar in frames[4:] if s.estimate.factor]
    assert wrong and min(abs(r - 1) for r in wrong) > 0.2  # what the gate kept out
