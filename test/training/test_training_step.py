"""Pose convention of a training step: earlier frame first, inverted for past sources."""
import torch
from torch import nn

from depth_ros.geometry.poses import pose_from_parameters
from depth_ros.models.outputs import PoseParameters
from training.data.sample import Sample
from training.step import predict_poses


class RecordingPoseNet(nn.Module):
    """Returns a pose derived from the pair's order, and records which frames it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = []

    def predict_parameters(self, first, second):
        ids = (int(first[0, 0, 0, 0]), int(second[0, 0, 0, 0]))
        self.calls.append(ids)
        axis_angle = torch.tensor([[[0.01 * ids[0], 0.02, 0.03 * ids[1]]]])
        return PoseParameters(axis_angle, torch.tensor([[[0.1 * ids[0], 0.0, 0.5]]]))


def _batch() -> Sample:
    # Frame slots hold constant images whose value identifies the frame: target 5, -1 -> 4,
    # +1 -> 6.
    frames = torch.stack([torch.full((3, 4, 4), v) for v in (5.0, 4.0, 6.0)]).unsqueeze(0)
    return Sample((0, -1, 1), [frames], frames, torch.eye(4)[None], None, torch.tensor([0]))


def test_earlier_frame_first_and_past_sources_inverted():
    net = RecordingPoseNet()
    poses = predict_poses(net, _batch())
    assert net.calls == [(4, 5), (5, 6)]
    expected_past = pose_from_parameters(torch.tensor([[[0.04, 0.02, 0.15]]]),
                                         torch.tensor([[[0.4, 0.0, 0.5]]]), invert=True)
    expected_next = pose_from_parameters(torch.tensor([[[0.05, 0.02, 0.18]]]),
                                         torch.tensor([[[0.5, 0.0, 0.5]]]), invert=False)
    torch.testing.assert_close(poses[-1], expected_past)
    torch.testing.assert_close(poses[1], expected_next)
