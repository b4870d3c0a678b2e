"""RGB-D data: folder pairing and depth scales on the real sets in ../shared/data/rgbd, the NYU
labelled .mat layout on a synthetic HDF5 file, resizing, augmentation and errors."""
from pathlib import Path

import numpy as np
from PIL import Image
import pytest
import torch

from depth_ros.errors import ConfigError, InputError
from training.data.augmentation import AugmentationConfig
from training.data.rgbd import (
    NyuLabeledDataset,
    RgbdDataConfig,
    RgbdFolderDataset,
    build_rgbd_dataset,
    collate_rgbd,
    load_depth_raw,
    rgbd_folder_pairs,
)


# name, depth_scale (raw units per metre, from ../shared/README.md), examples, layout.
SETS = [('icl_nuim_5', 5000.0, 5), ('tum_like_5', 1000.0, 5), ('tum_fr1_pair', 5000.0, 2)]


@pytest.fixture(scope='module')
def rgbd(shared_data: Path) -> Path:
    path = shared_data / 'rgbd'
    if not path.is_dir():
        pytest.skip(f'RGB-D sets not found at {path}')
    return path


def _raw(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image).astype(np.int64)


@pytest.mark.parametrize('name,scale,count', SETS)
def test_real_sets_pair_colour_with_depth_of_the_same_frame(rgbd, name, scale, count):
    pairs = rgbd_folder_pairs(rgbd / name)
    assert len(pairs) == count
    for pair in pairs:
        stem = pair.depth_path.stem.removesuffix('_depth')
        assert pair.image_path.stem == stem and pair.image_path != pair.depth_path
    assert [p.image_path.stem for p in pairs] == [str(i) for i in range(1, count + 1)]


@pytest.mark.parametrize('name,scale,count', SETS)
def test_real_sets_native_size_metres_and_holes(rgbd, name, scale, count):
    dataset = RgbdFolderDataset(rgbd / name, scale)
    for i in range(len(dataset)):
        sample = dataset[i]
        assert sample.image.shape == (3, 480, 640) and sample.depth_m.shape == (1, 480, 640)
        raw = _raw(dataset.pairs[i].depth_path)
        # metres = raw / scale exactly, and every raw 0 (no measurement) stays 0.
        np.testing.assert_allclose(sample.depth_m[0].numpy() * scale, raw, rtol=1e-6)
        assert torch.equal(sample.depth_m[0] == 0, torch.from_numpy(raw == 0))
        valid = sample.depth_m[sample.depth_m > 0]
        # Indoor scenes: measurements within a Kinect's 0.3-12 m, typical depth 1-5 m.
        assert valid.numel() > 0.5 * sample.depth_m.numel()
        assert 0.3 < float(valid.min()) and float(valid.max()) < 12.0
        assert 1.0 < float(valid.median()) < 5.0


def test_tum_like_depth_has_holes_and_icl_has_none(rgbd):
    holes = {name: float((RgbdFolderDataset(rgbd / name, scale)[0].depth_m == 0).float().mean())
             for name, scale, _ in SETS}
    assert holes['icl_nuim_5'] == 0.0
    assert 0.1 < holes['tum_like_5'] < 0.5 and 0.1 < holes['tum_fr1_pair'] < 0.5


def test_resized_to_the_network_size_keeps_holes_and_range(rgbd):
    dataset = RgbdFolderDataset(rgbd / 'tum_like_5', 1000.0, height=64, width=96)
    batch = collate_rgbd([dataset[0], dataset[1]])
    assert batch.image.shape == (2, 3, 64, 96) and batch.depth_m.shape == (2, 1, 64, 96)
    assert batch.index.tolist() == [0, 1]
    assert 0.0 <= float(batch.image.min()) and float(batch.image.max()) <= 1.0
    native = dataset.depth_scale * batch.depth_m[0]
    raw = _raw(dataset.pairs[0].depth_path)
    # Nearest neighbour: every resized depth is one of the measured values (or a hole).
    assert set(native.round().long().unique().tolist()) <= set(np.unique(raw).tolist())
    assert 0.1 < float((batch.depth_m == 0).float().mean()) < 0.5


def test_flip_mirrors_image_and_depth_together(rgbd):
    plain = RgbdFolderDataset(rgbd / 'tum_fr1_pair', 5000.0, 64, 96)[0]
    aug = AugmentationConfig(flip_probability=1.0, jitter_probability=0.0)
    flipped = RgbdFolderDataset(rgbd / 'tum_fr1_pair', 5000.0, 64, 96, augmentation=aug)[0]
    assert torch.equal(flipped.image, plain.image.flip(-1))
    assert torch.equal(flipped.depth_m, plain.depth_m.flip(-1))


def test_build_from_config(rgbd):
    config = RgbdDataConfig(path=str(rgbd / 'icl_nuim_5'), height=64, width=96)
    config.validate()
    dataset = build_rgbd_dataset(config, 'train')
    assert len(dataset) == 5 and dataset[0].image.shape == (3, 64, 96)
    assert build_rgbd_dataset(config, 'val') is None
    with pytest.raises(ConfigError, match='multiples of 32'):
        RgbdDataConfig(path='x', height=60).validate()
    with pytest.raises(ConfigError, match='data.kind'):
        RgbdDataConfig(kind='kitti', path='x').validate()


def _write_png16(path: Path, array: np.ndarray) -> None:
    Image.fromarray(array.astype(np.uint16)).save(path)


def test_flat_layout_and_its_errors(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (8, 12, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / 'a.png')
    depth = np.arange(96, dtype=np.uint16).reshape(8, 12) * 100
    _write_png16(tmp_path / 'a_depth.png', depth)
    sample = RgbdFolderDataset(tmp_path, 1000.0)[0]
    np.testing.assert_array_equal(sample.depth_m[0].numpy(), depth / np.float32(1000.0))
    np.testing.assert_allclose(sample.image.permute(1, 2, 0).numpy() * 255, rgb, atol=1e-4)
    Image.fromarray(rgb).save(tmp_path / 'b.png')
    with pytest.raises(InputError, match='no depth image, e.g. b.png'):
        rgbd_folder_pairs(tmp_path)
    Image.fromarray(rgb[..., 0]).save(tmp_path / 'b_depth.png')  # 8-bit: not a depth image
    with pytest.raises(InputError, match='16-bit'):
        load_depth_raw(tmp_path / 'b_depth.png', 1000.0)
    with pytest.raises(InputError, match='not found'):
        rgbd_folder_pairs(tmp_path / 'missing')
    with pytest.raises(ConfigError, match='depth_scale'):
        RgbdFolderDataset(tmp_path, 0.0)


@pytest.mark.parametrize('seed', [0, 1])
def test_zoom_crops_image_and_depth_together(tmp_path, seed):
    """Colour ramps name each pixel's column and row, and so does its depth: after a zoom
    both still name the same pixel of the source, inside a window smaller than the frame."""
    rows, cols = np.mgrid[0:80, 0:120]
    rgb = np.stack([cols * 2, rows * 3, np.zeros_like(rows)], axis=-1).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / 'a.png')
    _write_png16(tmp_path / 'a_depth.png', ((cols + 1) * 100 + rows).astype(np.uint16))
    aug = AugmentationConfig(flip_probability=0.0, jitter_probability=0.0,
                             zoom_probability=1.0, max_zoom=2.0)
    torch.manual_seed(seed)
    sample = RgbdFolderDataset(tmp_path, 1.0, height=40, width=60, augmentation=aug)[0]
    raw = np.rint(sample.depth_m[0].numpy()).astype(np.int64)
    depth_col, depth_row = raw // 100 - 1, raw % 100
    image = sample.image.numpy() * 255
    inner = (slice(2, -2), slice(2, -2))  # the resampling filter's edge
    np.testing.assert_allclose(image[0][inner] / 2, depth_col[inner], atol=1.5)
    np.testing.assert_allclose(image[1][inner] / 3, depth_row[inner], atol=1.5)
    assert 60 <= depth_col.max() - depth_col.min() < 115


@pytest.mark.parametrize('field, value', [('max_zoom', 0.5), ('flip_probability', -0.1)])
def test_bad_augmentation_is_refused(field, value):
    config = RgbdDataConfig(path='any', augmentation=AugmentationConfig(**{field: value}))
    with pytest.raises(ConfigError, match=f'data.augmentation.{field}'):
        config.validate()


def test_depth_of_another_size_than_its_image_is_refused(tmp_path):
    (tmp_path / 'color').mkdir()
    (tmp_path / 'depth').mkdir()
    Image.fromarray(np.zeros((8, 12, 3), np.uint8)).save(tmp_path / 'color' / '0.png')
    _write_png16(tmp_path / 'depth' / '0.png', np.ones((8, 10)))
    with pytest.raises(InputError, match='depth is 10x8 but the image is 12x8'):
        RgbdFolderDataset(tmp_path, 1000.0)[0]


# A small NYU-like file: H != W so that a missed transposition cannot pass.
NYU_N, NYU_H, NYU_W = 3, 64, 96


@pytest.fixture(scope='module')
def nyu_file(tmp_path_factory):
    """(path, images [N,H,W,3] uint8, depths [N,H,W] float32) written as MATLAB v7.3 does:
    column-major arrays, so h5py sees images [N,3,W,H] and depths [N,W,H]."""
    h5py = pytest.importorskip('h5py', reason='h5py is not installed (training extra)')
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (NYU_N, NYU_H, NYU_W, 3), dtype=np.uint8)
    rows = np.arange(NYU_H, dtype=np.float32)[:, None]
    cols = np.arange(NYU_W, dtype=np.float32)[None, :]
    depths = np.stack([1.0 + 0.01 * rows + 0.02 * cols + n for n in range(NYU_N)])
    path = tmp_path_factory.mktemp('nyu') / 'nyu_depth_v2_labeled.mat'
    with h5py.File(path, 'w') as f:
        f['images'] = images.transpose(0, 3, 2, 1)
        f['depths'] = depths.transpose(0, 2, 1).astype(np.float32)
        f['labels'] = np.zeros((NYU_N, NYU_W, NYU_H), np.uint16)
    return path, images, depths.astype(np.float32)


def test_nyu_frames_are_transposed_back_to_height_by_width(nyu_file):
    path, images, depths = nyu_file
    dataset = NyuLabeledDataset(path)
    assert len(dataset) == NYU_N
    for n in range(NYU_N):
        sample = dataset[n]
        assert sample.image.shape == (3, NYU_H, NYU_W)
        assert sample.depth_m.shape == (1, NYU_H, NYU_W)
        np.testing.assert_allclose(sample.image.permute(1, 2, 0).numpy() * 255, images[n],
                                   atol=1e-4)
        np.testing.assert_array_equal(sample.depth_m[0].numpy(), depths[n])


def test_nyu_indices_resize_and_pickling(nyu_file):
    import pickle

    path, _, depths = nyu_file
    dataset = NyuLabeledDataset(path, height=32, width=32, indices=[2, 0], crop='center')
    sample = dataset[0]
    assert sample.image.shape == (3, 32, 32)
    assert set(np.unique(sample.depth_m.numpy())) <= set(np.unique(depths[2]))
    copy = pickle.loads(pickle.dumps(dataset))  # what spawned loader workers receive
    assert torch.equal(copy[1].depth_m, dataset[1].depth_m)


def test_nyu_errors(nyu_file, tmp_path):
    h5py = pytest.importorskip('h5py')
    path, _, _ = nyu_file
    with pytest.raises(InputError, match='out of range'):
        NyuLabeledDataset(path, indices=[NYU_N])
    with pytest.raises(InputError, match='not found'):
        NyuLabeledDataset(tmp_path / 'missing.mat')
    (tmp_path / 'v5.mat').write_bytes(b'MATLAB 5.0 MAT-file, not HDF5')
    with pytest.raises(InputError, match='HDF5'):
        NyuLabeledDataset(tmp_path / 'v5.mat')
    with h5py.File(tmp_path / 'other.mat', 'w') as f:
        f['images'] = np.zeros((1, 3, 4, 4), np.uint8)
    with pytest.raises(InputError, match='depths'):
        NyuLabeledDataset(tmp_path / 'other.mat')
