"""evaluate_bag: frame-stream checks, pairing by stamp, result bag, plots, and the demo.

Most tests replay constructed bags through `IndexPredictor`, a stand-in that reads the frame
index written into each image and answers with that frame's ground truth: then any frame
paired with the wrong stamp, duplicate used, or frame processed out of order shows up as a
non-zero error or a wrong processing order, and the expected numbers are known exactly.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image
import pytest

from depth_ros.evaluation.bag_io import BagWriter, read_bag_poses, typestore
from depth_ros.evaluation.frame_plan import plan_frames
from depth_ros.evaluation.kitti_to_bag import GT_DEPTH_TOPIC, GT_ODOM_TOPIC, IMAGE_TOPIC
from depth_ros.evaluation.replay import (
    RESULT_ODOM_TOPIC,
    evaluate_bag,
    format_result,
)
from depth_ros.geometry.se3 import invert
from depth_ros.ros.codecs import (
    MsgTypes,
    depth_to_image,
    make_header,
    pose_to_odometry,
    rgb_to_image,
)


BASE_NS = 1_600_000_000 * 10**9
PERIOD_NS = 100_000_000
HEIGHT, WIDTH = 24, 40


def _gt_poses(n: int) -> np.ndarray:
    """A path turning gently, about 1 m per frame (camera axes: z forward)."""
    poses = np.tile(np.eye(4), (n, 1, 1))
    for i in range(1, n):
        yaw = 0.05 * i
        step = np.eye(4)
        step[:3, :3] = [[np.cos(0.05), 0, np.sin(0.05)], [0, 1, 0],
                        [-np.sin(0.05), 0, np.cos(0.05)]]
        step[:3, 3] = [0.02 * np.sin(yaw), 0.01, 1.0]
        poses[i] = poses[i - 1] @ step
    return poses


def _gt_depth(index: int) -> np.ndarray:
    rows = np.arange(HEIGHT, dtype=np.float32)[:, None]
    depth = np.broadcast_to(2.0 + index + 0.3 * rows, (HEIGHT, WIDTH)).copy()
    depth[:2] = np.nan  # no measurement
    return depth


class IndexPredictor:
    """Predictor stand-in: frame index from pixel (0, 0); ground-truth motion and half depth."""

    def __init__(self, world_from_cam: np.ndarray, has_pose: bool = True) -> None:
        self.world_from_cam = world_from_cam
        self.has_pose = has_pose
        self.prepared: list[int] = []

    def prepare(self, rgb: np.ndarray) -> int:
        self.prepared.append(int(rgb[0, 0, 0]))
        return int(rgb[0, 0, 0])

    def predict(self, index: int) -> SimpleNamespace:
        depth = np.nan_to_num(_gt_depth(index), nan=2.0) * 0.5
        return SimpleNamespace(depth_m=depth, inv_depth_m=1.0 / depth)

    def relative_pose(self, prev: int, cur: int) -> np.ndarray:
        return invert(self.world_from_cam[prev]) @ self.world_from_cam[cur]


def _image(index: int) -> np.ndarray:
    rgb = np.random.default_rng(index).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    rgb[0, 0] = index
    return rgb


def write_stream_bag(path: Path, receive_order: list[tuple[int, int]], n_gt: int,
                     storage: str = 'sqlite3', depth: bool = True) -> np.ndarray:
    """A bag whose image messages come in `receive_order` as (pixel index, stamp index).

    Ground truth (odometry, and depth for every frame) is written for all n_gt stamps.
    Returns the ground-truth poses.
    """
    types = MsgTypes.from_typestore(typestore())
    poses = _gt_poses(n_gt)
    with BagWriter(path, storage) as writer:
        for k in range(n_gt):
            stamp = BASE_NS + k * PERIOD_NS
            writer.write(GT_ODOM_TOPIC, stamp, pose_to_odometry(
                types, poses[k], make_header(types, stamp, 'world'), 'camera_gt'))
            if depth:
                writer.write(GT_DEPTH_TOPIC, stamp, depth_to_image(
                    types, _gt_depth(k), make_header(types, stamp, 'camera')))
        for order, (pixel_index, stamp_index) in enumerate(receive_order):
            stamp = BASE_NS + stamp_index * PERIOD_NS
            header = make_header(types, stamp, 'camera')
            # Receive times grow in receive order, whatever the header stamps say.
            writer.write(IMAGE_TOPIC, BASE_NS + order * PERIOD_NS + 1,
                         rgb_to_image(types, _image(pixel_index), header))
    return poses


# ---------------------------------------------------------------------------------------------
# plan_frames


def test_plan_of_a_clean_stream():
    plan = plan_frames(BASE_NS + np.arange(6) * PERIOD_NS)
    assert len(plan) == 6 and not plan.gaps
    assert len(plan.duplicates) == 0 and len(plan.out_of_order) == 0
    assert plan.period_s == pytest.approx(0.1)


def test_plan_finds_duplicates_disorder_and_gaps():
    # Receive order: 0 1 2 2(dup) 3 5 4 8 9 (6 and 7 dropped).
    stamps = BASE_NS + np.array([0, 1, 2, 2, 3, 5, 4, 8, 9]) * PERIOD_NS
    plan = plan_frames(stamps)
    np.testing.assert_array_equal(plan.duplicates, [3])
    np.testing.assert_array_equal(plan.out_of_order, [6])
    np.testing.assert_array_equal(plan.message_indices, [0, 1, 2, 4, 6, 5, 7, 8])
    assert np.all(np.diff(plan.stamps_ns) > 0)
    assert len(plan.gaps) == 1
    gap = plan.gaps[0]
    assert (gap.index, gap.missing_frames) == (6, 2) and gap.gap_s == pytest.approx(0.3)
    np.testing.assert_array_equal(np.flatnonzero(plan.gap_before()), [6])


# ---------------------------------------------------------------------------------------------
# evaluate_bag on constructed bags


def test_clean_bag_scores_zero_and_writes_everything(tmp_path, posenet):
    n = 8
    poses = write_stream_bag(tmp_path / 'in', [(k, k) for k in range(n)], n)
    predictor = IndexPredictor(poses)
    result = evaluate_bag(tmp_path / 'in', predictor, tmp_path / 'out', options=posenet())
    assert predictor.prepared == list(range(n))  # each frame prepared exactly once
    assert result.frames == n and len(result.gt_frames) == n
    assert result.trajectory.ate_5frame.mean == pytest.approx(0.0, abs=1e-9)
    assert result.trajectory.ape['se3'].rmse == pytest.approx(0.0, abs=1e-9)
    # Prediction = half the truth: zero error with median scaling, abs_rel 0.5 without.
    assert result.depth.mean.abs_rel == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(result.depth.scales, 2.0, rtol=1e-6)
    assert result.depth_unscaled.mean.abs_rel == pytest.approx(0.5, rel=1e-6)
    assert len(result.depth.per_image) == n
    metrics = json.loads((tmp_path / 'out' / 'metrics.json').read_text())
    assert metrics['ate_5frame']['n_tracks'] == n - 1
    assert set(metrics['depth']) >= {'abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'a1', 'a2', 'a3'}
    assert metrics['frame_issues']['duplicates'] == 0
    for kind in ('trajectory_plot', 'depth_by_range_plot', 'result_bag', 'metrics'):
        assert Path(result.outputs[kind]).exists()
    # By range too: a scaled copy of the truth has no error at any distance.
    assert metrics['depth_by_range']['frames'] == n
    assert metrics['depth_by_range']['log_slope_median'] == pytest.approx(1.0, abs=1e-5)
    for row in metrics['depth_by_range']['bins']:
        assert row['signed_rel'] is None or abs(row['signed_rel']) < 1e-5
    assert 'log-depth slope 1.00' in format_result(result)
    assert len(result.outputs['depth_previews']) == 4
    with Image.open(result.outputs['depth_previews'][0]) as preview:
        assert preview.size == (WIDTH, 3 * HEIGHT)  # RGB over prediction over ground truth
    estimate = read_bag_poses(result.outputs['result_bag'], RESULT_ODOM_TOPIC)
    np.testing.assert_allclose(estimate.world_from_cam, invert(poses[0]) @ poses, atol=1e-9)
    copy = read_bag_poses(result.outputs['result_bag'], GT_ODOM_TOPIC)
    np.testing.assert_allclose(copy.world_from_cam, poses, atol=1e-9)
    assert 'frames evaluated' in format_result(result)


def test_dropped_duplicated_and_out_of_order_frames(tmp_path, posenet):
    # Frames 5, 6 dropped; frame 3 received twice (the copy shows frame 99, which the
    # stand-in cannot answer for); frames 8 and 9 received in swapped order.
    order = [(0, 0), (1, 1), (2, 2), (3, 3), (99, 3), (4, 4), (7, 7), (9, 9), (8, 8),
             (10, 10), (11, 11)]
    poses = write_stream_bag(tmp_path / 'in', order, 12)
    predictor = IndexPredictor(poses)
    result = evaluate_bag(tmp_path / 'in', predictor, tmp_path / 'out',
                          options=posenet(plots=False))
    assert predictor.prepared == [0, 1, 2, 3, 4, 7, 8, 9, 10, 11]
    issues = result.to_dict()['frame_issues']
    assert issues['duplicates'] == 1 and issues['duplicate_messages'] == [4]
    assert issues['out_of_order'] == 1 and issues['out_of_order_messages'] == [8]
    assert [(g['index'], g['missing_frames']) for g in issues['gaps']] == [(5, 2)]
    # Every frame met its own ground truth by stamp: all errors vanish.
    assert len(result.gt_frames) == 10
    assert result.trajectory.ate_5frame.mean == pytest.approx(0.0, abs=1e-9)
    assert result.trajectory.ape['sim3'].rmse == pytest.approx(0.0, abs=1e-9)
    assert result.depth.mean.abs_rel == pytest.approx(0.0, abs=1e-6)
    text = format_result(result)
    assert '1 duplicated' in text and '1 out of order' in text and 'gap of 0.300 s' in text


def test_mcap_result_bag_and_no_pose_network(tmp_path, posenet):
    poses = write_stream_bag(tmp_path / 'in', [(k, k) for k in range(4)], 4, storage='mcap',
                             depth=False)
    result = evaluate_bag(tmp_path / 'in', IndexPredictor(poses, has_pose=False),
                          tmp_path / 'out', options=posenet(storage='mcap', plots=False))
    assert result.trajectory is None and result.depth is None
    assert any('no pose network' in note for note in result.notes)
    assert any('/ground_truth/depth' in note for note in result.notes)
    assert any(p.suffix == '.mcap' for p in Path(result.outputs['result_bag']).iterdir())
    assert result.to_dict()['ate_5frame'] is None


def test_missing_image_topic_is_an_input_error(tmp_path):
    from depth_ros.errors import InputError

    poses = write_stream_bag(tmp_path / 'in', [(0, 0), (1, 1)], 2)
    with pytest.raises(InputError, match='has no topic /cam'):
        evaluate_bag(tmp_path / 'in', IndexPredictor(poses), image_topic='/cam')


# ---------------------------------------------------------------------------------------------
# demo


def fake_generate_sequence(out_dir, seed, frames, sequence='00', width=640, height=192, **_):
    """Stands in for depth_ros.synth.generate_sequence: the KITTI layout it writes."""
    seq = Path(out_dir) / 'sequences' / sequence
    for folder in ('image_2', 'depth_2'):
        (seq / folder).mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(frames):
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(
            seq / 'image_2' / f'{i:06d}.png')
        depth = np.full((height, width), int(10.0 * 256), dtype=np.uint16)
        Image.fromarray(depth).save(seq / 'depth_2' / f'{i:06d}.png')
    k = [0.58 * width, 0, width / 2, 0, 0, 1.92 * height, height / 2, 0, 0, 0, 1, 0]
    text = ' '.join(f'{v:.6e}' for v in k)
    (seq / 'calib.txt').write_text(''.join(f'P{c}: {text}\n' for c in range(4)))
    np.savetxt(seq / 'times.txt', np.arange(frames) * 0.1)
    poses = np.tile(np.eye(4)[:3].ravel(), (frames, 1))
    poses[:, 11] = np.arange(frames) * 1.0
    (Path(out_dir) / 'poses').mkdir()
    np.savetxt(Path(out_dir) / 'poses' / f'{sequence}.txt', poses)
    return seq


@pytest.fixture
def one_thread():
    torch = pytest.importorskip('torch')
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the test machine's few cores are shared
    yield
    torch.set_num_threads(threads)


def test_demo_end_to_end_with_a_tiny_checkpoint(tmp_path, tiny_checkpoint, monkeypatch, capsys,
                                                one_thread):
    from depth_ros.evaluation.demo import run_demo
    import depth_ros.synth

    monkeypatch.setattr(depth_ros.synth, 'generate_sequence', fake_generate_sequence,
                        raising=False)
    for _ in range(2):  # a second run replaces the first one's folders
        out = run_demo(tmp_path, seed=7, frames=4, device='cpu', weights=tiny_checkpoint,
                       width=96, height=32)
    assert capsys.readouterr().out == ''  # the library prints nothing; the CLI does
    assert '5-frame ATE' in out and 'median-scaled' in out and 'What these numbers mean' in out
    metrics = json.loads((tmp_path / 'evaluation' / 'metrics.json').read_text())
    assert metrics['frames'] == 4 and metrics['depth']['n_images'] == 4
    assert (tmp_path / 'evaluation' / 'trajectory.png').is_file()


def test_demo_with_the_real_synthetic_world(tmp_path, tiny_checkpoint, capsys, one_thread):
    synth = pytest.importorskip('depth_ros.synth')
    if not hasattr(synth, 'generate_sequence'):
        pytest.skip('depth_ros.synth.generate_sequence is not written yet')
    from depth_ros.evaluation.demo import run_demo

    out = run_demo(tmp_path, seed=3, frames=3, device='cpu', weights=tiny_checkpoint,
                   width=96, height=32)
    metrics = json.loads((tmp_path / 'evaluation' / 'metrics.json').read_text())
    assert metrics['frames'] == 3 and metrics['ate_5frame']['n_tracks'] == 2
    assert metrics['depth'] is not None
    assert '5-frame ATE' in out
