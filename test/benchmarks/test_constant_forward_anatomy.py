"""benchmarks/constant_forward_anatomy.py on constructed trajectories with known answers."""
from pathlib import Path
import sys

import numpy as np
import pytest


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))

from constant_forward_anatomy import anatomy  # noqa: E402


def _trajectory(steps: np.ndarray, yaw_per_frame: float = 0.0) -> np.ndarray:
    """world_from_cam [N + 1, 4, 4]: each step (in the previous camera) then a yaw."""
    poses = [np.eye(4)]
    c, s = np.cos(yaw_per_frame), np.sin(yaw_per_frame)
    turn = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    for step in steps:
        prev_from_cur = np.eye(4)
        prev_from_cur[:3, :3] = turn
        prev_from_cur[:3, 3] = step
        poses.append(poses[-1] @ prev_from_cur)
    return np.stack(poses)


def test_a_mounting_offset_is_explained_by_the_mean_direction():
    # Steady speed along a fixed direction 2 degrees below and 1 degree left of the axis.
    direction = np.array([-np.sin(np.radians(1)), np.sin(np.radians(2)), 1.0])
    direction /= np.linalg.norm(direction)
    result = anatomy(_trajectory(np.tile(0.8 * direction, (30, 1))))
    ratios = result['vs_constant_forward']
    assert result['constant_forward_ate_5frame'] > 0
    assert result['speed_cv'] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(result['mean_direction'], direction, atol=1e-12)
    assert ratios['+ true direction'] == pytest.approx(0.0, abs=1e-9)
    assert ratios['+ mean direction, true rotation'] == pytest.approx(0.0, abs=1e-9)
    # Speed and rotation are already constant-forward's: no gain from them.
    assert ratios['+ true speed'] == pytest.approx(1.0)
    assert ratios['+ true rotation'] == pytest.approx(1.0)


def test_a_turn_is_explained_by_the_rotation():
    # Along the optical axis at a steady speed, turning 2 degrees a frame.
    result = anatomy(_trajectory(np.tile([0.0, 0.0, 1.0], (30, 1)), np.radians(2.0)))
    ratios = result['vs_constant_forward']
    assert ratios['+ true rotation'] == pytest.approx(0.0, abs=1e-9)
    assert ratios['+ true speed'] == pytest.approx(1.0)
