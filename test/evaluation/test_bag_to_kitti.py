"""bag-to-kitti: bags written by kitti-to-bag (and by hand: distortion, compressed images, a
changing camera) read back into the KITTI layout and compared with what went in."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from depth_ros.cli import main
from depth_ros.errors import InputError, OutputError
from depth_ros.evaluation.bag_io import BagWriter, typestore
from depth_ros.evaluation.bag_to_kitti import bag_to_kitti, default_info_topic
from depth_ros.evaluation.kitti_sequence import load_kitti_sequence
from depth_ros.evaluation.kitti_to_bag import CAMERA_INFO_TOPIC, IMAGE_TOPIC, kitti_to_bag
from depth_ros.geometry.intrinsics import Intrinsics, kitti_intrinsics
from depth_ros.inference.image_io import read_image
from depth_ros.ros.codecs import (
    MsgTypes,
    intrinsics_to_camera_info,
    make_header,
    rgb_to_image,
)


P2 = np.array([[700.0, 0.0, 48.5, 46.9], [0.0, 690.0, 16.25, 0.1], [0.0, 0.0, 1.0, 0.006]])
INTR = Intrinsics(fx=70.0, fy=70.0, cx=47.5, cy=15.5, width=96, height=32)


def _kitti_sequence(root: Path, frames: int = 6) -> Path:
    seq = root / 'sequences' / '00'
    (seq / 'image_2').mkdir(parents=True)
    rng = np.random.default_rng(3)
    for i in range(frames):
        Image.fromarray(rng.integers(0, 256, (32, 96, 3), dtype=np.uint8)).save(
            seq / 'image_2' / f'{i:06d}.png')
    eye = ' '.join(f'{v:.12e}' for v in np.eye(3, 4).ravel())
    (seq / 'calib.txt').write_text(f'P0: {eye}\nP1: {eye}\nP2: '
                                   + ' '.join(f'{v:.12e}' for v in P2.ravel()) + '\n')
    np.savetxt(seq / 'times.txt', np.arange(frames) * 0.1037 + 0.5, fmt='%.6e')
    return seq


def _pixels(seq: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(p)) for p in sorted((seq / 'image_2').glob('*.png'))]


def test_a_kitti_sequence_survives_the_round_trip_through_a_bag(tmp_path):
    seq = _kitti_sequence(tmp_path / 'kitti')
    kitti_to_bag(seq, tmp_path / 'bag')
    summary = bag_to_kitti(tmp_path / 'bag', IMAGE_TOPIC, tmp_path / 'out', name='drive')
    out = tmp_path / 'out' / 'sequences' / 'drive'
    assert summary.sequence_dir == out and summary.frames == 6 and not summary.rectified
    for original, exported in zip(_pixels(seq), _pixels(out), strict=True):
        np.testing.assert_array_equal(exported, original)  # lossless both ways
    back = kitti_intrinsics(out / 'calib.txt', 2, 96, 32)
    assert (back.fx, back.fy, back.cx, back.cy) == (700.0, 690.0, 48.5, 16.25)
    np.testing.assert_allclose(np.loadtxt(out / 'times.txt'), np.arange(6) * 0.1037, atol=1e-9)
    # What the training mix and the benchmarks read.
    loaded = load_kitti_sequence(out)
    assert len(loaded) == 6 and loaded.camera == 2 and loaded.stamps_source == 'times.txt'
    assert not (tmp_path / 'out.partial').exists()


def test_every_start_and_max_frames_pick_the_images(tmp_path):
    seq = _kitti_sequence(tmp_path / 'kitti')
    kitti_to_bag(seq, tmp_path / 'bag')
    bag_to_kitti(tmp_path / 'bag', IMAGE_TOPIC, tmp_path / 'out', start=1, every=2, max_frames=2)
    out = tmp_path / 'out' / 'sequences' / 'robot'
    originals = _pixels(seq)
    exported = _pixels(out)
    assert len(exported) == 2
    np.testing.assert_array_equal(exported[0], originals[1])
    np.testing.assert_array_equal(exported[1], originals[3])
    np.testing.assert_allclose(np.loadtxt(out / 'times.txt'), [0.0, 2 * 0.1037], atol=1e-9)


def _write_camera_bag(bag: Path, images: list[np.ndarray], infos: list, compressed=False):
    store = typestore()
    types = MsgTypes.from_typestore(store)
    with BagWriter(bag) as writer:
        for i, (rgb, info) in enumerate(zip(images, infos, strict=True)):
            stamp = 1_700_000_000 * 10**9 + i * 10**8
            header = make_header(types, stamp, 'camera')
            if compressed:
                import cv2
                ok, data = cv2.imencode('.png', rgb[..., ::-1])
                assert ok
                msg = store.types['sensor_msgs/msg/CompressedImage'](
                    header=header, format='rgb8; png compressed bgr8', data=data.ravel())
                writer.write('/cam/image_raw/compressed', stamp, msg)
            else:
                writer.write('/cam/image_raw', stamp, rgb_to_image(types, rgb, header))
            # The camera_info after its image, as some drivers record it.
            writer.write('/cam/camera_info', stamp + 1000,
                         dataclasses.replace(info, header=header))


def _info(d=(0.0,) * 5, intr: Intrinsics = INTR):
    types = MsgTypes.from_typestore(typestore())
    info = intrinsics_to_camera_info(types, intr, make_header(types, 0, 'camera'))
    return dataclasses.replace(info, d=np.asarray(d, dtype=np.float64))


def _smooth_images(count: int) -> list[np.ndarray]:
    y, x = np.mgrid[0:32, 0:96]
    return [np.stack([(x * 5 + k) % 256, (y * 7) % 256, (x + y) % 256], -1).astype(np.uint8)
            for k in range(count)]


def test_compressed_images_and_the_default_camera_info_topic(tmp_path):
    images = _smooth_images(3)
    _write_camera_bag(tmp_path / 'bag', images, [_info()] * 3, compressed=True)
    assert default_info_topic('/cam/image_raw/compressed') == '/cam/camera_info'
    bag_to_kitti(tmp_path / 'bag', '/cam/image_raw/compressed', tmp_path / 'out')
    for original, exported in zip(images, _pixels(tmp_path / 'out' / 'sequences' / 'robot'),
                                  strict=True):
        np.testing.assert_array_equal(exported, original)  # PNG payload: lossless


def test_distorted_frames_are_refused_or_rectified(tmp_path):
    import cv2

    d = (-0.4, 0.1, 0.002, -0.002, 0.0)
    images = _smooth_images(2)
    _write_camera_bag(tmp_path / 'bag', images, [_info(d)] * 2)
    with pytest.raises(InputError, match='--rectify'):
        bag_to_kitti(tmp_path / 'bag', '/cam/image_raw', tmp_path / 'out')
    assert not (tmp_path / 'out').exists() and not (tmp_path / 'out.partial').exists()
    bag_to_kitti(tmp_path / 'bag', '/cam/image_raw', tmp_path / 'out', rectify=True)
    k = INTR.matrix()
    # OpenCV's own one-call undistortion onto the same camera matrix (P = [K | 0]).
    expected = cv2.undistort(images[0], k, np.asarray(d), newCameraMatrix=k)
    exported = _pixels(tmp_path / 'out' / 'sequences' / 'robot')[0]
    inner = (slice(4, -4), slice(8, -8))  # the border, where the maps leave the image

    def error(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(a[inner].astype(int) - b[inner].astype(int)).mean())

    assert error(exported, expected) < 1.0 and error(exported, expected) < 0.2 * error(
        exported, images[0])
    _write_camera_bag(tmp_path / 'no_p', images, [dataclasses.replace(
        _info(d), p=np.zeros(12))] * 2)
    with pytest.raises(InputError, match='P = 0'):
        bag_to_kitti(tmp_path / 'no_p', '/cam/image_raw', tmp_path / 'out_no_p', rectify=True)
    bag_to_kitti(tmp_path / 'bag', '/cam/image_raw', tmp_path / 'raw', allow_distorted=True)
    np.testing.assert_array_equal(_pixels(tmp_path / 'raw' / 'sequences' / 'robot')[1],
                                  images[1])


def test_a_camera_that_changes_mid_bag_leaves_nothing_behind(tmp_path):
    other = dataclasses.replace(INTR, fx=80.0)
    _write_camera_bag(tmp_path / 'bag', _smooth_images(3),
                      [_info(), _info(intr=other), _info(intr=other)])
    with pytest.raises(InputError, match='differs from the first'):
        bag_to_kitti(tmp_path / 'bag', '/cam/image_raw', tmp_path / 'out')
    assert not (tmp_path / 'out').exists() and not (tmp_path / 'out.partial').exists()
    # The first image alone comes before the change.
    bag_to_kitti(tmp_path / 'bag', '/cam/image_raw', tmp_path / 'two', max_frames=1)
    assert len(_pixels(tmp_path / 'two' / 'sequences' / 'robot')) == 1
    with pytest.raises(OutputError, match='exists'):
        bag_to_kitti(tmp_path / 'bag', '/cam/image_raw', tmp_path / 'two')
    with pytest.raises(InputError, match='no topic /cam/nothing'):
        bag_to_kitti(tmp_path / 'bag', '/cam/nothing', tmp_path / 'three')


def test_real_kitti_frames_through_the_cli(tmp_path, shared_data, copy_kitti_frames, capsys):
    # The real dev drive's JPEG frames (colour, 1242x375), three of them.
    source = (shared_data / 'real' / 'dev' / 'kitti_raw_0926_0005' / 'sequences'
              / '0926_0005')
    if not source.is_dir():
        pytest.skip(f'{source} not found')
    seq = copy_kitti_frames(source, tmp_path / 'kitti' / 'sequences' / 'dev', frames=3)
    assert main(['kitti-to-bag', '--sequence-dir', str(seq), '--out', str(tmp_path / 'bag')]) == 0
    assert main(['bag-to-kitti', '--bag', str(tmp_path / 'bag'), '--image-topic', IMAGE_TOPIC,
                 '--info-topic', CAMERA_INFO_TOPIC, '--out', str(tmp_path / 'out'),
                 '--name', 'six']) == 0
    printed = capsys.readouterr().out
    assert 'sequence_dir: ' in printed and 'camera: 2' in printed
    loaded = load_kitti_sequence(seq)
    exported = load_kitti_sequence(tmp_path / 'out' / 'sequences' / 'six')
    for a, b in zip(loaded.image_paths, exported.image_paths, strict=True):
        np.testing.assert_array_equal(read_image(b), read_image(a))  # the decoded JPEG
    np.testing.assert_allclose(exported.stamps_ns - exported.stamps_ns[0],
                               loaded.stamps_ns - loaded.stamps_ns[0], atol=1000)
    original = kitti_intrinsics(loaded.calib_path, loaded.camera, 1242, 375)
    back = kitti_intrinsics(exported.calib_path, 2, 1242, 375)
    assert (back.fx, back.cx, back.cy) == pytest.approx((original.fx, original.cx, original.cy))
    assert main(['bag-to-kitti', '--bag', str(tmp_path / 'bag'), '--image-topic', IMAGE_TOPIC,
                 '--out', str(tmp_path / 'out')]) == 2  # exists: an error, not a traceback
