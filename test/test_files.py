"""depth_ros.files: a file is replaced whole or left as it was, with a new file's permissions."""
import pytest

from depth_ros.errors import OutputError
from depth_ros.files import replaced_whole


def _fresh_mode(folder):
    """The permissions this process gives a file it creates (its umask): the reference."""
    probe = folder / 'probe'
    probe.write_bytes(b'')
    return probe.stat().st_mode & 0o777


def test_the_file_appears_whole_with_a_new_files_permissions(tmp_path):
    target = tmp_path / 'out' / 'weights.bin'  # the folder is created
    with replaced_whole(target) as partial:
        assert partial.parent == target.parent and not target.exists()
        partial.write_bytes(b'new')
        partial.chmod(0o600)  # as safetensors' writer does
    assert target.read_bytes() == b'new'
    assert target.stat().st_mode & 0o777 == _fresh_mode(tmp_path)
    assert [p.name for p in target.parent.iterdir()] == ['weights.bin']


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path):
    target = tmp_path / 'weights.bin'
    target.write_bytes(b'old')
    with pytest.raises(RuntimeError, match='writer broke'):
        with replaced_whole(target) as partial:
            partial.write_bytes(b'half')
            raise RuntimeError('writer broke')
    assert target.read_bytes() == b'old'
    assert [p.name for p in tmp_path.iterdir()] == ['weights.bin']


def test_a_folder_that_cannot_be_made_is_an_output_error(tmp_path):
    (tmp_path / 'file').write_bytes(b'')
    with pytest.raises(OutputError, match='cannot write .*file/weights.bin'):
        with replaced_whole(tmp_path / 'file' / 'weights.bin'):
            pass
