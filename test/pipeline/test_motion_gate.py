"""Motion gate on real frames: standing cameras are static, a creeping car is moving."""
from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from depth_ros.pipeline.motion_gate import (
    DEFAULT_THRESHOLD,
    MotionGate,
    frame_difference,
    grey_cells,
    is_static,
)


REAL = Path(__file__).resolve().parents[3] / 'shared' / 'data' / 'real' / 'train'
EUROC = REAL / 'euroc_v101_kimera' / 'sequences' / 'euroc_v101' / 'image_0'
SFND = REAL / 'kitti_raw_0926_sfnd' / 'sequences' / '0926_sfnd' / 'image_2'


def _frames(folder: Path, count: int | None = None) -> list[np.ndarray]:
    if not folder.is_dir():
        pytest.skip(f'{folder} not available')
    files = sorted(folder.glob('*.jpg'))[:count]
    return [np.asarray(Image.open(f)) for f in files]


def test_cells_average_blocks():
    image = np.zeros((4, 6), dtype=np.uint8)
    image[:2, :3] = 200  # one quarter bright
    cells = grey_cells(image, grid=(2, 2))
    np.testing.assert_allclose(cells, [[200, 0], [0, 0]])


def test_identical_frames_are_static():
    frame = np.random.default_rng(1).integers(0, 255, (375, 1242, 3), dtype=np.uint8)
    assert frame_difference(frame, frame.copy()) == 0.0 and is_static(frame, frame.copy())


def test_a_one_pixel_shift_of_a_textured_frame_is_motion():
    frame = _frames(SFND, 1)[0]
    shifted = np.roll(frame, 1, axis=1)
    assert not is_static(frame, shifted)


def test_standing_mav_before_take_off_is_static_and_its_first_motion_is_not():
    frames = _frames(EUROC, 7)  # EuRoC V1_01: the MAV stands on the floor for the first frames
    assert all(is_static(a, b) for a, b in zip(frames[:6], frames[1:6]))
    assert not is_static(frames[5], frames[6])


def test_every_pair_of_the_stop_and_go_drive_is_moving():
    frames = _frames(SFND)
    differences = [frame_difference(a, b) for a, b in zip(frames, frames[1:])]
    assert min(differences) > DEFAULT_THRESHOLD, min(differences)


def test_gate_compares_each_frame_with_the_one_before():
    frame = np.random.default_rng(2).integers(0, 255, (96, 320, 3), dtype=np.uint8)
    gate = MotionGate()
    assert gate.advance(frame)() is None  # nothing before the first frame
    assert gate.advance(frame.copy())() is True
    assert gate.advance(np.roll(frame, 3, axis=1))() is False
    gate.reset()
    assert gate.advance(frame)() is None
    assert gate.advance(frame[:64])() is False  # another resolution is not the same view
    off = MotionGate(threshold=0.0)
    off.advance(frame)
    assert off.advance(frame.copy())() is None
