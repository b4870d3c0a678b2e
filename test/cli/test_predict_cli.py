"""`depth-ros predict` / `import-monodepth2`: the documented flow and one-line errors."""
import subprocess
import sys

import numpy as np
import pytest

from depth_ros.cli import SUBCOMMANDS, build_parser


def depth_ros(*args, cwd=None):
    return subprocess.run([sys.executable, '-m', 'depth_ros.cli', *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_one_line_error(proc, fragment):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in proc.stderr, proc.stderr
    assert fragment in lines[0]


@pytest.fixture(scope='module')
def imported(md2_reference, tmp_path_factory):
    out = tmp_path_factory.mktemp('cli') / 'md2.safetensors'
    proc = depth_ros('import-monodepth2', md2_reference / 'weights_resnet18_random', '--out', out)
    assert proc.returncode == 0, proc.stderr
    return out


def test_every_subcommand_has_help():
    parser = build_parser()
    names = [a for a in parser._subparsers._group_actions[0].choices]
    assert len(names) >= 3
    for name in names:
        proc = depth_ros(name, '--help')
        assert proc.returncode == 0 and 'usage' in proc.stdout, (name, proc.stderr)
    assert set(SUBCOMMANDS) >= {'predict', 'import_monodepth2'}


def test_import_then_predict_writes_full_resolution_depth(imported, shared_data, tmp_path):
    frame = shared_data / 'frames' / 'kitti_raw_color_1242x375.png'
    proc = depth_ros('predict', frame, '--weights', imported, '--out', tmp_path)
    assert proc.returncode == 0, proc.stderr
    depth = np.load(tmp_path / 'kitti_raw_color_1242x375_depth.npy')
    assert depth.shape == (375, 1242) and depth.dtype == np.float32
    from PIL import Image
    with Image.open(tmp_path / 'kitti_raw_color_1242x375_depth.png') as im:
        assert im.size == (1242, 375) and im.mode == 'RGB'



def test_flip_average_flag_reaches_the_predictor(imported, shared_data, tmp_path):
    from depth_ros.inference import Predictor
    from depth_ros.inference.image_io import read_image

    frame = shared_data / 'frames' / 'street_638x235.jpg'
    proc = depth_ros('predict', frame, '--weights', imported, '--out', tmp_path,
                     '--backend', 'torch', '--flip-average')
    assert proc.returncode == 0, proc.stderr
    expected = Predictor.from_checkpoint(imported, flip_average=True).predict(read_image(frame))
    np.testing.assert_allclose(np.load(tmp_path / 'street_638x235_depth.npy'),
                               expected.depth_m, rtol=1e-5)


def test_input_size_flag_reaches_the_predictor(imported, shared_data, tmp_path):
    from depth_ros.inference import Predictor
    from depth_ros.inference.image_io import read_image

    frame = shared_data / 'frames' / 'street_638x235.jpg'
    proc = depth_ros('predict', frame, '--weights', imported, '--out', tmp_path,
                     '--backend', 'torch', '--input-size', '320x128')
    assert proc.returncode == 0, proc.stderr
    expected = Predictor.from_checkpoint(imported, input_size=(128, 320))
    np.testing.assert_allclose(np.load(tmp_path / 'street_638x235_depth.npy'),
                               expected.predict(read_image(frame)).depth_m, rtol=1e-5)
    bad = depth_ros('predict', frame, '--weights', imported, '--out', tmp_path,
                    '--input-size', '320x100')
    assert_one_line_error(bad, '--input-size 320x100 (WxH): both sides must be positive')

def test_predict_folder(imported, shared_data, tmp_path):
    src = tmp_path / 'in'
    src.mkdir()
    for name in ('street_638x235.jpg', 'kitti_odometry_color_1241x376.png'):
        (src / name).write_bytes((shared_data / 'frames' / name).read_bytes())
    (src / 'notes.txt').write_text('ignored: not an image suffix')
    proc = depth_ros('predict', src, '--weights', imported, '--out', tmp_path / 'o')
    assert proc.returncode == 0, proc.stderr
    assert np.load(tmp_path / 'o' / 'street_638x235_depth.npy').shape == (235, 638)


def test_error_cases_print_one_line(imported, shared_data, tmp_path):
    frame = shared_data / 'frames' / 'kitti_raw_color_1242x375.png'
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'fake.png').write_text('not an image')
    (tmp_path / 'corrupt.safetensors').write_bytes(b'\x07' * 100)
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    cases = [
        (('predict', frame, '--weights', tmp_path / 'none.safetensors'), 'not found'),
        (('predict', frame, '--weights', tmp_path / 'corrupt.safetensors'), 'not a valid'),
        (('predict', frame, '--weights', imported, '--arch', 'resnet50'), "not 'resnet50'"),
        (('predict', tmp_path / 'fake.png', '--weights', imported), 'not a readable image'),
        (('predict', tmp_path / 'empty', '--weights', imported), 'contains no images'),
        (('predict', frame, '--weights', imported, '--out', blocker / 'sub'), 'cannot create'),
        (('import-monodepth2', tmp_path / 'empty', '--out', tmp_path / 'x.st'), 'encoder.pth'),
    ]
    for args, fragment in cases:
        assert_one_line_error(depth_ros(*args, '--out', tmp_path / 'ok')
                              if '--out' not in args and args[0] == 'predict'
                              else depth_ros(*args), fragment)

