"""training.data.teacher_depth: a teacher's full-resolution depth written as training depth."""
import numpy as np
from PIL import Image
import pytest

from depth_ros.geometry.intrinsics import kitti_intrinsics
from depth_ros.inference import Predictor
from depth_ros.pipeline.epipolar import grey_image
from depth_ros.pipeline.track_depth import TrackRefiner
from depth_ros.synth import generate_sequence
from depth_ros.synth.writer import decode_depth, encode_depth
from training.data.teacher_depth import main, merge_sparse, write_sequence


FRAMES = 3


def test_merge_scales_the_teacher_to_the_sparse_points_and_keeps_them():
    dense = np.full((20, 30), 10.0, np.float32)
    dense[:, 15:] = 40.0
    sparse = np.zeros_like(dense)
    sparse[2, :15] = 20.0     # 15 points at 2x the teacher's 10 m
    sparse[3, 15:25] = 80.0   # 10 points at 2x its 40 m
    sparse[5, 0] = 35.0       # one point at 3.5x: the median ignores it
    merged, ratio = merge_sparse(dense, sparse, min_points=20)
    assert ratio == pytest.approx(2.0)
    assert merged[10, 0] == pytest.approx(20.0) and merged[10, 20] == pytest.approx(80.0)
    assert merged[5, 0] == 35.0  # the sparse depth itself is written over the scaled teacher
    unchanged, none = merge_sparse(dense, sparse, min_points=27)
    assert none is None and unchanged is dense
    with pytest.raises(Exception, match='differ in size'):
        merge_sparse(dense, sparse[:, :10])


@pytest.fixture(scope='module')
def sequence(tmp_path_factory):
    """A short synthetic drive in the KITTI layout, without its depth folder."""
    root = tmp_path_factory.mktemp('teacher')
    generate_sequence(root, seed=5, frames=FRAMES, sequence='00', width=256, height=96,
                      progress=False)
    folder = root / 'sequences' / '00'
    (folder / 'depth_2').rename(root / 'rendered_depth')
    return root, folder


def test_written_depth_is_the_teachers_full_resolution_depth(sequence, tmp_path):
    root, folder = sequence
    teacher = Predictor.from_checkpoint(flip_average=True, input_size=(64, 192))
    counts = write_sequence(folder, teacher)
    assert counts['frames'] == FRAMES and counts['merged'] == 0
    for i in range(FRAMES):
        image = np.asarray(Image.open(folder / 'image_2' / f'{i:06d}.png').convert('RGB'))
        expected = teacher.predict(image).depth_m
        written = decode_depth(np.asarray(Image.open(folder / 'depth_2' / f'{i:06d}.png')))
        assert written.shape == image.shape[:2]  # the frame's size, not the network's
        np.testing.assert_allclose(written, expected, atol=0.5 / 256 + 1e-6)
    assert not list(folder.glob('.depth_2*'))  # no partial folder is left

    # Sparse depth at 3x the teacher on frame 1 scales that frame only.
    sparse_root = tmp_path / 'sparse'
    (sparse_root / 'depth_2').mkdir(parents=True)
    sparse = np.zeros_like(written)
    sparse[40, ::4] = 3.0 * written[40, ::4]
    Image.fromarray(encode_depth(sparse)).save(sparse_root / 'depth_2' / '000001.png')
    before = {i: decode_depth(np.asarray(Image.open(folder / 'depth_2' / f'{i:06d}.png')))
              for i in range(FRAMES)}
    counts = write_sequence(folder, teacher, sparse_dir=sparse_root / 'depth_2')
    assert counts['merged'] == 1 and counts['median_ratio'] == pytest.approx(3.0, rel=0.01)
    after = {i: decode_depth(np.asarray(Image.open(folder / 'depth_2' / f'{i:06d}.png')))
             for i in range(FRAMES)}
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_allclose(after[1][70], 3.0 * before[1][70], rtol=0.01, atol=2 / 256)


def test_existing_depth_is_kept_unless_replace_is_given(tmp_path, capsys):
    lidar = tmp_path / 'sequences' / 'a' / 'depth_2'
    lidar.mkdir(parents=True)
    (lidar / '000000.png').write_bytes(b'lidar')
    assert main(['--root', str(tmp_path), '--sequences', 'a', '--weights', 'default']) == 2
    assert 'pass --replace' in capsys.readouterr().err
    assert (lidar / '000000.png').read_bytes() == b'lidar'


@pytest.fixture(scope='module')
def drive(tmp_path_factory):
    """A longer synthetic drive (tracks need a baseline), its rendered depth set aside."""
    root = tmp_path_factory.mktemp('teacher_tracks')
    generate_sequence(root, seed=7, frames=12, sequence='00', width=416, height=128,
                      progress=False)
    folder = root / 'sequences' / '00'
    (folder / 'depth_2').rename(root / 'rendered_depth')
    return root, folder


def test_tracks_refine_the_teachers_depth_as_the_node_would(drive):
    _, folder = drive
    teacher = Predictor.from_checkpoint()
    counts = write_sequence(folder, teacher, refiner=TrackRefiner())
    assert counts['frames'] == 12 and counts['refined'] >= 6
    replay, changed = TrackRefiner(), 0
    for i in range(12):
        image = np.asarray(Image.open(folder / 'image_2' / f'{i:06d}.png').convert('RGB'))
        plain = teacher.predict(image).depth_m
        intr = kitti_intrinsics(folder / 'calib.txt', 2, image.shape[1], image.shape[0])
        expected = replay.refine(plain, replay.measure(grey_image(image), intr))
        written = decode_depth(np.asarray(Image.open(folder / 'depth_2' / f'{i:06d}.png')))
        np.testing.assert_allclose(written, expected, atol=0.5 / 256 + 1e-6)
        changed += np.abs(np.log(written / plain)).max() > 0.01
    # Whether it brings depth closer to the truth: test/pipeline/test_track_depth.py.
    assert changed >= 6


def test_a_gap_in_the_numbering_restarts_the_tracks(drive, tmp_path):
    _, folder = drive
    gap = tmp_path / 'sequences' / '00'
    (gap / 'image_2').mkdir(parents=True)
    (gap / 'calib.txt').write_bytes((folder / 'calib.txt').read_bytes())
    for i in (*range(6), *range(8, 12)):
        name = f'{i:06d}.png'
        (gap / 'image_2' / name).write_bytes((folder / 'image_2' / name).read_bytes())
    teacher = Predictor.from_checkpoint()
    whole = write_sequence(folder, teacher, refiner=TrackRefiner())
    broken = write_sequence(gap, teacher, refiner=TrackRefiner())
    assert broken['frames'] == 10
    # Frames 6 and 7 are gone and frame 8 starts the tracks again ('first', unrefined):
    # at least three refined frames fewer than the whole drive.
    assert broken['refined'] < whole['refined'] - 2
    first_after_gap = decode_depth(np.asarray(Image.open(gap / 'depth_2' / '000008.png')))
    image = np.asarray(Image.open(gap / 'image_2' / '000008.png').convert('RGB'))
    np.testing.assert_allclose(first_after_gap, teacher.predict(image).depth_m,
                               atol=0.5 / 256 + 1e-6)
