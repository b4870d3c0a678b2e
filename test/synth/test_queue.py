"""The synthetic traffic queue: the car ahead where the gap says, the camera creeping along its
lane, the road hidden (checked against the flat-ground depth the camera height gives)."""
import numpy as np
import pytest

from depth_ros.errors import ConfigError
from depth_ros.synth import Renderer, make_world
from depth_ros.synth.queue import gap_m, make_queue_world


SIZE = (320, 96)


def ground_share(depth: np.ndarray, fy: float, cy: float, height_m: float = 1.65) -> float:
    """Share of the lower half's pixels whose depth is the flat road's at their row (1 %)."""
    rows = np.arange(depth.shape[0], dtype=np.float64)[:, None]
    with np.errstate(divide='ignore'):
        road = np.where(rows > cy + 1, height_m * fy / (rows - cy), np.nan)
    lower = depth[depth.shape[0] // 2:]
    expected = np.broadcast_to(road, depth.shape)[depth.shape[0] // 2:]
    return float(np.mean(np.abs(lower / expected - 1) < 0.01))


def test_the_camera_creeps_from_the_first_gap_to_the_second():
    world = make_queue_world(7, 11, *SIZE, start_gap_m=12.0, end_gap_m=2.0)
    np.testing.assert_allclose(gap_m(world, 12.0), np.linspace(12.0, 2.0, 11))
    poses = world.trajectory.world_from_cam
    np.testing.assert_array_equal(poses[0], np.eye(4))
    steps = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
    np.testing.assert_allclose(steps, 1.0, rtol=0.01)  # 10 m in 10 equal steps (road bends)
    assert np.all(poses[:, 1, 3] == 0)  # on the road, at the camera's height


@pytest.mark.parametrize('frame', [0, 5])
def test_the_car_ahead_is_at_the_gap(frame):
    world = make_queue_world(7, 11, *SIZE, start_gap_m=12.0, end_gap_m=2.0)
    gap = gap_m(world, 12.0)[frame]
    depth = Renderer(world, supersample=1).frame(frame).depth_m
    intr = world.intrinsics
    # The middle of the rear face: 0.12 m (wheels) + about 0.3 m above the road.
    row = int(round(intr.cy + intr.fy * (1.65 - 0.45) / gap))
    assert row < intr.height
    rear = depth[row, int(intr.cx) - 2:int(intr.cx) + 3]
    np.testing.assert_allclose(rear, gap, rtol=0.03)


def test_the_queue_hides_the_road_the_street_shows():
    street = Renderer(make_world(7, 1, *SIZE), supersample=1).frame(0).depth_m
    world = make_queue_world(7, 11, *SIZE, start_gap_m=12.0, end_gap_m=2.0)
    queue = Renderer(world, supersample=1).frame(10).depth_m
    fy, cy = world.intrinsics.fy, world.intrinsics.cy
    assert ground_share(street, fy, cy) > 0.5
    assert ground_share(queue, fy, cy) < 0.5 * ground_share(street, fy, cy)


@pytest.mark.parametrize('kwargs', [{'start_gap_m': 2.0, 'end_gap_m': 5.0},
                                    {'end_gap_m': 0.0}, {'frames': 1}])
def test_bad_queues_are_refused(kwargs):
    args = {'seed': 1, 'frames': 5, **kwargs}
    with pytest.raises(ConfigError):
        make_queue_world(**args)
