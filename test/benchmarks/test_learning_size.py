"""benchmarks/learning.py --size: the evaluation seeds rendered at another size."""
from pathlib import Path
import sys

import numpy as np
import pytest


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))

import learning  # noqa: E402


def test_seeds_render_at_the_asked_size_with_the_intrinsics_of_that_size():
    small, large = learning._sequence(2026, 2, (64, 208)), learning._sequence(2026, 2, (96, 312))
    assert small[0].rgb.shape == (64, 208, 3) and large[0].depth_m.shape == (96, 312)
    k_small, k_large = learning._intrinsics(small), learning._intrinsics(large)
    # Monodepth2's normalised KITTI intrinsics: fx = 0.58 W, fy = 1.92 H, centred.
    assert (k_small.fx, k_small.fy, k_small.cx, k_small.cy) == pytest.approx(
        (0.58 * 208, 1.92 * 64, 104, 32))
    assert k_large.fx / k_small.fx == pytest.approx(1.5)
    # The same drive at either size: the poses do not depend on the image size.
    np.testing.assert_allclose(small[1].world_from_cam, large[1].world_from_cam)


@pytest.mark.parametrize('size', ['640', '640x', 'axb', '16x16'])
def test_a_bad_size_is_refused(size, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', ['learning.py', '--checkpoint', 'x', '--size', size])
    with pytest.raises(SystemExit):
        learning._parse()
    assert '--size' in capsys.readouterr().err


@pytest.mark.parametrize('size', ['512', '512x150'])
def test_a_bad_input_size_is_refused(size, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', ['learning.py', '--checkpoint', 'x', '--input-size', size])
    with pytest.raises(SystemExit):
        learning._parse()
    assert '--input-size' in capsys.readouterr().err


def test_the_networks_run_at_the_input_size(tiny_checkpoint):
    """The tiny 64x192 checkpoint run at 96x320 on seeds rendered at 64x208: both the trained
    and the untrained networks at that size, and the size recorded."""
    results = learning.evaluate_all(tiny_checkpoint, 2, (64, 208), (96, 320))
    assert results['size'] == '208x64' and results['input_size'] == '320x96'
    assert set(results['seeds']) == {'2026', '31337'}
