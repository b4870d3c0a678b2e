"""Training on CUDA with mixed precision, and its checkpoints: the first step's loss matches
the float32 CPU step, training lowers the loss, a GPU checkpoint loads on the CPU and on the
GPU with the same depth, and resuming it on the GPU continues the run. Skipped without a CUDA
GPU (benchmarks/gpu_check.py runs them on the GPU machine)."""
import numpy as np
import pytest
import torch
from toy_corridor import tiny_train_overrides

from depth_ros.inference import Predictor
from training.config import load_config
from training.trainer import train


pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')]


def _config(data, out, device, *extra):
    return load_config(None, [*tiny_train_overrides(data, out), f'device={device}', 'amp=true',
                              *extra])


@pytest.fixture(scope='module')
def gpu_run(tiny_data, tmp_path_factory):
    config = _config(tiny_data, tmp_path_factory.mktemp('gpu'), 'cuda')
    return config, train(config)


def test_mixed_precision_step_matches_the_float32_cpu_step(tiny_data, gpu_run, tmp_path):
    _, gpu = gpu_run
    cpu = train(_config(tiny_data, tmp_path, 'cpu', 'optim.epochs=1'))
    assert np.isfinite(gpu.losses).all()
    # Same seed, initial weights and batch; autocast float16 against float32.
    assert gpu.losses[0] == pytest.approx(cpu.losses[0], rel=2e-2)
    assert gpu.losses[-1] < gpu.losses[0]


def test_gpu_checkpoint_loads_on_cpu_and_gpu_with_the_same_depth(gpu_run):
    _, summary = gpu_run
    image = np.random.default_rng(0).integers(0, 256, (96, 256, 3), dtype=np.uint8)
    on_cpu = Predictor.from_checkpoint(summary.checkpoint, device='cpu').predict(image)
    on_gpu = Predictor.from_checkpoint(summary.checkpoint, device='cuda').predict(image)
    np.testing.assert_allclose(on_gpu.depth_m, on_cpu.depth_m, rtol=2e-2)
    assert on_cpu.depth_m.shape == (96, 256)


def test_resuming_a_gpu_checkpoint_on_the_gpu_continues_the_run(gpu_run, tmp_path):
    config, summary = gpu_run
    middle = summary.checkpoint.with_name('epoch_002.safetensors')
    resumed = train(_config(config.data.path, tmp_path, 'cuda', f'resume={middle}'))
    assert (resumed.epochs, resumed.steps) == (4, 4)
    # Same examples, weights, optimiser and loss-scaler state: the first run's last losses.
    np.testing.assert_allclose(resumed.losses, summary.losses[2:], rtol=2e-2)
