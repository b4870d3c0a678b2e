"""pose_corr: the correlation against shifted copies, the frozen trunk equals the Lite0
encoder's stride-8 feature, antisymmetry, the position-aware pooling, weights round trip."""
import pytest
import torch

from depth_ros.models import (
    ArchSpec,
    build_depth_net,
    build_pose_net,
    load_checkpoint,
    pose_net_names,
    save_checkpoint,
)
from depth_ros.models.efficientnet_lite import EfficientNetLite0Encoder
from depth_ros.models.outputs import PoseParameters
from depth_ros.models.pose_corr import CorrelationPoseHead, local_correlation


H, W = 64, 192


@pytest.fixture(scope='module')
def net():
    torch.manual_seed(0)
    return build_pose_net('pose_corr', pretrained=False).eval()


def test_registered_small_and_trunk_frozen(net):
    assert 'pose_corr' in pose_net_names()
    assert 0.2e6 <= sum(p.numel() for p in net.parameters()) <= 0.6e6
    assert not any(p.requires_grad for p in net.encoder.trunk.parameters())
    net.train()
    try:  # training the head leaves the trunk's BatchNorm statistics alone
        assert not net.encoder.trunk.training and net.decoder.training
    finally:
        net.eval()


def test_correlation_peaks_at_the_shift_between_the_maps():
    torch.manual_seed(3)
    first = torch.randn(1, 8, 10, 12)
    dy, dx, d = 1, -2, 3
    # second[y + dy, x + dx] = first[y, x]: the content moved by (dy, dx).
    second = torch.roll(first, shifts=(dy, dx), dims=(2, 3))
    corr = local_correlation(first, second, d)
    assert corr.shape == (1, (2 * d + 1) ** 2, 10, 12)
    channel = (dy + d) * (2 * d + 1) + (dx + d)
    interior = corr[0, :, 2:-2, 3:-3]
    torch.testing.assert_close(interior[channel], torch.ones_like(interior[channel]))
    assert bool((interior.argmax(dim=0) == channel).all())
    # A position whose displaced partner lies outside the map compares with zeros.
    assert corr[0, 0, 0, 0] == 0


def test_trunk_is_the_lite0_encoder_up_to_stride_8():
    torch.manual_seed(4)
    encoder = EfficientNetLite0Encoder().eval()
    net = build_pose_net('pose_corr', pretrained=False).eval()
    state = encoder.state_dict()
    net.encoder.trunk.load_state_dict({k: state[k] for k in net.encoder.trunk.state_dict()})
    image = torch.rand(1, 3, H, W)
    with torch.no_grad():
        fine, coarse = net.encoder.trunk(image)
        expected = encoder(image)
        torch.testing.assert_close(fine, expected[1])
        torch.testing.assert_close(coarse, expected[2])


def test_antisymmetric_reading_gives_zero_for_a_still_camera_and_negates_the_reverse(net):
    torch.manual_seed(1)
    a, b = torch.rand(2, 3, H, W), torch.rand(2, 3, H, W)
    with torch.no_grad():
        still = net.predict_parameters(a, a)
        forward, backward = net.predict_parameters(a, b), net.predict_parameters(b, a)
    assert torch.equal(still.translation, torch.zeros_like(still.translation))
    assert torch.equal(still.axis_angle, torch.zeros_like(still.axis_angle))
    torch.testing.assert_close(forward.translation, -backward.translation)
    assert forward.translation.abs().max() > 0


def test_pooling_reads_position_an_expansion_is_not_cancelled():
    """A flow-like input that points away from the centre (left half one way, right half the
    other) averages to zero, but the x-weighted pooling of the head must see it: with only
    the x-weighted output on, the mirrored input gives the opposite answer."""
    head = CorrelationPoseHead([1])
    with torch.no_grad():
        for conv in head.convs:  # pass the first input channel through unchanged
            conv.weight.zero_()
            conv.bias.zero_()
            conv.weight[0, 0, 1, 1] = 1.0
        head.out.weight.zero_()
        head.out.bias.zero_()
        head.out.weight[6 + 5, 0] = 1.0  # x * feature -> translation z
    outward = torch.zeros(1, 1, 8, 16)
    outward[..., 8:] = 1.0  # right half bright: a positive x-weighted mean
    result: PoseParameters = head([outward])
    mirrored = head([outward.flip(-1)])
    assert result.translation[0, 0, 2] > 0
    torch.testing.assert_close(mirrored.translation, -result.translation)


def test_weights_round_trip(tmp_path, net):
    path = tmp_path / 'm.safetensors'
    torch.manual_seed(2)
    save_checkpoint(path, build_depth_net('smalldepth'), net, depth_arch=ArchSpec.of('smalldepth'),
                    pose_arch=ArchSpec.of('pose_corr', pretrained=True, max_displacement=4),
                    height=H, width=W)
    loaded = load_checkpoint(path)
    a, b = torch.rand(1, 3, H, W), torch.rand(1, 3, H, W)
    with torch.no_grad():
        torch.testing.assert_close(loaded.pose_net(a, b), net(a, b))


def test_onnx_graph_matches_torch(tmp_path):
    ort = pytest.importorskip('onnxruntime')
    from depth_ros.export import export_checkpoint

    path = tmp_path / 'm.safetensors'
    torch.manual_seed(5)
    net = build_pose_net('pose_corr', pretrained=False, fine_displacement=3).eval()
    save_checkpoint(path, build_depth_net('smalldepth'), net, depth_arch=ArchSpec.of('smalldepth'),
                    pose_arch=ArchSpec.of('pose_corr', fine_displacement=3), height=H, width=W)
    report = export_checkpoint(path, dynamic_batch=True)
    pose = next(f for f in report.files if f.graph == 'pose')
    session = ort.InferenceSession(str(pose.path), providers=['CPUExecutionProvider'])
    first, second = torch.rand(3, 3, H, W), torch.rand(3, 3, H, W)
    with torch.no_grad():
        expected = net(first, second).numpy()
    got = session.run(None, {'first': first.numpy(), 'second': second.numpy()})[0]
    assert abs(got - expected).max() <= 1e-5
