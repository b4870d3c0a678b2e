"""Strict state-dict loading with one-line errors (used by checkpoints and pretrained encoders)."""
from __future__ import annotations

import torch
from torch import nn

from depth_ros.errors import WeightsError


def load_into(net: nn.Module, state: dict[str, torch.Tensor], what: str,
              arch_name: str | None = None) -> None:
    """Strictly load `state` into `net`, turning mismatches into a one-line WeightsError.

    Args:
        what: where `state` came from, for the message (e.g. 'model.safetensors (depth network)').
        arch_name: the architecture `net` was built as, for the message (default: its class).
    """
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        name = arch_name or type(net).__name__
        details = '; '.join(s for s in (
            f'{len(missing)} missing (e.g. {missing[0]})' if missing else '',
            f'{len(unexpected)} unexpected (e.g. {unexpected[0]})' if unexpected else '',
            f'{len(wrong)} of another shape (e.g. {wrong[0]})' if wrong else '') if s)
        raise WeightsError(f'{what} does not fit architecture {name!r}: {details}')
    net.load_state_dict(state, strict=True)
