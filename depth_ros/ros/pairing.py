"""Pair each image with the camera_info of the same stamp (pure Python, bounded memory)."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PairResult:
    """What one arrival produced.

    Attributes:
        pair: (image, camera_info) ready to process, or None.
        unpaired_ns: stamps of images given up on because no camera_info with their stamp came
            before a newer image (the caller reports them as dropped).
    """

    pair: tuple[Any, Any] | None = None
    unpaired_ns: list[int] = field(default_factory=list)


class StampPairer:
    """Matches images and camera_infos whose stamps differ by at most `tolerance_ns`.

    Camera drivers publish both with one stamp, in either order. The most recent `max_infos`
    camera_infos are kept; at most one image waits for its camera_info, and a newer image
    replaces it (newest wins, as in the rest of the node).
    """

    def __init__(self, tolerance_ns: int = 0, max_infos: int = 30):
        self.tolerance_ns = int(tolerance_ns)
        self._infos: OrderedDict[int, Any] = OrderedDict()
        self._max_infos = int(max_infos)
        self._pending: tuple[int, Any] | None = None

    def add_info(self, stamp_ns: int, info: Any) -> PairResult:
        """Store a camera_info; returns the waiting image's pair if this info matches it."""
        self._infos[stamp_ns] = info
        self._infos.move_to_end(stamp_ns)
        while len(self._infos) > self._max_infos:
            self._infos.popitem(last=False)
        if self._pending is not None and abs(self._pending[0] - stamp_ns) <= self.tolerance_ns:
            image = self._pending[1]
            self._pending = None
            return PairResult(pair=(image, info))
        return PairResult()

    def add_image(self, stamp_ns: int, image: Any) -> PairResult:
        """Pair an image with a stored camera_info, or keep it waiting for one."""
        result = PairResult()
        if self._pending is not None:
            result.unpaired_ns.append(self._pending[0])
            self._pending = None
        info = self._closest_info(stamp_ns)
        if info is None:
            self._pending = (stamp_ns, image)
        else:
            result.pair = (image, info)
        return result

    def reset(self) -> None:
        """Forget everything (time jumped back, or the node was deactivated)."""
        self._infos.clear()
        self._pending = None

    def _closest_info(self, stamp_ns: int) -> Any | None:
        if stamp_ns in self._infos:
            return self._infos[stamp_ns]
        if self.tolerance_ns <= 0 or not self._infos:
            return None
        best = min(self._infos, key=lambda s: abs(s - stamp_ns))
        return self._infos[best] if abs(best - stamp_ns) <= self.tolerance_ns else None
