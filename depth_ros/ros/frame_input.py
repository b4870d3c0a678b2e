"""From camera messages to (rgb, intrinsics): checks, decoding, pairing, rectification, drops.

No rclpy here: the node hands messages in and gets `Frame`s out, and logs through the two
callables it passes. Every dropped message is counted under its cause (in `drops` and in the
diagnostics) and reported at most once per cause per `period_s` (`CauseLimiter`).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
import time
from typing import Any

import numpy as np

from depth_ros.errors import InputError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.geometry.rectify import RawCamera, Rectifier
from depth_ros.ros import codecs
from depth_ros.ros.codecs.compressed import compressed_to_image
from depth_ros.ros.diagnostics import DiagnosticsCollector
from depth_ros.ros.input_checks import (
    CauseLimiter,
    check_camera_info,
    check_compressed,
    check_image,
    distortion_warning,
)
from depth_ros.ros.pairing import NO_CAMERA_INFO, PairResult, StampPairer
from depth_ros.sizes import NETWORK_STRIDE


def camera_info_content(msg: Any) -> tuple:
    """Everything a camera_info says apart from its stamp (equal for a static camera)."""
    roi = msg.roi
    return (msg.header.frame_id, msg.width, msg.height, msg.distortion_model, tuple(msg.d),
            tuple(msg.k), tuple(msg.r), tuple(msg.p), msg.binning_x, msg.binning_y,
            roi.x_offset, roi.y_offset, roi.height, roi.width, roi.do_rectify)


@dataclass
class Frame:
    """One image with its camera_info, and when the image arrived (clock seconds)."""

    image: Any
    info: Any
    arrived_s: float


class FrameInput:
    """The node's input side.

    Args:
        types: message classes (`MsgTypes`), for decoding compressed images.
        diagnostics: where arrivals and drops are recorded.
        log_error, log_warn: the node's logger methods.
        period_s: shortest interval between two log lines of one cause.
        clock: monotonic seconds.
    """

    def __init__(self, types: Any, diagnostics: DiagnosticsCollector,
                 log_error: Callable[[str], Any], log_warn: Callable[[str], Any],
                 period_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.types = types
        self.diagnostics = diagnostics
        self.pairer = StampPairer()
        self.rectifier = Rectifier()
        self.drops: Counter[str] = Counter()
        self._limiter = CauseLimiter(period_s)
        self._log_error, self._log_warn = log_error, log_warn
        self._clock = clock

    def configure(self, queue_size: int, tolerance_s: float, reuse_info: bool,
                  info_queue_size: int | None = None) -> None:
        """Pairing settings (the node's queue_size, sync_tolerance_s, reuse_camera_info)."""
        self.pairer.queue_size = int(queue_size)
        self.pairer.info_queue_size = int(info_queue_size or queue_size)
        self.pairer.tolerance_ns = int(round(tolerance_s * 1e9))
        self.pairer.reuse_info = bool(reuse_info)

    def image(self, msg: Any, compressed: bool = False) -> Frame | None:
        """An image (or CompressedImage) arrived: checked, decoded, then paired."""
        now = self._clock()
        self.diagnostics.input(now)
        rejection = check_compressed(msg) if compressed else check_image(msg, NETWORK_STRIDE)
        if rejection is None and compressed:
            try:
                msg = compressed_to_image(self.types, msg)
            except InputError as exc:
                self.drop('bad_compressed', f'image dropped: data: {exc}')
                return None
            rejection = check_image(msg, NETWORK_STRIDE)
        if rejection is not None:
            self.drop(rejection.cause, rejection.message('image'))
            return None
        stamp_ns = codecs.stamp_to_ns(msg.header.stamp)
        return self._paired(self.pairer.add_image(stamp_ns, (msg, now)))

    def camera_info(self, msg: Any) -> Frame | None:
        """A camera_info arrived: checked, then paired."""
        rejection = check_camera_info(msg)
        if rejection is not None:
            self.drop(rejection.cause, rejection.message('camera_info'))
            return None
        changes = self.pairer.info_changes
        result = self.pairer.add_info(codecs.stamp_to_ns(msg.header.stamp), msg,
                                      camera_info_content(msg))
        if self.pairer.reuse_info and self.pairer.info_changes > changes:
            self.warn('camera_info_changed', 'camera_info changed (intrinsics, size or '
                      'frame_id): images wait for their own camera_info until it repeats')
        return self._paired(result)

    def decode(self, frame: Frame, rectify: bool,
               mono16_max: int) -> tuple[np.ndarray, Intrinsics]:
        """RGB pixels and the intrinsics they follow (rectified first when asked).

        Raises:
            InputError: the image or camera_info cannot be used (the caller drops the frame).
        """
        rgb = codecs.image_to_rgb(frame.image, mono16_max=mono16_max)
        if rectify:
            rgb = self.rectifier.rectify(rgb, RawCamera.from_camera_info(frame.info))
        else:
            warning = distortion_warning(frame.info)
            if warning:
                self.warn('distorted_input', warning)
        return rgb, codecs.camera_info_to_intrinsics(frame.info)

    def drop(self, cause: str, message: str) -> None:
        """Count a dropped frame under `cause`; log it unless this cause was logged lately."""
        now = self._clock()
        self.drops[cause] += 1
        self.diagnostics.drop(now, cause)
        suppressed = self._limiter.allow(cause, now)
        if suppressed is not None:
            more = f' ({suppressed} more since the last report)' if suppressed else ''
            self._log_error(message + more)

    def warn(self, cause: str, message: str) -> None:
        """A warning rate-limited per cause like the drops, not counted as one."""
        if self._limiter.allow(cause, self._clock()) is not None:
            self._log_warn(message)

    def _paired(self, result: PairResult) -> Frame | None:
        for stamp_ns, cause in result.dropped:
            if cause != NO_CAMERA_INFO:
                self.drop(cause, f'image dropped: header.stamp: {stamp_ns} ns came twice')
                continue
            self.drop(cause, f'image dropped: no camera_info with its stamp {stamp_ns} ns '
                      f'(queue_size {self.pairer.queue_size}, sync tolerance '
                      f'{self.pairer.tolerance_ns} ns); is camera_info remapped to the '
                      "camera's topic? (reuse_camera_info: true pairs an image with the latest "
                      'one while they repeat)')
        if result.pair is None:
            return None
        (image, arrived_s), info = result.pair
        return Frame(image, info, arrived_s)
