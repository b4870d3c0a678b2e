"""The combined Monodepth2 loss against its reference vectors (layers_io.npz)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from training.losses.photometric import photometric_error
from training.losses.self_supervised import LossConfig, self_supervised_loss


SCALES = (0, 1, 2, 3)
SOURCES = (-1, 1)


@pytest.fixture(scope='module')
def ref(md2_reference):
    return dict(np.load(md2_reference / 'layers_io.npz'))


def _inputs(ref):
    t = {k: torch.from_numpy(v) for k, v in ref.items()}
    target = t['loss_color_frame0']
    target_scales = [target] + [F.avg_pool2d(target, 2 ** s) for s in SCALES[1:]]
    sources = {f: t[f'loss_color_frame{f}'] for f in SOURCES}
    sigmoids = [t[f'loss_sigmoid_scale{s}'] for s in SCALES]
    poses = {f: t[f'loss_cam_T_cam_frame{f}'] for f in SOURCES}
    return target_scales, sources, sigmoids, poses, t['K']


def _run(ref, tie_noise):
    target_scales, sources, sigmoids, poses, k = _inputs(ref)
    return self_supervised_loss(target_scales, sources, sigmoids, poses, k, min_depth=0.1,
                                max_depth=100.0, config=LossConfig(tie_noise=tie_noise),
                                generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize('tie_noise', [0.0, 1e-5])
def test_loss_values(ref, tie_noise):
    out = _run(ref, tie_noise)
    assert out.scales == SCALES
    for s, value in zip(SCALES, out.per_scale):
        assert abs(value.item() - float(ref[f'loss_value_scale{s}'])) < 1e-4
    assert abs(out.total.item() - float(ref['loss_total'])) < 1e-4


def test_warped_images(ref):
    out = _run(ref, 0.0)
    for f in SOURCES:
        for i, s in enumerate(SCALES):
            np.testing.assert_allclose(out.warped[f][i].numpy(),
                                       ref[f'loss_warped_frame{f}_scale{s}'], atol=1e-4, rtol=0)


def test_automask_agrees_where_not_a_tie(ref):
    """Monodepth2's identity selection is random at near-ties (its 1e-5 noise); elsewhere the
    masks must agree exactly."""
    out = _run(ref, 1e-5)
    target_scales, sources, _, _, _ = _inputs(ref)
    target = target_scales[0]
    identity = torch.cat([photometric_error(src, target) for src in sources.values()], 1)
    best_identity = identity.min(1).values
    for i, s in enumerate(SCALES):
        warped = torch.cat([photometric_error(out.warped[f][i], target) for f in SOURCES], 1)
        margin = (best_identity - warped.min(1).values).abs()
        expected = torch.from_numpy(ref[f'loss_identity_selection_scale{s}'])
        clear = margin > 1e-4
        assert clear.any()
        assert torch.equal(out.automask[i][clear], expected[clear])


def test_gradients_reach_depth_and_pose(ref):
    target_scales, sources, sigmoids, poses, k = _inputs(ref)
    sigmoids = [d.clone().requires_grad_(True) for d in sigmoids]
    poses = {f: p.clone().requires_grad_(True) for f, p in poses.items()}
    out = self_supervised_loss(target_scales, sources, sigmoids, poses, k, min_depth=0.1,
                               max_depth=100.0)
    out.total.backward()
    assert all(d.grad is not None and d.grad.abs().sum() > 0 for d in sigmoids)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in poses.values())
