"""pose_lite: registry, size, output convention, ONNX export, and that it can learn."""
import io
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from depth_ros.models import PoseNet, PoseParameters, build_pose_net, pose_net_names
from depth_ros.models.arch_spec import ArchSpec
from depth_ros.models.etm import fold_for_inference
from depth_ros.models.networks import AntisymmetricPoseNet


H, W = 64, 192


@pytest.fixture(scope='module')
def net():
    torch.manual_seed(0)
    return build_pose_net('pose_lite')


def test_registered_and_light(net):
    assert 'pose_lite' in pose_net_names()
    assert isinstance(net, PoseNet)
    params = sum(p.numel() for p in net.parameters())
    assert 1.0e6 <= params <= 2.0e6, params


def test_output_convention(net):
    first, second = torch.rand(2, 3, H, W), torch.rand(2, 3, H, W)
    with torch.no_grad():
        params = net.eval().predict_parameters(first, second)
        matrix = net(first, second)
    assert isinstance(params, PoseParameters)
    assert params.axis_angle.shape == params.translation.shape == (2, 1, 3)
    assert matrix.shape == (2, 4, 4)
    assert torch.allclose(matrix[:, 3], torch.tensor([0.0, 0.0, 0.0, 1.0]).expand(2, 4))
    rotation = matrix[:, :3, :3]
    assert torch.allclose(rotation @ rotation.transpose(1, 2), torch.eye(3).expand(2, 3, 3),
                          atol=1e-5)
    # The 0.01 output scaling: an untrained network predicts near-identity motion.
    assert params.translation.abs().max() < 0.1 and params.axis_angle.abs().max() < 0.1
    # The pair is ordered: swapping it changes the prediction.
    with torch.no_grad():
        swapped = net.predict_parameters(second, first)
    assert not torch.allclose(swapped.translation, params.translation)


def test_fold_for_inference_leaves_it_unchanged(net):
    state = {k: v.clone() for k, v in net.state_dict().items()}
    fold_for_inference(net)
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())


def test_exports_to_onnx(net):
    ort = pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    net.eval()
    pair = (torch.rand(1, 3, H, W), torch.rand(1, 3, H, W))
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')
        torch.onnx.export(net, pair, buffer, dynamo=False, opset_version=17,
                          input_names=['first', 'second'], output_names=['matrix'])
        expected = net(*pair).numpy()
    session = ort.InferenceSession(buffer.getvalue(), providers=['CPUExecutionProvider'])
    got = session.run(None, {'first': pair[0].numpy(), 'second': pair[1].numpy()})[0]
    assert got.shape == (1, 4, 4)
    assert abs(got - expected).max() <= 1e-5


@pytest.fixture
def one_thread():
    # Backward passes of many small ops slow down badly when intra-op threads compete with
    # other processes for few cores; one thread keeps this test a couple of seconds long.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_learns_from_scratch(one_thread):
    """Every parameter gets a gradient and a few Adam steps fit the 6-DoF parameters of two
    fixed pairs (proof of life; the 0.01 output scaling makes this deliberately slow)."""
    torch.manual_seed(1)
    net = build_pose_net('pose_lite').train()
    first, second = torch.rand(2, 3, 32, 96), torch.rand(2, 3, 32, 96)
    # Magnitudes of frame-to-frame motion: hundredths of a radian, tenths of a unit.
    target = torch.tensor([[[0.01, -0.005, 0.002, 0.05, -0.02, 0.1]],
                           [[-0.005, 0.01, 0.0, -0.03, 0.01, 0.08]]])
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    for _ in range(12):
        params = net.predict_parameters(first, second)
        pred = torch.cat([params.axis_angle, params.translation], dim=2)
        loss = nn.functional.l1_loss(pred, target)
        optimiser.zero_grad()
        loss.backward()
        if not losses:
            assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses


def test_antisymmetric_pairs_cancel():
    """A repeated frame gives exactly zero motion, a swapped pair the negated parameters, and
    the weights are the plain network's (so it loads them, and differs only in reading)."""
    torch.manual_seed(2)
    plain = build_pose_net('pose_lite').eval()
    anti = build_pose_net('pose_lite', antisymmetric=True).eval()
    assert isinstance(anti, AntisymmetricPoseNet)
    anti.load_state_dict(plain.state_dict())
    first, second = torch.rand(2, 3, H, W), torch.rand(2, 3, H, W)
    with torch.no_grad():
        same = anti.predict_parameters(first, first)
        forward = anti.predict_parameters(first, second)
        backward = anti.predict_parameters(second, first)
        a, b = plain.predict_parameters(first, second), plain.predict_parameters(second, first)
        matrix = anti(first, first)
    assert same.translation.abs().max() == 0 and same.axis_angle.abs().max() == 0
    assert torch.allclose(matrix, torch.eye(4).expand(2, 4, 4))
    assert torch.equal(forward.translation, -backward.translation)
    assert torch.equal(forward.axis_angle, -backward.axis_angle)
    # Half the difference of the plain network's two readings, pair by pair.
    assert torch.allclose(forward.translation, 0.5 * (a.translation - b.translation), atol=1e-7)
    assert forward.translation.abs().max() > 0


def test_antisymmetric_round_trip_and_onnx(tmp_path):
    ort = pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    from depth_ros.inference import Predictor
    from depth_ros.models import build_depth_net, load_checkpoint, save_checkpoint

    torch.manual_seed(3)
    depth = build_depth_net('smalldepth').eval()
    anti = build_pose_net('pose_lite', antisymmetric=True).eval()
    path = tmp_path / 'anti.safetensors'
    save_checkpoint(path, depth, anti, depth_arch=ArchSpec.of('smalldepth'),
                    pose_arch=ArchSpec.of('pose_lite', antisymmetric=True), height=H, width=W)
    loaded = load_checkpoint(path)
    assert isinstance(loaded.pose_net, AntisymmetricPoseNet)
    frame = (np.random.default_rng(0).random((H, W, 3)) * 255).astype(np.uint8)
    moved = np.roll(frame, 3, axis=1)
    poses = {}
    for backend in ('torch', 'onnxruntime'):
        predictor = Predictor.from_checkpoint(path, backend=backend)
        poses[backend] = (predictor.relative_pose(frame, frame),
                          predictor.relative_pose(frame, moved))
    assert ort is not None
    for still, motion in poses.values():
        assert np.abs(still - np.eye(4)).max() <= 1e-6
        assert np.abs(motion - np.eye(4)).max() > 1e-6
    assert np.abs(poses['torch'][1] - poses['onnxruntime'][1]).max() <= 1e-5


def test_plain_weights_load_into_the_antisymmetric_reading(tmp_path):
    """`antisymmetric` only changes how a pair is read: pose_lite weights saved without it load
    into a network built with it (the pose phase of the real-world recipe starts so), and a
    different architecture is still refused."""
    from depth_ros.errors import WeightsError
    from depth_ros.models import build_depth_net, save_checkpoint
    from depth_ros.models.checkpoint import load_weights_into

    plain_spec, anti_spec = ArchSpec.of('pose_lite'), ArchSpec.of('pose_lite', antisymmetric=True)
    assert anti_spec.has_weights_of(plain_spec) and plain_spec.has_weights_of(anti_spec)
    assert not ArchSpec.of('resnet18').has_weights_of(plain_spec)
    torch.manual_seed(4)
    plain = build_pose_net('pose_lite').eval()
    path = tmp_path / 'plain.safetensors'
    save_checkpoint(path, build_depth_net('smalldepth'), plain,
                    depth_arch=ArchSpec.of('smalldepth'), pose_arch=plain_spec, height=H, width=W)
    anti = build_pose_net('pose_lite', antisymmetric=True)
    load_weights_into(anti, path, 'pose', anti_spec)
    assert all(torch.equal(v, anti.state_dict()[k]) for k, v in plain.state_dict().items())
    with pytest.raises(WeightsError, match="holds a 'pose_lite' pose network"):
        load_weights_into(build_pose_net('resnet18'), path, 'pose', ArchSpec.of('resnet18'))
