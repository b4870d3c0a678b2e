"""Depth metrics and the Eigen protocol against Monodepth2's reference vectors."""
from __future__ import annotations

import numpy as np
import pytest

from depth_ros.errors import InputError
from depth_ros.evaluation.depth_metrics import (
    DEPTH_METRIC_NAMES,
    depth_metrics,
    evaluate_depth_image,
    evaluate_depths,
    garg_crop_mask,
    resize_bilinear,
)


def _load(folder, name):
    path = folder / name
    if not path.is_file():
        pytest.skip(f'{path} not found')
    return np.load(path)


def test_metrics_match_reference(md2_reference):
    ref = _load(md2_reference, 'layers_io.npz')
    got = depth_metrics(ref['metric_gt'], ref['metric_pred']).as_array()
    np.testing.assert_allclose(got, ref['metrics'], rtol=1e-5)


def test_eigen_protocol_matches_reference(md2_reference):
    ref = _load(md2_reference, 'depth_eval_io.npz')
    assert tuple(ref['metric_names']) == DEPTH_METRIC_NAMES
    result = evaluate_depths(ref['gt_depths'], ref['pred_inv_depths'])
    # a1..a3 count pixels: one pixel resized differently would move them by ~1e-4.
    np.testing.assert_allclose(result.per_image, ref['per_image_errors'], rtol=1e-5)
    np.testing.assert_allclose(result.mean.as_array(), ref['mean_errors'], rtol=1e-5)
    np.testing.assert_allclose(result.scales, ref['median_ratios'], rtol=1e-6)
    assert result.median_scaling


def test_fixed_scale_skips_median_scaling(md2_reference):
    ref = _load(md2_reference, 'depth_eval_io.npz')
    gt, inv_depth = ref['gt_depths'][0], ref['pred_inv_depths'][0]
    median_metrics, ratio = evaluate_depth_image(gt, inv_depth)
    fixed_metrics, scale = evaluate_depth_image(gt, inv_depth, scale=ratio)
    assert scale == pytest.approx(ratio)
    np.testing.assert_allclose(fixed_metrics.as_array(), median_metrics.as_array(), rtol=1e-5)
    unscaled, one = evaluate_depth_image(gt, inv_depth, scale=1.0)
    assert one == 1.0 and unscaled.abs_rel != pytest.approx(median_metrics.abs_rel)


def test_metrics_known_values():
    gt = np.array([1.0, 2.0, 4.0, 10.0])
    pred = np.array([1.0, 2.5, 2.0, 10.0])
    m = depth_metrics(gt, pred)
    assert m.abs_rel == pytest.approx(np.mean([0, 0.25, 0.5, 0]))
    assert m.sq_rel == pytest.approx(np.mean([0, 0.125, 1.0, 0]))
    assert m.rmse == pytest.approx(np.sqrt(np.mean([0, 0.25, 4.0, 0])))
    assert m.rmse_log == pytest.approx(np.sqrt(np.mean(np.log([1, 0.8, 2, 1]) ** 2)))
    # Ratios 1, 1.25, 2, 1; the thresholds are strict (1.25 is not below 1.25).
    assert (m.a1, m.a2, m.a3) == (0.5, 0.75, 0.75)
    assert depth_metrics(gt, gt).to_dict() == {
        'abs_rel': 0.0, 'sq_rel': 0.0, 'rmse': 0.0, 'rmse_log': 0.0, 'a1': 1.0, 'a2': 1.0,
        'a3': 1.0}


def test_resize_known_values():
    # Half-pixel centres with a replicated border, as OpenCV INTER_LINEAR.
    row = np.array([[0.0, 1.0]])
    np.testing.assert_allclose(resize_bilinear(row, 1, 4), [[0.0, 0.25, 0.75, 1.0]])
    image = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(resize_bilinear(image, 3, 4), image)
    assert resize_bilinear(image, 7, 9).dtype == np.float32
    np.testing.assert_allclose(resize_bilinear(image, 6, 8)[::2, ::2].shape, (3, 4))
    # Downscaling by two averages each 2x2 block.
    block = np.arange(16, dtype=np.float64).reshape(4, 4)
    np.testing.assert_allclose(resize_bilinear(block, 2, 2),
                               block.reshape(2, 2, 2, 2).mean(axis=(1, 3)))


def test_resize_of_a_linear_ramp_is_linear_inside():
    x = np.linspace(0, 1, 10)
    ramp = np.tile(x, (5, 1))
    up = resize_bilinear(ramp, 5, 40)
    centres = (np.arange(40) + 0.5) * 10 / 40 - 0.5
    inside = (centres >= 0) & (centres <= 9)
    np.testing.assert_allclose(up[0, inside], np.interp(centres[inside], np.arange(10), x))


def test_garg_crop_bounds():
    mask = garg_crop_mask(375, 1242)
    rows, cols = np.nonzero(mask)
    assert (rows.min(), rows.max() + 1) == (int(0.40810811 * 375), int(0.99189189 * 375))
    assert (cols.min(), cols.max() + 1) == (int(0.03594771 * 1242), int(0.96405229 * 1242))


def test_input_errors():
    with pytest.raises(InputError):
        depth_metrics(np.ones(3), np.ones(4))
    with pytest.raises(InputError):
        depth_metrics(np.ones(3), np.array([1.0, 0.0, 1.0]))
    with pytest.raises(InputError, match='image 0'):
        evaluate_depths([np.zeros((20, 30))], [np.ones((10, 15))])
    with pytest.raises(InputError, match='length'):
        evaluate_depths([np.ones((20, 30))] * 2, [np.ones((10, 15))])
