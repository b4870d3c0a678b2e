"""training.data.depth_folders: a depth folder appears whole or not at all."""
import pytest

from training.data.depth_folders import depth_folder


def test_a_failed_write_keeps_the_folder_that_was_there(tmp_path):
    lidar = tmp_path / 'depth_2'
    lidar.mkdir()
    (lidar / '000000.png').write_bytes(b'lidar')
    with pytest.raises(RuntimeError, match='stopped'):
        with depth_folder(tmp_path, 2) as out:
            (out / '000000.png').write_bytes(b'half')
            raise RuntimeError('stopped')
    assert (lidar / '000000.png').read_bytes() == b'lidar'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['depth_2']

    with depth_folder(tmp_path, 2) as out:
        (out / '000001.png').write_bytes(b'new')
    assert sorted(p.name for p in lidar.iterdir()) == ['000001.png']  # replaced whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ['depth_2']
