"""A background thread that processes only the newest submitted item (a queue of one)."""
from __future__ import annotations

from collections.abc import Callable
import threading
from typing import Any


class LatestWorker:
    """Runs `process(item)` on its own thread for the newest item; older waiting items are dropped.

    Memory stays bounded (one item waiting, one in progress) however fast items arrive, and the
    output never lags behind the input by more than one item: no backlog builds up.
    """

    def __init__(self, process: Callable[[Any], None],
                 on_error: Callable[[BaseException], None], name: str = 'depth_worker'):
        self._process = process
        self._on_error = on_error
        self._name = name
        self._cond = threading.Condition()
        self._item: Any = None
        self._has_item = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.submitted = 0
        self.processed = 0
        self.dropped = 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._cond:
            if self.running:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def submit(self, item: Any) -> bool:
        """Queue `item`, replacing a waiting one; returns True if an older item was dropped."""
        with self._cond:
            dropped = self._has_item
            self.dropped += int(dropped)
            self.submitted += 1
            self._item, self._has_item = item, True
            self._cond.notify()
        return dropped

    def pending(self) -> int:
        """Items waiting (0 or 1)."""
        with self._cond:
            return int(self._has_item)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Drop any waiting item and wait for the one in progress to finish."""
        with self._cond:
            self._stopping = True
            self._item, self._has_item = None, False
            self._cond.notify()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._has_item and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                item, self._item, self._has_item = self._item, None, False
            try:
                self._process(item)
            except Exception as exc:  # one bad frame must not kill the worker
                self._on_error(exc)
            self.processed += 1
