"""Motion gate: two nearly identical consecutive frames mean the camera stands still (numpy).

A pose network can report motion between two identical frames (the released weights said 0.89 m
per frame); neither the node nor the evaluator may invent motion the images do not show. The
frame pipeline applies the gate (`PipelineConfig.motion_gate_threshold`) before it chains the
pose network's motion. The gate compares the frames themselves: the mean absolute difference
of their grey images, each averaged down to GRID (rows, columns) cells so sensor noise averages
out and the value barely depends on the resolution. At or below the threshold the motion is
the identity.

Default threshold, measured with `frame_difference` on real consecutive pairs
(test/pipeline/test_motion_gate.py checks them on ../shared/data/real):
    identical frames                                    0.00 grey levels
    EuRoC V1_01 cam0 (752x480), MAV standing, 5 pairs   0.35 - 0.37
    EuRoC V1_01 cam0, the pair where it starts to move  0.48
    KITTI 2011_09_26 stop-and-go (sfnd, 1242x375)       0.66 (car creeping) - 11.7
DEFAULT_THRESHOLD = 0.45 sits above the standing camera's noise and below the first motion of
either sequence. Slow indoor hover pairs reach down to 0.35, so a hovering drone can read as
still: lower the threshold there (or 0 to switch the gate off).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np


GRID = (120, 160)  # cells (rows, columns) the grey images are averaged into
DEFAULT_THRESHOLD = 0.45  # grey levels (0..255) of mean absolute cell difference


def grey_cells(rgb: np.ndarray, grid: tuple[int, int] = GRID) -> np.ndarray:
    """Area-average grey image.

    Args:
        rgb: [H, W, 3] or [H, W] image, uint8 or float in 0..255, H and W at least the grid's.
        grid: (rows, columns) of the output.

    Returns:
        [rows, columns] float32 mean grey value (BT.601 luma) of each cell.
    """
    image = rgb.astype(np.float32)
    grey = image if image.ndim == 2 else image[..., :3] @ np.float32([0.299, 0.587, 0.114])
    rows = np.linspace(0, grey.shape[0], min(grid[0], grey.shape[0]) + 1).astype(int)
    cols = np.linspace(0, grey.shape[1], min(grid[1], grey.shape[1]) + 1).astype(int)
    sums = np.add.reduceat(np.add.reduceat(grey, rows[:-1], axis=0), cols[:-1], axis=1)
    counts = np.outer(np.diff(rows), np.diff(cols)).astype(np.float32)
    return sums / counts


def frame_difference(previous: np.ndarray, current: np.ndarray) -> float:
    """Mean absolute difference (grey levels) of the two frames' cell averages."""
    a, b = grey_cells(previous), grey_cells(current)
    if a.shape != b.shape:
        return float('inf')  # a resolution change is not 'the same view'
    return float(np.mean(np.abs(a - b)))


def is_static(previous: np.ndarray, current: np.ndarray,
              threshold: float = DEFAULT_THRESHOLD) -> bool:
    """True when `current` shows the same view as `previous` (the camera did not move)."""
    return frame_difference(previous, current) <= threshold


class MotionGate:
    """Remembers the previous frame's grey cells and says whether the next one is static.

    Args:
        threshold: `is_static` threshold in grey levels; 0 turns the gate off.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD):
        self.threshold = float(threshold)
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the previous frame."""
        self._previous = None

    def advance(self, rgb: np.ndarray) -> Callable[[], bool | None]:
        """Take the next frame; returns its verdict against the frame before.

        The verdict is computed only when called (the pipeline calls it only when it measures
        motion): True static, False moving, None when the gate is off or no frame came before.
        """
        previous = self._previous
        current = grey_cells(rgb) if self.threshold > 0 else None
        self._previous = current

        def verdict() -> bool | None:
            if previous is None or current is None:
                return None
            if previous.shape != current.shape:
                return False  # a resolution change is not 'the same view'
            return float(np.mean(np.abs(previous - current))) <= self.threshold
        return verdict
