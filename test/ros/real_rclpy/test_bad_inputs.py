"""Every bad input of issue 14 (deliverable 6), one after another in one running node; after each,
good frames are still processed. Drops are counted under their cause."""
from __future__ import annotations

import math
import time

from harness import FRAME_ID, HEIGHT, SECOND, T0, WIDTH, K, wait_for
import numpy as np

from depth_ros.ros import codecs as conv


def _image(h, stamp, frame_id=FRAME_ID, width=WIDTH, height=HEIGHT, encoding='rgb8',
           step=None, size=None):
    step = width * 3 if step is None else step
    size = step * height if size is None else size
    pixels = np.random.default_rng(stamp % 1000).integers(0, 256, size, dtype=np.uint8)
    return h.types.Image(header=conv.make_header(h.types, stamp, frame_id), width=width,
                         height=height, encoding=encoding, step=step, data=pixels.tobytes())


def test_each_bad_input_is_dropped_by_cause_and_good_frames_follow(make_harness):
    h = make_harness()
    h.start()
    drops = h.node.inputs.drops
    nan_k = list(K)
    nan_k[0] = math.nan
    bad_inputs = [  # (what, cause, send(stamp))
        ('empty image frame_id', 'empty_frame_id',
         lambda s: h.send(s, image=_image(h, s, frame_id=''))),
        ('image of height 1', 'image_too_small',
         lambda s: h.send(s, image=_image(h, s, height=1))),
        ('image narrower than the stride', 'image_too_small',
         lambda s: h.send(s, image=_image(h, s, width=16))),
        ('unsupported encoding', 'bad_encoding',
         lambda s: h.send(s, image=_image(h, s, encoding='yuv422', step=WIDTH * 2))),
        ('data shorter than step x height', 'bad_image_layout',
         lambda s: h.send(s, image=_image(h, s, size=100))),
        ('non-finite intrinsics', 'bad_intrinsics',
         lambda s: h.info_pub.publish(h.camera_info(s, k=nan_k))),
        ('zero intrinsics (uncalibrated)', 'bad_intrinsics',
         lambda s: h.info_pub.publish(h.camera_info(s, k=[0.0] * 9))),
        ('camera_info without frame_id', 'empty_frame_id',
         lambda s: h.info_pub.publish(_blank_frame(h.camera_info(s)))),
    ]
    stamp = T0
    for what, cause, send in bad_inputs:
        before = drops[cause]
        stamp += SECOND // 10
        send(stamp)
        assert wait_for(lambda c=cause, b=before: drops[c] == b + 1), (what, dict(drops))
        for _ in range(2):  # good frames right after: still processed
            stamp += SECOND // 10
            h.send(stamp, seed=stamp % 97)
            h.wait_output('depth/image', stamp)
        print(f'bad input {what!r}: dropped as {cause}; the next good frames were processed')
    time.sleep(0.2)
    expected = {'empty_frame_id': 2, 'image_too_small': 2, 'bad_encoding': 1,
                'bad_image_layout': 1, 'bad_intrinsics': 2}
    assert {c: drops[c] for c in expected} == expected, dict(drops)
    print(f'drops by cause after {len(bad_inputs)} bad inputs: {dict(drops)}; '
          f'processed {h.node.stats["processed"]}')


def _blank_frame(info):
    info.header.frame_id = ''
    return info
