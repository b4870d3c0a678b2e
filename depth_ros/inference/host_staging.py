"""Uploads of camera images to a CUDA device through reused page-locked host buffers.

A copy from ordinary (pageable) host memory is staged by the driver and blocks the calling
thread until it is done. From a page-locked buffer it is asynchronous: the host goes on to
launch the resize and the network while the image is in flight. Allocating page-locked memory
is slow (a system call), so one buffer per image shape is kept and reused; before it is
overwritten, the copy out of it must have finished, which a CUDA event recorded after the copy
tells (normally long done by the next frame, so the wait costs nothing).
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch


class PinnedUploader:
    """`upload(image)`: an HxWxC uint8 numpy image -> the same tensor on `device`, copied
    asynchronously on the current stream from a page-locked buffer of its shape.

    At most `max_shapes` buffers are kept (least recently used dropped first).
    """

    def __init__(self, device: torch.device, max_shapes: int = 4) -> None:
        self.device = device
        self.max_shapes = max_shapes
        self._buffers: OrderedDict[tuple, tuple[torch.Tensor, torch.cuda.Event]] = OrderedDict()

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        host, done = self._buffer(image.shape)
        if not done.query():  # the previous copy out of this buffer is still running
            done.synchronize()
        np.copyto(host.numpy(), image, casting='no')
        stream = torch.cuda.current_stream(self.device)
        on_device = torch.empty(host.shape, dtype=host.dtype, device=self.device)
        on_device.copy_(host, non_blocking=True)
        done.record(stream)
        return on_device

    def _buffer(self, shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.cuda.Event]:
        key = tuple(shape)
        if key in self._buffers:
            self._buffers.move_to_end(key)
            return self._buffers[key]
        entry = (torch.empty(key, dtype=torch.uint8, pin_memory=True), torch.cuda.Event())
        self._buffers[key] = entry
        while len(self._buffers) > self.max_shapes:
            # A dropped buffer may still be read by a copy in flight: wait for it first.
            _, (_, event) = self._buffers.popitem(last=False)
            event.synchronize()
        return entry
