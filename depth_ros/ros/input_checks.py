"""Checks of incoming messages, and error logging rate-limited per cause (pure Python).

Each check returns None for a usable message or a `Rejection` naming the field at fault. The
node drops a rejected message, counts it under its cause, and logs through a `CauseLimiter`, so a
flood of one kind of error does not hide the first report of another kind (a per-call-site
throttle does: one log line serves every cause raised there).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
import math
from typing import Any


# Bytes per pixel of the colour encodings the node reads.
BYTES_PER_PIXEL = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, 'mono16': 2}
# Distortion models `depth_ros.geometry.rectify` undistorts.
RECTIFIABLE_MODELS = ('plumb_bob', 'rational_polynomial', 'equidistant')


@dataclass(frozen=True)
class Rejection:
    """Why one message is dropped.

    Attributes:
        cause: short key the drop is counted and rate-limited under ('empty_frame_id', ...).
        field: the message field at fault ('header.frame_id', 'K', ...).
        reason: what is wrong with it, for the log.
    """

    cause: str
    field: str
    reason: str

    def message(self, kind: str) -> str:
        """One log line: '<kind> dropped: <field>: <reason>'."""
        return f'{kind} dropped: {self.field}: {self.reason}'


def check_header(msg: Any) -> Rejection | None:
    """A frame_id is required: depth, cloud and TF are published in it."""
    header = getattr(msg, 'header', None)
    frame_id = getattr(header, 'frame_id', None)
    if not isinstance(frame_id, str) or not frame_id.strip():
        return Rejection('empty_frame_id', 'header.frame_id',
                         "empty: the outputs would have no frame (set the camera driver's "
                         'frame_id)')
    return None


def check_image(msg: Any, min_size: int) -> Rejection | None:
    """Header, size (at least `min_size` pixels each way: the network's stride), layout."""
    rejection = check_header(msg)
    if rejection:
        return rejection
    height, width = int(getattr(msg, 'height', 0)), int(getattr(msg, 'width', 0))
    if height < min_size or width < min_size:
        return Rejection('image_too_small', 'height/width',
                         f'{width}x{height} is smaller than the network stride {min_size}')
    encoding = str(getattr(msg, 'encoding', ''))
    if encoding not in BYTES_PER_PIXEL:
        return Rejection('bad_encoding', 'encoding', f"'{encoding}' is not one of "
                         f"{', '.join(BYTES_PER_PIXEL)}")
    step, size = int(getattr(msg, 'step', 0)), len(getattr(msg, 'data', b''))
    if step < width * BYTES_PER_PIXEL[encoding]:
        return Rejection('bad_image_layout', 'step', f'{step} bytes is less than one row of a '
                         f'{width}-pixel {encoding} image')
    if size < step * height:
        return Rejection('bad_image_layout', 'data', f'{size} bytes, expected {step * height} '
                         f'(step {step} x height {height})')
    return None


def check_compressed(msg: Any) -> Rejection | None:
    """Header and a non-empty payload of a sensor_msgs/CompressedImage."""
    rejection = check_header(msg)
    if rejection:
        return rejection
    if len(getattr(msg, 'data', b'')) == 0:
        return Rejection('bad_compressed', 'data', 'empty')
    return None


def check_camera_info(msg: Any) -> Rejection | None:
    """Header, image size and the intrinsics the node projects with (K and P)."""
    rejection = check_header(msg)
    if rejection:
        return rejection
    if int(getattr(msg, 'width', 0)) <= 0 or int(getattr(msg, 'height', 0)) <= 0:
        return Rejection('bad_camera_info', 'width/height', 'zero image size')
    for name, count, focal in (('k', 9, (0, 4)), ('p', 12, (0, 5))):
        rejection = _check_matrix(msg, name, count, focal)
        if rejection:
            return rejection
    d = list(getattr(msg, 'd', []))
    if not all(math.isfinite(float(v)) for v in d):
        return Rejection('bad_intrinsics', 'D', f'non-finite distortion {d}')
    return None


def _check_matrix(msg: Any, name: str, count: int, focal: Sequence[int]) -> Rejection | None:
    values = [float(v) for v in getattr(msg, name, [])]
    label = name.upper()
    if len(values) != count:
        return Rejection('bad_intrinsics', label, f'{len(values)} values, expected {count}')
    if not all(math.isfinite(v) for v in values):
        return Rejection('bad_intrinsics', label, f'non-finite values {values}')
    if any(values[i] <= 0.0 for i in focal):
        return Rejection('bad_intrinsics', label,
                         f'focal lengths {values[focal[0]]}, {values[focal[1]]} must be > 0 '
                         '(an uncalibrated camera publishes zeros)')
    return None


def distortion_warning(msg: Any) -> str | None:
    """The warning for a camera_info with distortion on an input declared rectified."""
    d = [float(v) for v in getattr(msg, 'd', [])]
    if not any(abs(v) > 1e-9 for v in d):
        return None
    return (f'camera_info has non-zero distortion ({getattr(msg, "distortion_model", "")} '
            f'D={[round(v, 4) for v in d]}) but the input is declared rectified: subscribe to '
            'image_rect, or set rectify true to undistort image_raw in the node')


class CauseLimiter:
    """Allows one log line per cause per `period_s`; counts what it suppressed.

    Args:
        period_s: shortest interval between two lines of the same cause.
    """

    def __init__(self, period_s: float = 5.0):
        self.period_s = float(period_s)
        self._last: dict[str, float] = {}
        self.suppressed: Counter[str] = Counter()

    def allow(self, cause: str, now_s: float) -> int | None:
        """None to stay quiet, else how many lines of this cause were suppressed since the last."""
        last = self._last.get(cause)
        if last is not None and now_s - last < self.period_s:
            self.suppressed[cause] += 1
            return None
        self._last[cause] = now_s
        return self.suppressed.pop(cause, 0)
