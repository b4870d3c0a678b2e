"""A camera that stands still must yield no motion: the static-pair pose loss.

Self-supervised training never shows the pose network two identical frames: Monodepth2's
auto-mask and the static-frame filter remove exactly those, so nothing tells the network what
"no motion" looks like, and a network trained on driving video reports forward motion for a
parked camera. This term feeds the pose network a frame paired with a near-copy of itself (the
colour-jittered view against the plain view plus sensor-like noise, i.e. the same scene under
another exposure) and pulls the predicted motion to the identity.
"""
from __future__ import annotations

import torch
from torch import nn


def static_pair_loss(pose_net: nn.Module, network_image: torch.Tensor, image: torch.Tensor,
                     noise_std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mean absolute axis-angle (radians) plus translation (network units) of a static pair.

    Args:
        pose_net: a pose network with `predict_parameters(first, second)`.
        network_image: [B, 3, H, W] the target as the networks see it (colour-jittered).
        image: [B, 3, H, W] the same target without jitter; Gaussian noise of `noise_std`
            (intensities in [0, 1]) is added to it, like a second exposure of a still scene.
        noise_std: standard deviation of that noise (0: an exact copy).
        generator: random generator of the noise (None: torch's global one).

    Returns:
        [] scalar, zero exactly when the network predicts the identity.
    """
    noise = torch.randn(image.shape, generator=generator, device='cpu').to(image.device)
    still = (image + noise_std * noise).clamp_(0.0, 1.0)
    params = pose_net.predict_parameters(network_image, still)
    return params.axis_angle.float().abs().mean() + params.translation.float().abs().mean()
