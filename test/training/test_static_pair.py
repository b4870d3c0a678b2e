"""The static-pair pose loss: zero exactly for the identity, the motion's size otherwise."""
from __future__ import annotations

import torch
from torch import nn

from depth_ros.models.outputs import PoseParameters
from training.losses.static_pair import static_pair_loss


class ConstantMotion(nn.Module):
    """A pose 'network' that predicts a fixed motion and records what it was shown."""

    def __init__(self, axis_angle: float, translation: float) -> None:
        super().__init__()
        self.motion = nn.Parameter(torch.tensor([axis_angle, translation]))
        self.seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def predict_parameters(self, first, second):
        self.seen.append((first, second))
        b = first.shape[0]
        return PoseParameters(self.motion[0].expand(b, 1, 3), self.motion[1].expand(b, 1, 3))


def test_identity_gives_zero_and_motion_gives_its_mean_magnitude():
    image = torch.rand(2, 3, 8, 16)
    still = ConstantMotion(0.0, 0.0)
    assert float(static_pair_loss(still, image, image, 0.01).detach()) == 0.0
    moving = ConstantMotion(-0.02, 0.5)
    loss = static_pair_loss(moving, image, image, 0.0)
    assert torch.isclose(loss, torch.tensor(0.52))
    loss.backward()  # the gradient pulls both towards zero
    assert moving.motion.grad.tolist() == [-1.0, 1.0]


def test_pair_is_the_frame_and_a_noisy_copy_within_range():
    image = torch.rand(1, 3, 8, 16)
    jittered = image * 0.9
    net = ConstantMotion(0.0, 0.0)
    static_pair_loss(net, jittered, image, 0.05, torch.Generator().manual_seed(0))
    first, second = net.seen[0]
    assert first is jittered
    assert 0.01 < float((second - image).abs().mean()) < 0.05  # ~0.8 sigma, clipped
    assert float(second.min()) >= 0.0 and float(second.max()) <= 1.0
