"""benchmarks/pack_real_mix.py: the real sequences made small for the GPU machine."""
from pathlib import Path
import sys

import numpy as np
from PIL import Image

from depth_ros.geometry.intrinsics import Intrinsics, kitti_intrinsics


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))

from pack_real_mix import main, scale_calib, shrink_sparse_depth  # noqa: E402


CALIB = ('P0: 7.215377e+02 0 6.095593e+02 4.485728e+01 0 7.215377e+02 1.728540e+02 '
         '2.163791e-01 0 0 1 2.745884e-03\n')


def test_calibration_scales_as_the_intrinsics_of_a_resized_view():
    k = Intrinsics(721.5377, 721.5377, 609.5593, 172.854, 1242, 375).scaled(828, 250)
    p = np.array(scale_calib(CALIB, 828 / 1242, 250 / 375).split(':')[1].split(), float)
    assert np.allclose(p[[0, 5, 2, 6]], [k.fx, k.fy, k.cx, k.cy], rtol=1e-9)
    assert np.isclose(p[3], 4.485728e+01 * 828 / 1242) and p[11] == 2.745884e-03


def test_sparse_depth_keeps_every_return_and_the_nearest_where_two_meet():
    depth = np.zeros((6, 9), np.uint16)
    depth[0, 0], depth[0, 1] = 500, 300   # both land on pixel (0, 0) at scale 1/3
    depth[5, 8] = 700                     # the last pixel stays the last
    depth[3, 4] = 900
    small = shrink_sparse_depth(depth, 3, 2)
    assert small.dtype == np.uint16
    assert small[0, 0] == 300 and small[1, 2] == 700 and small[1, 1] == 900
    assert np.count_nonzero(small) == 3


def test_a_packed_sequence_reads_back_with_scaled_intrinsics(tmp_path):
    seq = tmp_path / 'mix' / 'sequences' / 'drive'
    (seq / 'image_2').mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (375, 1242, 3), np.uint8)).save(
            seq / 'image_2' / f'{i:06d}.png')
    (seq / 'calib.txt').write_text(CALIB.replace('P0', 'P2'))
    assert main(['--mix', str(tmp_path / 'mix'), '--out', str(tmp_path / 'packed'),
                 '--sequences', 'drive']) == 0
    out = tmp_path / 'packed' / 'sequences' / 'drive'
    assert sorted(p.name for p in (out / 'image_2').iterdir()) == ['000000.jpg', '000001.jpg']
    assert Image.open(out / 'image_2' / '000000.jpg').size == (828, 250)
    k = kitti_intrinsics(out / 'calib.txt', 2, 828, 250)
    assert np.isclose(k.fx, 721.5377 * 828 / 1242) and np.isclose(k.cy, 172.854 * 250 / 375)
    assert not (tmp_path / 'packed.partial').exists()
