"""Dataset layouts -> samples: shapes, intrinsics through resize/crop/flip, consistency."""
from pathlib import Path
import shutil

import numpy as np
from PIL import Image
import pytest
import torch
import torch.nn.functional as F
from toy_corridor import STEP_X_M, STEP_Z_M

from depth_ros.errors import ConfigError, InputError
from depth_ros.geometry.intrinsics import kitti_intrinsics
from training.data.augmentation import AugmentationConfig, flip_intrinsics, zoom_box
from training.data.factory import DataConfig, build_dataset
from training.data.sample import collate_samples
from training.losses.photometric import photometric_error
from training.view_synthesis import synthesize_view


NO_AUG = AugmentationConfig(flip_probability=0.0, jitter_probability=0.0)


def _odometry(root: Path, **kw) -> DataConfig:
    base = dict(kind='kitti_odometry', path=str(root), sequences=('00',), height=64, width=192,
                augmentation=NO_AUG)
    base.update(kw)
    return DataConfig(**base)


def test_odometry_sample_shapes_and_intrinsics(toy_odometry):
    dataset = build_dataset(_odometry(toy_odometry), 'train', num_scales=4)
    assert len(dataset) == 6 and dataset.has_depth  # 8 frames, first and last lack a neighbour
    sample = dataset[0]
    assert sample.frame_offsets == (0, -1, 1)
    assert [tuple(im.shape) for im in sample.images] == [(3, 3, 64 // 2 ** s, 192 // 2 ** s)
                                                         for s in range(4)]
    torch.testing.assert_close(sample.images[2], F.avg_pool2d(sample.images[0], 4))
    assert sample.depth_m.shape == (1, 64, 192)
    native = kitti_intrinsics(toy_odometry / 'sequences/00/calib.txt', 2, 320, 96)
    expected = native.scaled(192, 64).matrix(homogeneous=True)
    np.testing.assert_allclose(sample.k.numpy(), expected, rtol=1e-6)
    # Scale 2 intrinsics describe the scale 2 images: the same view, a quarter of the size.
    expected_2 = native.scaled(192 // 4, 64 // 4).matrix(homogeneous=True)
    np.testing.assert_allclose(sample.k_at(2).numpy(), expected_2, rtol=1e-6)
    # Frame order: slot 1 is the previous frame, i.e. the target of the previous example.
    torch.testing.assert_close(dataset[1].images[0][1], sample.images[0][0])


def _warp_error(batch, k, offset, flipped):
    pose = torch.eye(4).repeat(batch.k.shape[0], 1, 1)
    # Target camera points in the source camera: shifted back by the motion between them
    # (mirrored sideways in flipped examples).
    pose[:, 0, 3] = (1 if flipped else -1) * STEP_X_M * offset
    pose[:, 2, 3] = -STEP_Z_M * offset
    warped = synthesize_view(batch.image(offset), batch.depth_m, k, pose)
    return photometric_error(warped, batch.image(0))[:, :, 2:-2, 2:-2].mean().item()


@pytest.mark.parametrize('flip', [0.0, 1.0])
@pytest.mark.parametrize('crop', ['none', 'center'])
def test_ground_truth_warp_explains_the_target(toy_odometry, flip, crop):
    """With true depth and motion, view synthesis through the dataset's K beats the unwarped
    source by far, and beats the K of a dataset that forgot the flip or the crop."""
    aug = AugmentationConfig(flip_probability=flip, jitter_probability=0.0)
    config = _odometry(toy_odometry, augmentation=aug, crop=crop, height=64, width=128)
    batch = collate_samples([build_dataset(config)[i] for i in (1, 3)])
    wrong = []
    if flip:
        unflipped = batch.k.clone()
        unflipped[:, 0, 2] = 127 - unflipped[:, 0, 2]
        wrong.append(unflipped)
    if crop != 'none':
        uncropped = kitti_intrinsics(toy_odometry / 'sequences/00/calib.txt', 2, 320, 96)
        uncropped = uncropped.scaled(128, 64)
        uncropped = flip_intrinsics(uncropped) if flip else uncropped
        wrong.append(torch.from_numpy(uncropped.matrix(True)).float().expand(2, 4, 4))
    for offset in (-1, 1):
        error = _warp_error(batch, batch.k, offset, flip)
        identity = photometric_error(batch.image(offset), batch.image(0))[..., 2:-2, 2:-2]
        assert error < 0.4 * identity.mean().item()
        for k in wrong:
            assert error < 0.7 * _warp_error(batch, k, offset, flip)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_zoomed_examples_keep_the_geometry(toy_odometry, seed):
    """A zoomed example's K and depth label describe its window: the true-depth warp explains
    the target, and better than through the K of the same example unzoomed."""
    aug = AugmentationConfig(flip_probability=0.0, jitter_probability=0.0,
                             zoom_probability=1.0, max_zoom=2.0)
    config = _odometry(toy_odometry, augmentation=aug, crop='center', height=64, width=128)
    torch.manual_seed(seed)
    batch = collate_samples([build_dataset(config)[i] for i in (1, 3)])
    plain = collate_samples([build_dataset(_odometry(toy_odometry, crop='center', height=64,
                                                     width=128))[i] for i in (1, 3)])
    zoom = batch.k[:, 0, 0] / plain.k[:, 0, 0]  # the focal length grew with the zoom
    assert torch.all(zoom > 1.05) and torch.all(zoom < 2.0 * 1.02)
    for offset in (-1, 1):
        error = _warp_error(batch, batch.k, offset, False)
        identity = photometric_error(batch.image(offset), batch.image(0))[..., 2:-2, 2:-2]
        assert error < 0.4 * identity.mean().item()
        assert error < _warp_error(batch, plain.k, offset, False)


def test_zoom_box_stays_inside_and_keeps_the_aspect():
    generator = torch.Generator().manual_seed(0)
    box = (10, 5, 300, 100)
    for _ in range(200):
        x0, y0, w, h = zoom_box(box, 1.5, generator)
        assert 10 <= x0 and x0 + w <= 310 and 5 <= y0 and y0 + h <= 105
        assert 200 <= w <= 300 and 66 <= h <= 100 and abs(w / h - 3) < 0.05
    assert zoom_box(box, 1.0, generator) == box


@pytest.mark.parametrize('field, value', [('zoom_probability', 1.5), ('max_zoom', 0.9)])
def test_bad_zoom_settings_are_refused(toy_odometry, field, value):
    config = _odometry(toy_odometry, augmentation=AugmentationConfig(**{field: value}))
    with pytest.raises(ConfigError, match=field):
        config.validate()


def test_colour_jitter_only_on_network_copies(toy_odometry):
    aug = AugmentationConfig(flip_probability=0.0, jitter_probability=1.0)
    torch.manual_seed(0)
    jittered = build_dataset(_odometry(toy_odometry, augmentation=aug))[2]
    plain = build_dataset(_odometry(toy_odometry))[2]
    torch.testing.assert_close(jittered.images[0], plain.images[0])
    assert not torch.allclose(jittered.network_images, plain.network_images)


def test_validation_split_is_not_augmented(toy_odometry):
    aug = AugmentationConfig(flip_probability=1.0, jitter_probability=1.0)
    config = _odometry(toy_odometry, augmentation=aug, val_sequences=('00',))
    val = build_dataset(config, 'val')
    plain = build_dataset(_odometry(toy_odometry))
    torch.testing.assert_close(val[0].network_images, plain[0].network_images)
    assert build_dataset(_odometry(toy_odometry), 'val') is None


def test_static_frames_are_dropped(tmp_path, toy_odometry):
    root = tmp_path / 'static'
    shutil.copytree(toy_odometry, root)
    images = root / 'sequences/00/image_2'
    shutil.copy(images / '000003.png', images / '000004.png')  # the camera "stopped"
    dataset = build_dataset(_odometry(root, static_threshold=0.01))
    kept = {r.image_paths[0].name for r in dataset.records}
    assert kept == {'000001.png', '000002.png', '000005.png', '000006.png'}


def test_odometry_split_file(tmp_path, toy_odometry):
    split = tmp_path / 'odom.txt'
    split.write_text('0 3 l\n0 5 l\n')
    dataset = build_dataset(_odometry(toy_odometry, sequences=(), split_file=str(split)))
    assert [r.image_paths[0].name for r in dataset.records] == ['000003.png', '000005.png']
    split.write_text('0 7 l\n')  # frame 8 does not exist
    with pytest.raises(InputError, match='000008.png'):
        build_dataset(_odometry(toy_odometry, sequences=(), split_file=str(split)))
    split.write_text('seq00 3 l\n')
    with pytest.raises(InputError, match='sequence number'):
        build_dataset(_odometry(toy_odometry, sequences=(), split_file=str(split)))


def test_real_kitti_odometry_grey_sequence(shared_data):
    root = shared_data / 'kitti_odometry'
    config = DataConfig(kind='kitti_odometry', path=str(root), sequences=('06',), camera=0,
                        augmentation=NO_AUG)
    dataset = build_dataset(config)
    assert len(dataset) == 49
    sample = dataset[10]
    assert sample.images[0].shape == (3, 3, 192, 640)
    torch.testing.assert_close(sample.images[0][:, 0], sample.images[0][:, 2])  # grey as RGB
    native = kitti_intrinsics(root / 'sequences/06/calib.txt', 0, 1226, 370)
    np.testing.assert_allclose(sample.k.numpy(), native.scaled(640, 192).matrix(True), rtol=1e-6)
    with pytest.raises(InputError, match='image_0'):
        build_dataset(DataConfig(kind='kitti_odometry', path=str(root), sequences=('06',)))


def _write_raw_drive(root: Path, calib: Path, side_dir: str, frames: range) -> str:
    folder = '2011_09_26/2011_09_26_drive_0001_sync'
    (root / '2011_09_26').mkdir(parents=True, exist_ok=True)
    shutil.copy(calib, root / '2011_09_26' / 'calib_cam_to_cam.txt')
    image_dir = root / folder / side_dir / 'data'
    image_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in frames:
        pixels = rng.integers(0, 255, (375, 1242, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(image_dir / f'{i:010d}.png')
    return folder


def test_kitti_raw_split_and_calibration(tmp_path, shared_data):
    calib = shared_data / 'kitti_raw/2011_09_26_calib/2011_09_26/calib_cam_to_cam.txt'
    folder = _write_raw_drive(tmp_path, calib, 'image_03', range(4, 7))
    split = tmp_path / 'train_files.txt'
    split.write_text(f'{folder} 5 r\n\n')
    config = DataConfig(kind='kitti_raw', path=str(tmp_path), split_file=str(split),
                        augmentation=NO_AUG)
    dataset = build_dataset(config)
    record = dataset.records[0]
    assert [p.name for p in record.image_paths] == [f'{i:010d}.png' for i in (5, 4, 6)]
    assert record.image_paths[0].parent.parent.name == 'image_03'
    expected = kitti_intrinsics(calib, 3, 1242, 375).scaled(640, 192).matrix(True)
    np.testing.assert_allclose(dataset[0].k.numpy(), expected, rtol=1e-6)
    split.write_text(f'{folder} 5 x\n')
    with pytest.raises(InputError, match='train_files.txt:1'):
        build_dataset(config)
    split.write_text(f'{folder} 6 l\n')
    with pytest.raises(InputError, match='not found'):
        build_dataset(config)


def test_missing_neighbour_is_reported(tmp_path, shared_data):
    calib = shared_data / 'kitti_raw/2011_09_26_calib/2011_09_26/calib_cam_to_cam.txt'
    folder = _write_raw_drive(tmp_path, calib, 'image_02', range(4, 6))
    split = tmp_path / 'split.txt'
    split.write_text(f'{folder} 5 l\n')
    config = DataConfig(kind='kitti_raw', path=str(tmp_path), split_file=str(split))
    with pytest.raises(InputError, match='1 image file.*0000000006.png'):
        build_dataset(config)


def test_video_folder_with_normalised_intrinsics(tmp_path, toy_odometry):
    frames = tmp_path / 'robot'
    frames.mkdir()
    for i in range(5):  # natural order: frame2 before frame10
        shutil.copy(toy_odometry / f'sequences/00/image_2/{i:06d}.png', frames / f'f{i * 4}.png')
    (frames / 'intrinsics.yaml').write_text('normalized: true\nfx: 0.58\nfy: 1.92\ncx: 0.5\n'
                                            'cy: 0.5\n')
    config = DataConfig(kind='video_folder', path=str(frames), height=64, width=192,
                        augmentation=NO_AUG)
    dataset = build_dataset(config)
    assert [r.image_paths[0].name for r in dataset.records] == ['f4.png', 'f8.png', 'f12.png']
    k = dataset[0].k
    assert k[0, 0].item() == pytest.approx(0.58 * 192) and k[1, 2].item() == pytest.approx(32)
