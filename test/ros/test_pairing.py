"""StampPairer: exact-stamp pairing with bounded queues (TimeSynchronizer-like), drops by cause."""
from depth_ros.ros.pairing import DUPLICATE_STAMP, NO_CAMERA_INFO, STATIC_AFTER, StampPairer


def test_info_first_then_image_pairs():
    pairer = StampPairer()
    assert pairer.add_info(100, 'info100').pair is None
    assert pairer.add_image(100, 'img100').pair == ('img100', 'info100')


def test_image_first_waits_for_its_info():
    pairer = StampPairer()
    assert pairer.add_image(200, 'img200').pair is None
    assert pairer.add_info(199, 'info199').pair is None
    assert pairer.add_info(200, 'info200').pair == ('img200', 'info200')


def test_several_images_wait_for_late_infos():
    # Reliable QoS repairs delay camera_info by several frames: every image still pairs.
    pairer = StampPairer(queue_size=5)
    for stamp in range(4):
        assert pairer.add_image(stamp, f'img{stamp}').pair is None
    pairs = [pairer.add_info(stamp, f'info{stamp}').pair for stamp in range(4)]
    assert pairs == [(f'img{s}', f'info{s}') for s in range(4)]
    assert sum(pairer.drops.values()) == 0 and pairer.paired == 4


def test_image_queue_is_bounded_and_overflow_is_counted():
    pairer = StampPairer(queue_size=3)
    dropped = []
    for stamp in range(5):
        dropped += pairer.add_image(stamp, stamp).dropped
    assert dropped == [(0, NO_CAMERA_INFO), (1, NO_CAMERA_INFO)]
    assert pairer.waiting_images() == 3 and pairer.drops[NO_CAMERA_INFO] == 2


def test_pairing_a_newer_stamp_gives_up_older_waiting_images():
    pairer = StampPairer(queue_size=10)
    pairer.add_image(1, 'a')
    pairer.add_image(2, 'b')
    result = pairer.add_info(2, 'i2')
    assert result.pair == ('b', 'i2') and result.unpaired_ns == [1]
    assert pairer.waiting_images() == 0


def test_duplicate_image_stamp_replaces_the_waiting_one():
    pairer = StampPairer()
    pairer.add_image(5, 'first')
    result = pairer.add_image(5, 'second')
    assert result.dropped == [(5, DUPLICATE_STAMP)]
    assert pairer.add_info(5, 'i5').pair == ('second', 'i5')


def test_reuse_info_pairs_with_the_latest_info_without_waiting():
    pairer = StampPairer(reuse_info=True)
    assert pairer.add_image(1, 'early').pair is None  # no info seen yet: it waits
    assert pairer.add_info(1, 'i1').pair == ('early', 'i1')
    assert pairer.add_image(7, 'img7').pair == ('img7', 'i1')
    pairer.add_info(8, 'i8')
    assert pairer.add_image(9, 'img9').pair == ('img9', 'i8')


def test_tolerance_picks_the_closest_info():
    pairer = StampPairer(tolerance_ns=10)
    for stamp in (80, 95, 130):
        pairer.add_info(stamp, f'info{stamp}')
    assert pairer.add_image(100, 'img').pair == ('img', 'info95')
    assert pairer.add_image(150, 'late').pair is None


def test_info_queue_is_bounded():
    pairer = StampPairer(queue_size=3)
    for stamp in range(10):
        pairer.add_info(stamp, stamp)
    assert pairer.add_image(0, 'old').pair is None
    assert pairer.add_image(9, 'new').pair == ('new', 9)


def test_reset_forgets_waiting_images_and_infos():
    pairer = StampPairer(reuse_info=True)
    pairer.add_info(1, 'i1')
    pairer.reset()
    assert pairer.add_image(2, 'img').pair is None


def test_a_longer_info_queue_keeps_infos_for_late_images():
    pairer = StampPairer(queue_size=2, info_queue_size=8)
    for stamp in range(8):
        pairer.add_info(stamp, f'i{stamp}')
    assert pairer.add_image(1, 'late').pair == ('late', 'i1')


def test_reuse_waits_after_a_change_until_the_camera_info_repeats():
    pairer = StampPairer(reuse_info=True)
    pairer.add_info(1, 'i1', content='K1')
    pairer.add_info(2, 'i2', content='K1')
    assert pairer.add_image(3, 'img3').pair == ('img3', 'i2')  # static: the latest stands in
    pairer.add_info(4, 'i4', content='K2')  # zoomed: no longer static
    assert pairer.info_changes == 1
    assert pairer.add_image(5, 'img5').pair is None  # waits for its own
    assert pairer.add_info(5, 'i5', content='K2').pair == ('img5', 'i5')
    assert STATIC_AFTER == 2 and pairer.add_image(6, 'img6').pair == ('img6', 'i5')
    assert (pairer.reused, pairer.paired, sum(pairer.drops.values())) == (2, 3, 0)


def test_a_single_latched_camera_info_is_reused_and_changing_ones_never_are():
    latched = StampPairer(reuse_info=True)
    latched.add_info(1, 'only', content='K')
    assert latched.add_image(50, 'img').pair == ('img', 'only')
    zoom = StampPairer(reuse_info=True)
    for stamp in range(5):  # a new focal length every frame
        zoom.add_info(stamp, f'i{stamp}', content=f'K{stamp}')
    assert zoom.add_image(9, 'img9').pair is None and zoom.info_changes == 4


def test_without_reuse_late_infos_are_waited_for_even_when_static():
    pairer = StampPairer(reuse_info=False)
    for stamp in range(3):
        pairer.add_info(stamp, f'i{stamp}', content='K')
    assert pairer.add_image(7, 'img7').pair is None
    assert pairer.add_info(7, 'i7', content='K').pair == ('img7', 'i7')
    assert pairer.reused == 0
