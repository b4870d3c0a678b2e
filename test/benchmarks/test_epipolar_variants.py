"""benchmarks/epipolar_variants.py on a synthetic drive: its scores are the metrics' own, a stop
costs the shipped odometry nothing, and bad variants are refused."""
import argparse
import json
from pathlib import Path
import sys
from types import SimpleNamespace

import numpy as np
import pytest


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))

import epipolar_variants as ev  # noqa: E402

from depth_ros.evaluation.baselines import constant_forward_poses  # noqa: E402
from depth_ros.evaluation.trajectory import ate_5frame  # noqa: E402


pytest.importorskip('cv2')


class ExactDepth:
    """The synthetic world's rendered depth for the frame given (no network)."""

    def __init__(self, frames, times: float = 1.0) -> None:
        self.frames, self.times = frames, times

    def prepare(self, rgb):
        return rgb

    def predict(self, rgb):
        depth = next(f.depth_m for f in self.frames if f.rgb is rgb)
        return SimpleNamespace(depth_m=np.where(depth > 0, depth * self.times, 1000.0).astype(
            np.float32))


@pytest.fixture(scope='module')
def drive():
    from depth_ros.synth import render_sequence
    width, height = ev.SYNTHETIC_SIZE
    frames = list(render_sequence(seed=7, frames=16, width=width, height=height))
    return ev.synthetic_set(frames, ExactDepth(frames))


def test_scores_are_the_metrics_own_and_a_stop_costs_nothing(drive):
    config = ev.EpipolarConfig()
    gt, poses = ev.chain(drive, config, stops=0)
    scores = ev.score((gt, poses))
    forward = ate_5frame(gt, constant_forward_poses(len(gt))).mean
    assert scores['ate_5frame'] == pytest.approx(ate_5frame(gt, poses).mean)
    assert scores['ate_ratio'] == pytest.approx(scores['ate_5frame'] / forward)
    # Two stops of three repeated frames: the moving frames' chain is the same (the stops'
    # identity steps only re-orthonormalise the chain: rounding).
    np.testing.assert_allclose(ev.chain(drive, config, stops=2)[1], poses, atol=1e-9)
    # Without holding the reference frame over a stop the drive after it starts afresh.
    afresh = ev.replace(config, still_holds_reference=False)
    assert not np.allclose(ev.chain(drive, afresh, stops=2)[1], poses, atol=1e-6)


def test_the_metres_a_variant_measures_in(drive):
    """Weights whose depth is half the truth: in network metres the drive comes out half as
    long; in camera-height metres (the road at the synthetic camera's 1.65 m) as long as it
    is, both as the node now measures and as it did before (steps times the factor)."""
    from depth_ros.synth import render_sequence
    width, height = ev.SYNTHETIC_SIZE
    frames = list(render_sequence(seed=7, frames=16, width=width, height=height))
    half = ev.synthetic_set(frames, ExactDepth(frames, times=0.5))
    assert np.median(half['factor']) == pytest.approx(2.0, rel=0.03)
    expected = {'network': 0.5, 'camera_height': 1.0, 'camera_height_step': 1.0}
    for metres, ratio in expected.items():
        config = ev.EpipolarConfig.for_motion('vehicle', metres == 'camera_height')
        scores = ev.score(ev.chain(half, config, stops=0, metres=metres))
        assert scores['distance_ratio'] == pytest.approx(ratio, rel=0.05), metres
    exact = ev.score(ev.chain(drive, ev.EpipolarConfig(), stops=0))
    assert exact['distance_ratio'] == pytest.approx(1.0, rel=0.05)


def test_sets_are_expanded_and_unknown_ones_refused(capsys):
    assert ev.set_names(['selection', 'seed_9']) == ['odometry_00', 'seed_5', 'seed_6',
                                                     'seed_7', 'seed_8', 'seed_9']
    with pytest.raises(SystemExit):
        ev._parse(['--sets', 'odometry_07', '--variant', 'a={}'])
    assert "unknown sets ['odometry_07']" in capsys.readouterr().err
    assert ev._parse(['--variant', 'a={}']).supersample == 3  # the world's default rays
    with pytest.raises(SystemExit):
        ev._parse(['--variant', 'a={}', '--supersample', '2'])
    assert 'supersample must be an odd number' in capsys.readouterr().err


def test_variants_are_parsed_and_bad_ones_refused():
    assert ev._variant('free={"direction_smoothing": 0}') == ('free', {'direction_smoothing': 0})
    assert ev._variant('shipped') == ('shipped', {})
    assert ev._variant('h={"metres": "camera_height"}') == ('h', {'metres': 'camera_height'})
    for bad in ('={"a": 1}', 'x=[1]', 'x={oops', 'x={"metres": "feet"}'):
        with pytest.raises(argparse.ArgumentTypeError):
            ev._variant(bad)


def test_the_table_lists_every_variant_and_set():
    results = {'command': 'c', 'stops': 1, 'variants': {
        'a': {'overrides': {}, 'metres': 'camera_height', 'geomean_ate_ratio': 0.5,
              'sets': {'s1': {'ate_ratio': 0.5, 'ape_sim3_ratio': 0.25, 'distance_ratio': 1.25},
                       's2': {'ate_ratio': 0.5, 'ape_sim3_ratio': 0.25,
                              'distance_ratio': None}}}}}
    table = ev.format_markdown(results)
    assert ('| a | `{}` | camera_height | 0.500x (0.250; 1.25) | 0.500x (0.250; n/a) | 0.500 |'
            in table and '1 stops' in table)
    assert json.dumps(results)  # JSON-safe as written
