"""StampPairer: image/camera_info pairing by stamp in either order, bounded memory."""
from depth_ros.ros.pairing import StampPairer


def test_info_first_then_image_pairs():
    pairer = StampPairer()
    assert pairer.add_info(100, 'info100').pair is None
    assert pairer.add_image(100, 'img100').pair == ('img100', 'info100')


def test_image_first_waits_for_its_info():
    pairer = StampPairer()
    assert pairer.add_image(200, 'img200').pair is None
    assert pairer.add_info(199, 'info199').pair is None
    assert pairer.add_info(200, 'info200').pair == ('img200', 'info200')


def test_missing_info_is_reported_when_a_newer_image_arrives():
    pairer = StampPairer()
    pairer.add_image(1, 'a')
    result = pairer.add_image(2, 'b')
    assert result.pair is None and result.unpaired_ns == [1]
    assert pairer.add_info(2, 'i2').pair == ('b', 'i2')


def test_tolerance_picks_the_closest_info():
    pairer = StampPairer(tolerance_ns=10)
    for stamp in (80, 95, 130):
        pairer.add_info(stamp, f'info{stamp}')
    assert pairer.add_image(100, 'img').pair == ('img', 'info95')
    assert pairer.add_image(150, 'late').pair is None


def test_info_cache_is_bounded():
    pairer = StampPairer(max_infos=3)
    for stamp in range(10):
        pairer.add_info(stamp, stamp)
    assert pairer.add_image(0, 'old').pair is None
    assert pairer.add_image(9, 'new').pair == ('new', 9)


def test_reset_forgets():
    pairer = StampPairer()
    pairer.add_info(5, 'i')
    pairer.reset()
    assert pairer.add_image(5, 'img').pair is None
