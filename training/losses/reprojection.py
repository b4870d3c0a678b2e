"""Per-pixel minimum reprojection with auto-masking (Monodepth2, Sec. 3.1 and 3.2).

Occlusions: each target pixel takes the smallest photometric error over the source views instead
of their average (Eq. 4). Static scenes and objects moving with the camera: the error of the
*unwarped* source (identity reprojection) competes in the same minimum; where it wins, the pixel
is effectively masked out of the loss (Eq. 5). A tiny random offset on the identity errors breaks
exact ties, such as those of frames that are pixel-identical.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


DEFAULT_TIE_NOISE = 1e-5


@dataclass
class MinReprojection:
    """Result of `min_reprojection`.

    Attributes:
        per_pixel: [B, H, W] the error each pixel contributes.
        automask: [B, H, W] float, the auto-mask mu of Eq. 5: 1 where a warped source won the
            minimum (the pixel is supervised by view synthesis), 0 where an identity error won.
            All ones without auto-masking. Monodepth2 logs this as "identity_selection".
    """

    per_pixel: torch.Tensor
    automask: torch.Tensor


def min_reprojection(reprojection_errors: Sequence[torch.Tensor],
                     identity_errors: Sequence[torch.Tensor] | None = None,
                     tie_noise: float = DEFAULT_TIE_NOISE,
                     generator: torch.Generator | None = None) -> MinReprojection:
    """Minimum over source views, optionally competing with identity reprojection errors.

    Args:
        reprojection_errors: per source view, [B, 1, H, W] error of the warped source.
        identity_errors: per source view, [B, 1, H, W] error of the unwarped source; None
            disables auto-masking.
        tie_noise: standard deviation of the Gaussian added to the identity errors (0: none).
        generator: random generator for that noise (None: the global one).

    Returns:
        `MinReprojection`.
    """
    warped = torch.cat(list(reprojection_errors), dim=1)
    if identity_errors is None:
        per_pixel = warped.min(dim=1).values
        return MinReprojection(per_pixel, torch.ones_like(per_pixel))
    identity = torch.cat(list(identity_errors), dim=1)
    if tie_noise > 0:
        noise = torch.randn(identity.shape, generator=generator, dtype=identity.dtype,
                            device='cpu' if generator is None else generator.device)
        identity = identity + tie_noise * noise.to(identity.device)
    # Identity errors first: on an exact tie the minimum index is the identity one.
    per_pixel, index = torch.cat([identity, warped], dim=1).min(dim=1)
    automask = (index >= identity.shape[1]).to(per_pixel.dtype)
    return MinReprojection(per_pixel, automask)
