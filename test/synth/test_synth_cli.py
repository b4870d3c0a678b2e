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


@pytest.mark.parametrize('workers, rays', [('1', None), ('2', '3'), ('1', '1')])
def test_writes_a_supersampled_sequence(tmp_path, workers, rays):
    """--supersample K (3 when not given: the world renders anti-aliased by default): the
    written frames are render_sequence's frames with K x K rays (PNG is lossless; the depth
    within its 1/256 m encoding), in one process or two, and synth.json says K."""
    import json

    import numpy as np
    from PIL import Image

    from depth_ros.synth import render_sequence
    from depth_ros.synth.writer import decode_depth

    out, k = tmp_path / workers, int(rays or 3)
    assert main(['synth', '--out', str(out), '--seed', '4', '--width', '160', '--height', '48',
                 '--workers', workers, '--no-progress', '--frames', '3',
                 *(['--supersample', rays] if rays else [])]) == 0
    folder = out / 'sequences' / '00'
    for i, frame in enumerate(render_sequence(4, 3, 160, 48, supersample=k)):
        np.testing.assert_array_equal(np.asarray(Image.open(folder / 'image_2' / f'{i:06d}.png')),
                                      frame.rgb)
        depth = decode_depth(np.asarray(Image.open(folder / 'depth_2' / f'{i:06d}.png')))
        np.testing.assert_allclose(depth, frame.depth_m, atol=1 / 256)
    assert json.loads((folder / 'synth.json').read_text())['supersample'] == k


@pytest.mark.parametrize('extra, message', [
    (('--frames', '1'), 'frames must be at least 2'),
    (('--frames', '3', '--supersample', '2'), 'supersample must be an odd number'),
    (('--frames', '3', '--width', '4'), 'image size 4x48 is out of range'),
    (('--frames', '3', '--camera-height', '0'), 'camera height'),
])
def test_bad_values_are_one_line_errors(tmp_path, capsys, extra, message):
    assert _synth(tmp_path, *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith('depth-ros synth: error: ') and message in err
    assert err.count('\n') == 1 and 'Traceback' not in err
    assert not (tmp_path / 'sequences').exists()  # refused before anything is written


def test_unwritable_output_is_a_one_line_error(tmp_path, capsys):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    assert _synth(blocker, '--frames', '2') == 2
    err = capsys.readouterr().err
    assert 'cannot write the sequence' in err and err.count('\n') == 1
