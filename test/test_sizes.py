"""Input sizes: 'WxH' text (width first, as image sizes are written) and the stride check."""
import pytest

from depth_ros.errors import ConfigError
from depth_ros.sizes import NETWORK_STRIDE, check_input_size, parse_input_size, parse_size


@pytest.mark.parametrize('text, expected', [('640x192', (192, 640)), (' 512X160 ', (160, 512)),
                                            ('33x7', (7, 33))])
def test_width_comes_first(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize('text, reason', [('640', 'not WxH'), ('640x192x3', 'not WxH'),
                                          ('axb', 'not WxH'), ('0x192', 'must be positive'),
                                          ('640x-192', 'must be positive')])
def test_malformed_sizes_are_refused_with_the_option_named(text, reason):
    with pytest.raises(ConfigError, match=reason) as info:
        parse_size(text, '--size')
    assert str(info.value).startswith('--size ')


def test_the_stride_check_names_both_sides_width_first():
    check_input_size(160, 512)
    with pytest.raises(ConfigError, match=rf'512x150 \(WxH\).*multiples of {NETWORK_STRIDE}'):
        check_input_size(150, 512)
    with pytest.raises(ConfigError, match='multiples'):
        check_input_size(0, 512)


def test_an_input_size_is_parsed_and_checked_in_one_call():
    assert parse_input_size('512x160', '--input-size') == (160, 512)
    with pytest.raises(ConfigError, match=r'^--input-size 512x150 \(WxH\)'):
        parse_input_size('512x150', '--input-size')
