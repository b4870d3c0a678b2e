"""Colour maps: known end colours, shape and invalid pixels, and matplotlib's tables."""
import numpy as np
import pytest

from depth_ros.colormaps import colorize_depth, colorize_inv_depth, magma_table, turbo_table


def test_colorize_depth():
    depth = np.array([[0.5, 1.0, 10.0, 100.0, np.nan]], np.float32)
    rgb = colorize_depth(depth, 1.0, 100.0)
    assert rgb.shape == (1, 5, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[0, 0], rgb[0, 1])   # clipped to the near limit
    np.testing.assert_array_equal(rgb[0, 4], [0, 0, 0])
    assert rgb[0, 1, 0] > rgb[0, 1, 2] and rgb[0, 2, 2] > rgb[0, 2, 0]   # near red, far blue


def test_colorize_inv_depth_near_is_bright_and_invalid_black():
    inv = np.array([[0.01, 0.1, 1.0, np.nan, np.inf]], np.float32)
    rgb = colorize_inv_depth(inv, vmax=1.0)
    np.testing.assert_array_equal(rgb[0, 0], magma_table()[0])
    np.testing.assert_array_equal(rgb[0, 2], magma_table()[255])
    np.testing.assert_array_equal(rgb[0, 3:], 0)
    assert rgb[0, 2].sum() > rgb[0, 1].sum() > rgb[0, 0].sum()


def test_tables_are_read_only_and_built_once():
    for table in (turbo_table(), magma_table()):
        assert table.shape == (256, 3) and table.dtype == np.uint8
        with pytest.raises(ValueError):
            table[0, 0] = 1
    assert turbo_table() is turbo_table()


def test_magma_ends_are_the_published_colours():
    # magma's first and last entries (matplotlib _cm_listed: 0.001462 0.000466 0.013866 and
    # 0.987053 0.991438 0.749504) times 255.
    np.testing.assert_array_equal(magma_table()[0], [0, 0, 4])
    np.testing.assert_array_equal(magma_table()[255], [252, 253, 191])


@pytest.mark.parametrize('name, table', [('magma', magma_table), ('turbo', turbo_table)])
def test_tables_match_matplotlib(name, table):
    colormaps = pytest.importorskip('matplotlib').colormaps
    if name not in colormaps:
        pytest.skip(f'this matplotlib has no {name}')
    reference = np.rint(colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255)
    # 17 samples interpolated linearly: within a few levels of 255.
    assert np.abs(table().astype(int) - reference).max() <= (3 if name == 'magma' else 7)
