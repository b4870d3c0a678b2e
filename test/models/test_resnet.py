"""ResNet encoders: torchvision-compatible names, published parameter counts, feature shapes."""
import pytest
import torch

from depth_ros.errors import ConfigError
from depth_ros.models import build_depth_net, build_pose_net
from depth_ros.models.resnet import ResNetEncoder


# Parameter counts of torchvision's ResNets (He et al.) minus the 1000-way fc layer.
PUBLISHED_PARAMS_WITHOUT_FC = {18: 11_689_512 - 513_000, 34: 21_797_672 - 513_000,
                               50: 25_557_032 - 2_049_000}


@pytest.mark.parametrize('layers', [18, 34, 50])
def test_parameter_count_matches_published(layers):
    enc = ResNetEncoder(layers)
    assert sum(p.numel() for p in enc.parameters()) == PUBLISHED_PARAMS_WITHOUT_FC[layers]


def test_state_dict_names_follow_torchvision():
    keys = set(ResNetEncoder(50).state_dict())
    for name in ('conv1.weight', 'bn1.running_mean', 'layer1.0.downsample.0.weight',
                 'layer1.0.downsample.1.weight', 'layer4.2.conv3.weight', 'layer4.2.bn3.bias'):
        assert name in keys
    assert 'layer1.0.downsample.0.weight' not in ResNetEncoder(18).state_dict()


def test_two_image_encoder_and_feature_strides():
    enc = ResNetEncoder(18, num_input_images=2)
    assert enc.conv1.weight.shape[1] == 6
    feats = enc(torch.rand(1, 6, 64, 96))
    assert [f.shape[1] for f in feats] == enc.num_ch_enc
    assert [f.shape[-1] for f in feats] == [48, 24, 12, 6, 3]


@pytest.mark.parametrize('name', ['resnet18', 'resnet50'])
def test_registry_builds_depth_and_pose(name):
    depth_net = build_depth_net(name).eval()
    pose_net = build_pose_net(name).eval()
    with torch.no_grad():
        out = depth_net(torch.rand(2, 3, 64, 96))
        pose = pose_net(torch.rand(2, 3, 64, 96), torch.rand(2, 3, 64, 96))
    assert [d.shape[-1] for d in out.sigmoids] == [96, 48, 24, 12]
    assert all(((d >= 0) & (d <= 1)).all() for d in out.sigmoids)
    assert pose.shape == (2, 4, 4)
    assert torch.allclose(pose[:, 3], torch.tensor([0.0, 0, 0, 1]).expand(2, 4))


def test_registry_errors_are_clear():
    with pytest.raises(ConfigError, match='unknown depth architecture'):
        build_depth_net('resnet999')
    with pytest.raises(ConfigError, match='has no argument'):
        build_depth_net('resnet18', width=3)
