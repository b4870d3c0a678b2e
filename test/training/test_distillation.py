"""APX distillation: the loss, the position mask, the teacher and a tiny distilled run."""
import pytest
from safetensors.torch import save_file
import torch
from torch import nn
import torch.nn.functional as F
from toy_corridor import FixedPoseNet, write_toy_sequence

from depth_ros.errors import ConfigError
from depth_ros.geometry.projection import inv_depth_to_depth
from depth_ros.models.outputs import DepthOutput
from training.config import ModelConfig, TrainLossConfig, load_config
from training.data.sample import Sample
from training.losses.distillation import (
    DistillConfig,
    Teacher,
    distillation_loss,
    position_mask,
)
from training.step import DISTILL, forward_and_loss
from training.trainer import train


DEPTH_RANGE = (0.1, 100.0)


class ConvDepthNet(nn.Module):
    """A 3x3 conv + sigmoid at full resolution; lower scales by 2x2 average pooling."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(3, 1, 3, padding=1)

    def forward(self, images):
        maps = [torch.sigmoid(self.conv(images))]
        for _ in range(3):
            maps.append(F.avg_pool2d(maps[-1], 2))
        return DepthOutput(maps)



def _sample(batch=2, height=32, width=64) -> Sample:
    frames = torch.rand(batch, 3, 3, height, width, generator=torch.Generator().manual_seed(0))
    images = [frames]
    for _ in range(3):
        images.append(F.avg_pool2d(images[-1].flatten(0, 1), 2).view(
            batch, 3, 3, *[s // 2 for s in images[-1].shape[-2:]]))
    k = torch.tensor([[40.0, 0, width / 2, 0], [0, 40.0, height / 2, 0], [0, 0, 1, 0],
                      [0, 0, 0, 1]]).expand(batch, 4, 4)
    return Sample((0, -1, 1), images, frames, k, None, torch.arange(batch))


def _teacher(net: nn.Module) -> Teacher:
    net.eval().requires_grad_(False)
    return Teacher(net, *DEPTH_RANGE, height=32, width=64)


def _distil(student, teacher, position_mask=True, scales=(0,)):
    loss = TrainLossConfig(scales=scales, tie_noise=0.0)
    return forward_and_loss(student, FixedPoseNet(), _sample(), ModelConfig(), loss,
                            teacher=teacher, distill=DistillConfig('t', 0.5, position_mask))


def test_zero_loss_when_the_student_is_the_teacher():
    student = ConvDepthNet()
    out = _distil(student, _teacher(ConvDepthNet()), position_mask=False)
    assert float(out.terms[DISTILL].detach()) < 1e-6
    torch.testing.assert_close(out.total, out.loss.total + 0.5 * out.terms[DISTILL])


def test_loss_is_the_mean_log_depth_error():
    # Student depth everywhere 2 m, teacher 8 m: |log 2 - log 8| = log 4 at every pixel and scale.
    inv = (1 / 2 - 1 / DEPTH_RANGE[1]) / (1 / DEPTH_RANGE[0] - 1 / DEPTH_RANGE[1])
    student = [torch.full((1, 1, 16 >> s, 32 >> s), inv) for s in range(4)]
    teacher_depth = torch.full((1, 1, 16, 32), 8.0)
    value = distillation_loss(student, teacher_depth, (0, 1, 2, 3), *DEPTH_RANGE)
    torch.testing.assert_close(value, torch.log(torch.tensor(4.0)))
    # Masked: only the pixels of the mask count, and an empty mask gives 0.
    mask = torch.zeros(1, 16, 32)
    mask[:, :, :3] = 1
    student[0] = student[0].clone()
    student[0][..., 3:] = 1.0  # other depth outside the mask
    value = distillation_loss(student, teacher_depth, (0,), *DEPTH_RANGE, masks=[mask])
    torch.testing.assert_close(value, torch.log(torch.tensor(4.0)))
    assert float(distillation_loss(student, teacher_depth, (0,), *DEPTH_RANGE,
                                   masks=[torch.zeros(1, 16, 32)])) == 0


def test_gradient_flows_only_into_the_student():
    student, teacher_net = ConvDepthNet(0), ConvDepthNet(1)
    out = _distil(student, _teacher(teacher_net), scales=(0, 1, 2, 3))
    out.terms[DISTILL].backward()
    assert student.conv.weight.grad is not None and student.conv.weight.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in teacher_net.parameters())


def _ramp_scene(width=32, height=8):
    """One source, camera moved 0.2 m along x, fx = 10: depth d shifts pixels by 2 / d.

    The images are the same ramp along x (value 0.02 per pixel), the source showing it two
    pixels further: with depth 1 the warped source matches the target up to the half-pixel
    sampling offset of Monodepth2's grid normalisation (error <= 0.01), with depth 0.5 it is
    two pixels off (error >= 0.03). Returns target, sources, poses, k.
    """
    x = torch.arange(width, dtype=torch.float32).view(1, 1, 1, width)
    target = (0.02 * (x + 4)).expand(1, 3, height, width)
    source = (0.02 * (x + 2)).expand(1, 3, height, width)
    k = torch.tensor([[[10.0, 0, width / 2, 0], [0, 10.0, height / 2, 0], [0, 0, 1, 0],
                       [0, 0, 0, 1]]])
    pose = torch.eye(4)[None].clone()
    pose[0, 0, 3] = 0.2
    return target, {1: source}, {1: pose}, k


def test_position_mask_selects_the_pixels_where_the_teacher_reprojects_better():
    from training.view_synthesis import synthesize_view

    target, sources, poses, k = _ramp_scene()
    right = torch.zeros(1, 1, 8, 32, dtype=torch.bool)
    right[..., 16:] = True
    # Teacher right (1 m) on the left half and wrong (0.5 m) on the right; the student the
    # other way round.
    teacher_depth = torch.where(right, 0.5, 1.0)
    student_depth = torch.where(right, 1.0, 0.5)
    student_warped = {1: synthesize_view(sources[1], student_depth, k, poses[1])}
    automask = torch.ones(1, 8, 32)
    automask[0, 2, 5] = 0  # auto-masked pixels are never distilled
    mask = position_mask(target, sources, teacher_depth, poses, k, student_warped, automask,
                         ssim_weight=0.0)
    expected = (~right[:, 0]).float() * automask
    torch.testing.assert_close(mask, expected, rtol=0, atol=0)


def test_a_few_steps_distilled_from_a_previous_run(tmp_path, logged_scalar_tags):
    data = write_toy_sequence(tmp_path / 'data', frames=4, width=256, height=96)

    def config(out, *extra):
        return load_config(None, [
            'data.kind=kitti_odometry', f'data.path={data}', 'data.sequences=["00"]',
            'data.height=64', 'data.width=128', 'model.depth_arch=smalldepth',
            'model.pose_arch=pose_lite', 'optim.batch_size=2', 'num_workers=0',
            'validate_every_epochs=0', 'image_every_steps=0', 'log_every_steps=1',
            f'output_dir={out}', *extra])

    teacher = train(config(tmp_path / 'teacher', 'optim.epochs=1')).checkpoint
    before = teacher.read_bytes()
    tags = logged_scalar_tags
    summary = train(config(tmp_path / 'student', 'optim.epochs=2', 'model.depth_arch=resnet18',
                           f'distill.teacher={teacher}', 'distill.weight=0.5'))
    assert summary.steps == 2 and all(torch.isfinite(torch.tensor(summary.losses)))
    assert 'loss/distill' in tags
    assert teacher.read_bytes() == before


def test_teacher_file_problems_are_config_errors(tmp_path):
    base = ['data.path=/data', 'data.kind=kitti_odometry', 'data.sequences=["00"]']
    with pytest.raises(ConfigError, match='distill.teacher: checkpoint not found'):
        load_config(None, base + [f'distill.teacher={tmp_path / "absent.safetensors"}'])
    text = tmp_path / 'notes.safetensors'
    text.write_text('not weights')
    with pytest.raises(ConfigError, match='distill.teacher: .* is not a valid safetensors'):
        load_config(None, base + [f'distill.teacher={text}'])
    foreign = tmp_path / 'foreign.safetensors'
    save_file({'w': torch.zeros(2)}, str(foreign))
    with pytest.raises(ConfigError, match='distill.teacher: .* has no depth_ros metadata'):
        load_config(None, base + [f'distill.teacher={foreign}'])
    with pytest.raises(ConfigError, match='distill.weight must be'):
        load_config(None, base + ['distill.weight=-1'])


def test_teacher_depth_is_resized_to_the_input_and_mapped_with_its_range():
    net = ConvDepthNet()
    teacher = Teacher(net.eval(), 0.5, 50.0, height=32, width=64)
    images = torch.rand(1, 3, 64, 128)
    depth = teacher.depth(images)
    with torch.no_grad():
        small = F.interpolate(images, size=(32, 64), mode='bilinear', align_corners=False)
        inv = F.interpolate(net(small).sigmoids[0], size=(64, 128), mode='bilinear',
                            align_corners=False)
    torch.testing.assert_close(depth, inv_depth_to_depth(inv, 0.5, 50.0)[1])
    assert not depth.requires_grad


def test_a_flip_averaging_teacher_gives_the_runtime_flip_average_depth():
    """The teacher's flip_average against the runtime's (depth_ros.inference.Predictor), the
    shipped weights on a random image at their input size: the same depth, and unlike the
    teacher without it."""
    from depth_ros.inference import Predictor
    from depth_ros.inference.predictor import resolve_weights
    from training.losses.distillation import load_teacher

    weights = str(resolve_weights('default'))
    predictor = Predictor.from_checkpoint(weights, flip_average=True)
    height, width = predictor.input_size
    image = torch.randint(0, 256, (height, width, 3), dtype=torch.uint8,
                          generator=torch.Generator().manual_seed(3)).numpy()
    prepared = predictor.prepare(image)
    expected = torch.from_numpy(predictor.predict(prepared).depth_m)
    teacher = load_teacher(weights, flip_average=True)
    got = teacher.depth(prepared.tensor)[0, 0] * predictor.metres_per_unit
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    plain = load_teacher(weights).depth(prepared.tensor)[0, 0]
    assert (plain * predictor.metres_per_unit - expected).abs().max() > 1e-2

