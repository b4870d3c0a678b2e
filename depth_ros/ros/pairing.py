"""Pair each image with the camera_info of the same stamp (pure Python, bounded memory).

Like message_filters' TimeSynchronizer (exact time policy): images and camera_infos wait in
bounded queues until their partner arrives. A camera driver publishes both with one stamp, in
either order, and under real DDS one of them can arrive well after the other (reliable QoS
repairs), so a single waiting slot is not enough.

With `reuse_info` an image whose camera_info has not arrived is paired with the latest one, as
long as the camera_infos are static: the last `STATIC_AFTER` said the same apart from their stamp
(or only one ever came, a latched camera_info). Under Fast DDS a reliable camera_info sent just
before a 1.4 MB image is often delivered only with the writer's next repair, up to ~0.6 s late
(docs/BENCHMARKS.md); exact pairing then holds every image that long. When the content changes
(a zoom or re-calibration), images wait for their own camera_info again until it repeats.
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any


# Drop causes (keys of `StampPairer.drops`).
NO_CAMERA_INFO = 'no_camera_info'  # left the queue, or a newer stamp was paired, without its info
DUPLICATE_STAMP = 'duplicate_stamp'  # a second image with the stamp of a waiting one
# Identical camera_infos in a row after which the latest is reused for images without their own.
STATIC_AFTER = 2


@dataclass
class PairResult:
    """What one arrival produced.

    Attributes:
        pair: (image, camera_info) ready to process, or None.
        dropped: (stamp_ns, cause) of every image given up on by this arrival.
    """

    pair: tuple[Any, Any] | None = None
    dropped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def unpaired_ns(self) -> list[int]:
        """Stamps of images dropped because their camera_info never came."""
        return [stamp for stamp, cause in self.dropped if cause == NO_CAMERA_INFO]


class StampPairer:
    """Matches images and camera_infos whose stamps differ by at most `tolerance_ns`.

    Args:
        queue_size: images and camera_infos kept waiting for a partner (each queue).
        tolerance_ns: largest stamp difference accepted (0: exact stamps, TimeSynchronizer).
        reuse_info: pair an image with the latest camera_info when none has its stamp, while
            the camera_infos are static (see the module docstring).
        info_queue_size: camera_infos kept (default `queue_size`); they are small, so a caller
            may keep more of them than of images.

    Counters: `paired` (all pairs), `reused` (pairs with the latest camera_info instead of the
    image's own), `info_changes` (camera_infos whose content differed from the one before).
    """

    def __init__(self, queue_size: int = 10, tolerance_ns: int = 0, reuse_info: bool = False,
                 info_queue_size: int | None = None):
        self.queue_size = int(queue_size)
        self.info_queue_size = int(info_queue_size or queue_size)
        self.tolerance_ns = int(tolerance_ns)
        self.reuse_info = bool(reuse_info)
        self.drops: Counter[str] = Counter()
        self.paired = 0
        self.reused = 0
        self.info_changes = 0
        self._content: Any = None
        self._same_run = 0  # camera_infos in a row with `_content`
        self._infos_seen = 0
        self._images: OrderedDict[int, Any] = OrderedDict()
        self._infos: OrderedDict[int, Any] = OrderedDict()
        self._latest_info: Any = None

    @property
    def static(self) -> bool:
        """Whether the camera_infos are static, so the latest may stand in for a late one."""
        return self._infos_seen == 1 or self._same_run >= STATIC_AFTER

    def add_info(self, stamp_ns: int, info: Any, content: Hashable = None) -> PairResult:
        """Store a camera_info; returns the waiting image's pair if this info matches one.

        Args:
            stamp_ns: its stamp.
            info: the message.
            content: what it says apart from its stamp (compared with the previous one's).
        """
        self._track(content)
        self._latest_info = info
        self._infos[stamp_ns] = info
        self._infos.move_to_end(stamp_ns)
        while len(self._infos) > self.info_queue_size:
            self._infos.popitem(last=False)
        image_stamp = self._closest(self._images, stamp_ns)
        if image_stamp is None:
            return PairResult()
        result = PairResult(pair=(self._images.pop(image_stamp), info))
        self._drop_images_older_than(image_stamp, result)
        self.paired += 1
        return result

    def add_image(self, stamp_ns: int, image: Any) -> PairResult:
        """Pair an image with a stored camera_info, or queue it to wait for one."""
        result = PairResult()
        info_stamp = self._closest(self._infos, stamp_ns)
        if info_stamp is not None:
            result.pair = (image, self._infos[info_stamp])
        elif self.reuse_info and self._latest_info is not None and self.static:
            result.pair = (image, self._latest_info)
            self.reused += 1
        if result.pair is not None:
            self._drop_images_older_than(stamp_ns, result)
            self.paired += 1
            return result
        if stamp_ns in self._images:
            self._drop(stamp_ns, DUPLICATE_STAMP, result)
            del self._images[stamp_ns]
        self._images[stamp_ns] = image
        while len(self._images) > self.queue_size:
            oldest = next(iter(self._images))
            del self._images[oldest]
            self._drop(oldest, NO_CAMERA_INFO, result)
        return result

    def waiting_images(self) -> int:
        """Images queued for their camera_info."""
        return len(self._images)

    def reset(self) -> None:
        """Forget everything waiting (time jumped back, or the node was deactivated)."""
        self._images.clear()
        self._infos.clear()
        self._latest_info = None
        self._content, self._same_run, self._infos_seen = None, 0, 0

    def _track(self, content: Hashable) -> None:
        if self._infos_seen and content == self._content:
            self._same_run += 1
        else:
            self.info_changes += int(self._infos_seen > 0)
            self._content, self._same_run = content, 1
        self._infos_seen += 1

    def _drop_images_older_than(self, stamp_ns: int, result: PairResult) -> None:
        # Topics arrive in order: once a newer stamp is paired, older infos will not come.
        for stamp in [s for s in self._images if s < stamp_ns]:
            del self._images[stamp]
            self._drop(stamp, NO_CAMERA_INFO, result)

    def _drop(self, stamp_ns: int, cause: str, result: PairResult) -> None:
        self.drops[cause] += 1
        result.dropped.append((stamp_ns, cause))

    def _closest(self, queue: OrderedDict[int, Any], stamp_ns: int) -> int | None:
        if stamp_ns in queue:
            return stamp_ns
        if self.tolerance_ns <= 0 or not queue:
            return None
        best = min(queue, key=lambda s: abs(s - stamp_ns))
        return best if abs(best - stamp_ns) <= self.tolerance_ns else None
