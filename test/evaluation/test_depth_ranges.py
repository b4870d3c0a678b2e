"""Depth error by range: constructed maps with known answers, and the parts of abs_rel
against the Eigen protocol's own abs_rel."""
import numpy as np
import pytest

from depth_ros.errors import InputError
from depth_ros.evaluation.baselines import ProtocolScores
from depth_ros.evaluation.depth_metrics import evaluate_depth_image
from depth_ros.evaluation.depth_ranges import RANGE_EDGES_M, RangeErrors


def _ramp_depth(height: int = 40, width: int = 61) -> np.ndarray:
    """Ground truth from 1 to 79 m, one value per column, every row the same."""
    return np.tile(np.linspace(1.0, 79.0, width), (height, 1))


def test_a_scaled_copy_of_the_truth_has_no_error_in_any_range():
    gt = _ramp_depth()
    ranges = RangeErrors(garg_crop=False)
    assert ranges.add(gt, 1.0 / (3.0 * gt))  # wrong scale only: median scaling removes it
    result = ranges.to_dict()
    assert result['frames'] == 1
    assert result['log_slope_median'] == pytest.approx(1.0)
    for row in result['bins']:
        assert row['signed_rel'] == pytest.approx(0.0, abs=1e-6)
        assert row['abs_rel_part'] == pytest.approx(0.0, abs=1e-6)
    assert sum(row['pixel_share'] for row in result['bins']) == pytest.approx(1.0)


def test_a_compressed_range_is_too_far_near_and_too_near_far():
    # pred = sqrt(gt): median scaling by sqrt(m) (m = median of gt, an odd count of distinct
    # values) gives pred = sqrt(gt * m), relative error sqrt(m / gt) - 1.
    gt = _ramp_depth(height=1, width=61)
    ranges = RangeErrors(garg_crop=False)
    ranges.add(gt, 1.0 / np.sqrt(gt))
    result = ranges.to_dict()
    assert result['log_slope_median'] == pytest.approx(0.5)
    values = gt[0]
    median = np.median(values)
    expected = np.sqrt(median / values) - 1
    for row in result['bins']:
        low, high = row['range_m']
        inside = (values >= low) & (values < high)
        assert row['pixel_share'] == pytest.approx(inside.mean())
        assert row['signed_rel'] == pytest.approx(expected[inside].mean(), rel=1e-5)
        assert row['abs_rel'] == pytest.approx(np.abs(expected[inside]).mean(), rel=1e-5)
    assert result['bins'][0]['signed_rel'] > 0 > result['bins'][-1]['signed_rel']


def test_the_parts_add_up_to_the_protocols_abs_rel_over_frames():
    rng = np.random.default_rng(7)
    ranges = RangeErrors()
    per_image = []
    for _ in range(4):
        gt = np.where(rng.random((60, 200)) < 0.3, rng.uniform(0.5, 90.0, (60, 200)), 0.0)
        inv = 1.0 / (gt * rng.lognormal(0.0, 0.3, gt.shape) + 0.1)
        inv = inv[::2, ::2]  # the prediction at another resolution, as a network's is
        assert ranges.add(gt, inv)
        per_image.append(evaluate_depth_image(gt, inv)[0].abs_rel)
    parts = [row['abs_rel_part'] for row in ranges.to_dict()['bins']]
    assert sum(parts) == pytest.approx(np.mean(per_image), rel=1e-5)


def test_frames_without_ground_truth_and_bad_edges():
    ranges = RangeErrors()
    assert not ranges.add(np.zeros((20, 30)), np.ones((20, 30)))
    empty = ranges.to_dict()
    assert empty['frames'] == 0 and empty['log_slope_median'] is None
    assert all(row['signed_rel'] is None for row in empty['bins'])
    for edges in ((0.0, 40.0), (0.0, 50.0, 20.0, 80.0), (1.0, 80.0), (80.0,)):
        with pytest.raises(InputError, match='range edges'):
            RangeErrors(edges)


def test_protocol_scores_report_the_ranges_when_asked():
    gt = _ramp_depth()
    scores = ProtocolScores(garg_crop=False, by_range=True)
    scores.add(gt, 1.0 / gt)
    out = scores.to_dict()
    assert [row['range_m'][0] for row in out['by_range']['bins']] == list(RANGE_EDGES_M[:-1])
    assert 'by_range' not in ProtocolScores().to_dict()
