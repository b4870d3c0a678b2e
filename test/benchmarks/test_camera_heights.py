"""benchmarks/camera_heights.py with exact depth from a low camera: the depth is metric, the
camera-height factor at the true height is 1, and both odometry metres give the true distance
(so what the benchmark shows for a network is the network's, not the benchmark's)."""
from pathlib import Path
import sys
from types import SimpleNamespace

import numpy as np
import pytest


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))

import camera_heights as ch  # noqa: E402


class ExactDepth:
    def __init__(self, frames) -> None:
        self.frames = frames

    def prepare(self, rgb):
        return rgb

    def predict(self, rgb):
        depth = next(f.depth_m for f in self.frames if f.rgb is rgb)
        return SimpleNamespace(depth_m=np.where(depth > 0, depth, 1000.0).astype(np.float32))


def test_exact_depth_from_a_low_camera_is_metric_in_every_column():
    pytest.importorskip('cv2')
    rendered = ch.render(seed=5, height_m=0.6, frames=12)
    r = ch.measure(rendered, ExactDepth(rendered), 0.6)
    assert r['true_over_predicted'] == pytest.approx(1.0, abs=1e-6)
    assert r['road_true_over_predicted'] == pytest.approx(1.0, abs=1e-6)
    assert r['camera_height_factor'] == pytest.approx(1.0, rel=0.03)  # not 1.65 / 0.6
    assert r['abs_rel_unscaled'] == pytest.approx(0.0, abs=1e-6)
    assert r['abs_rel_camera_height'] < 0.03
    assert r['distance_network_metres'] == pytest.approx(1.0, rel=0.05)
    assert r['distance_camera_height_metres'] == pytest.approx(1.0, rel=0.05)
    table = ch.format_markdown({'command': 'c', 'runs': [{'height_m': 0.6, 'seed': 5, **r}]})
    assert '| 0.6 | 5 | 1.00 | 1.00 |' in table
