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
