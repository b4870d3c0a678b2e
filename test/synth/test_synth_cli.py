"""`depth-ros synth`: a thin command over generate_sequence; user errors are one line."""
from __future__ import annotations

import pytest

from depth_ros.cli import main


def _synth(out, *extra: str) -> int:
    return main(['synth', '--out', str(out), '--seed', '4', '--width', '160', '--height', '48',
                 '--workers', '1', '--no-progress', *extra])


def test_writes_a_sequence(tmp_path, capsys):
    assert _synth(tmp_path, '--frames', '3', '--sequence', '07') == 0
    assert len(list((tmp_path / 'sequences' / '07' / 'image_2').glob('*.png'))) == 3
    assert (tmp_path / 'poses' / '07.txt').is_file()
    assert 'wrote 3 frames 160x48 (seed 4)' in capsys.readouterr().out


@pytest.mark.parametrize('extra, message', [
    (('--frames', '1'), 'frames must be at least 2'),
    (('--frames', '3', '--width', '4'), 'image size 4x48 is out of range'),
    (('--frames', '3', '--camera-height', '0'), 'camera height'),
])
def test_bad_values_are_one_line_errors(tmp_path, capsys, extra, message):
    assert _synth(tmp_path, *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith('depth-ros synth: error: ') and message in err
    assert err.count('\n') == 1 and 'Traceback' not in err


def test_unwritable_output_is_a_one_line_error(tmp_path, capsys):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    assert _synth(blocker, '--frames', '2') == 2
    err = capsys.readouterr().err
    assert 'cannot write the sequence' in err and err.count('\n') == 1
