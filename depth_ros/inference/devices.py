"""The one check of a device name, used by the node's parameters, the inference backends, the
training config and the trainer. Light: torch is imported only to ask whether CUDA is there."""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from depth_ros.errors import ConfigError, DeviceUnavailableError


if TYPE_CHECKING:
    import torch

DEVICE_PATTERN = re.compile(r'cpu|cuda(:\d+)?')


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def validate_device(device: str, *, require_available: bool = True) -> str:
    """Return `device` if it names a usable device, else raise.

    Args:
        device: 'cpu', 'cuda' or 'cuda:N'.
        require_available: also check that CUDA is present when a CUDA device is named.

    Raises:
        ConfigError: the name is not one of the forms above.
        DeviceUnavailableError: a CUDA device is named and this machine has no CUDA.
    """
    if not isinstance(device, str) or not DEVICE_PATTERN.fullmatch(device):
        raise ConfigError(f'device must be cpu, cuda or cuda:N, got {device!r}')
    if require_available and device.startswith('cuda'):
        import torch

        if not torch.cuda.is_available():
            raise DeviceUnavailableError(f'device {device!r} requested but CUDA is not '
                                         'available on this machine; use device cpu')
    return device


def resolve_device(device: str | torch.device) -> torch.device:
    """`validate_device`, as a torch.device (a torch.device is checked by its string form)."""
    import torch

    return torch.device(validate_device(str(device)))
