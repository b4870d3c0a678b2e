"""evaluate applies the node's motion gate: a repeated view gets no motion, as the node
publishes it; with the gate off the pose network's motion is chained."""
from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from depth_ros.evaluation.kitti_to_bag import kitti_to_bag
from depth_ros.evaluation.replay import evaluate_bag


class AlwaysForward:
    """Predictor stand-in that reports 1 m forward between any two frames."""

    has_pose = True

    def prepare(self, rgb):
        return rgb

    def predict(self, rgb):
        from depth_ros.inference.predictor import DepthResult
        depth = np.full(rgb.shape[:2], 5.0, np.float32)
        return DepthResult(depth, 1 / depth)

    def relative_pose(self, previous, current):
        pose = np.eye(4)
        pose[2, 3] = 1.0
        return pose


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    """Five frames; frame 3 repeats frame 2's view exactly (the camera stood still)."""
    seq = tmp_path / 'sequences' / '00'
    (seq / 'image_2').mkdir(parents=True)
    views = [0, 1, 2, 2, 3]
    for i, view in enumerate(views):
        rgb = np.random.default_rng(view).integers(0, 255, (48, 160, 3), np.uint8)
        Image.fromarray(rgb).save(seq / 'image_2' / f'{i:06d}.png')
    (seq / 'calib.txt').write_text(''.join(f'P{c}: 100 0 80 0 0 100 24 0 0 0 1 0\n'
                                           for c in range(4)))
    kitti_to_bag(seq, tmp_path / 'bag')
    return tmp_path / 'bag'


@pytest.mark.parametrize('threshold, expected_m', [(0.45, [0, 1, 2, 2, 3]),
                                                   (0.0, [0, 1, 2, 3, 4])])
def test_repeated_view_gets_no_motion(bag, threshold, expected_m, posenet):
    result = evaluate_bag(bag, AlwaysForward(), options=posenet(
        motion_gate_threshold=threshold))
    np.testing.assert_allclose(result.world_from_cam[:, 2, 3], expected_m, atol=1e-12)
