"""The torch backend and the Predictor on CUDA: float32 agreement with the CPU, fp16/bf16,
CUDA graphs (capture, replay, one graph per shape), torch.compile, no host synchronisation in
the hot path, and the page-locked upload. Skipped without a CUDA GPU (benchmarks/gpu_check.py
runs them on the GPU machine)."""
import copy

import numpy as np
import pytest
import torch

from depth_ros.inference.host_staging import PinnedUploader
from depth_ros.inference.predictor import Predictor
from depth_ros.inference.torch_backend import TorchBackend
from depth_ros.models.checkpoint import Checkpoint, CheckpointMeta
from depth_ros.models.registry import ArchSpec, build_for_weights, build_pose_net


pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')]
CUDA = torch.device('cuda')
CPU = torch.device('cpu')
H, W = 64, 192
# Largest difference of sigmoid outputs from the float32 CPU network (in [0, 1]); 'fp32' on
# CUDA convolves in TF32 (torch's default for cuDNN), with a 10-bit mantissa like fp16.
TOLERANCE = {'fp32': 1e-3, 'fp16': 5e-3, 'bf16': 3e-2}


def _checkpoint(arch: str = 'resnet18', pose: str = 'resnet18') -> Checkpoint:
    torch.manual_seed(0)
    meta = CheckpointMeta(depth_arch=ArchSpec.of(arch), pose_arch=ArchSpec.of(pose),
                          height=H, width=W)
    return Checkpoint(build_for_weights('depth', arch), build_pose_net(pose), meta)


def _backend(checkpoint: Checkpoint, device: torch.device, **options) -> TorchBackend:
    return TorchBackend(copy.deepcopy(checkpoint), device, **options)


def _images(batch: int = 2, seed: int = 0, height: int = H, width: int = W) -> torch.Tensor:
    return torch.rand(batch, 3, height, width, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope='module')
def checkpoint() -> Checkpoint:
    return _checkpoint()


@pytest.fixture(scope='module')
def cpu_reference(checkpoint):
    backend = _backend(checkpoint, CPU)
    images = _images()
    return images, backend.depth(images), backend.pose(images[:1], images[1:])


@pytest.mark.parametrize('arch', ['resnet18', 'smalldepth', 'dna_lite0', 'drn', 'dual'])
@pytest.mark.parametrize('precision', ['fp32', 'fp16', 'bf16'])
def test_depth_on_cuda_matches_the_cpu(arch, precision):
    checkpoint = _checkpoint(arch, 'pose_lite')
    images = _images()
    expected = _backend(checkpoint, CPU).depth(images)
    got = _backend(checkpoint, CUDA, precision=precision).depth(images.to(CUDA))
    assert got.dtype == torch.float32 and got.device.type == CUDA.type
    torch.testing.assert_close(got.cpu(), expected, rtol=0, atol=TOLERANCE[precision])


@pytest.mark.parametrize('precision', ['fp32', 'fp16', 'bf16'])
def test_pose_on_cuda_matches_the_cpu(checkpoint, cpu_reference, precision):
    images, _, expected = cpu_reference
    backend = _backend(checkpoint, CUDA, precision=precision)
    got = backend.pose(images[:1].to(CUDA), images[1:].to(CUDA))
    assert got.dtype == torch.float32
    torch.testing.assert_close(got.cpu(), expected, rtol=0, atol=10 * TOLERANCE[precision])


@pytest.mark.parametrize('precision', ['fp32', 'fp16'])
def test_cuda_graph_replays_what_eager_computes_for_each_shape(checkpoint, precision):
    eager = _backend(checkpoint, CUDA, precision=precision)
    graphs = _backend(checkpoint, CUDA, precision=precision, cuda_graphs=True)
    first, second = _images(seed=1).to(CUDA), _images(seed=2).to(CUDA)
    out_first = graphs.depth(first)
    out_second = graphs.depth(second)  # same shape: replayed with the new input
    other = _images(batch=1, seed=3, height=2 * H, width=2 * W).to(CUDA)
    out_other = graphs.depth(other)  # another shape: its own graph
    assert len(graphs._graphs) == 2
    atol = 1e-4 if precision == 'fp32' else 5e-3  # cuDNN may pick other kernels per backend
    for images, out in ((first, out_first), (second, out_second), (other, out_other)):
        torch.testing.assert_close(out, eager.depth(images), rtol=0, atol=atol)
    # Each call hands out its own copy: the next replay does not overwrite it.
    assert not torch.allclose(out_first, out_second)


@pytest.mark.parametrize('options', [{}, {'precision': 'fp16', 'cuda_graphs': True}])
def test_no_host_synchronisation_in_the_hot_path(checkpoint, options):
    predictor = Predictor(_backend(checkpoint, CUDA, **options), checkpoint.meta)
    image = np.random.default_rng(0).integers(0, 256, (375, 1242, 3), dtype=np.uint8)
    predictor.predict(image)  # warm-up: cuDNN autotuning, graph capture, buffers
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        prepared = predictor.prepare(image)
        predictor.backend.depth(prepared.tensor)
    finally:
        torch.cuda.set_sync_debug_mode('default')


def test_predictor_on_cuda_matches_the_cpu(checkpoint):
    rng = np.random.default_rng(4)
    images = [rng.integers(0, 256, (375, 1242, 3), dtype=np.uint8) for _ in range(3)]
    cpu = Predictor(_backend(checkpoint, CPU), checkpoint.meta)
    gpu = Predictor(_backend(checkpoint, CUDA), checkpoint.meta)
    # Prepared back to back: each upload must keep its own image (reused page-locked buffer).
    prepared = [gpu.prepare(im) for im in images]
    for image, ready in zip(images, prepared):
        # The CPU resizes the uint8 image, the GPU the float one: up to a grey level apart.
        torch.testing.assert_close(ready.tensor.cpu(), cpu.prepare(image).tensor, rtol=0,
                                   atol=1.01 / 255)
    got = gpu.predict(prepared[0]).depth_m
    assert got.shape == (375, 1242) and got.dtype == np.float32
    np.testing.assert_allclose(got, cpu.predict(images[0]).depth_m, rtol=2e-2)


def test_pinned_upload_is_the_image():
    upload = PinnedUploader(CUDA, max_shapes=1)
    rng = np.random.default_rng(5)
    images = [rng.integers(0, 256, shape, dtype=np.uint8)
              for shape in ((20, 30, 3), (20, 30, 3), (7, 9, 3))]
    uploaded = [upload(im) for im in images]
    for image, tensor in zip(images, uploaded):
        assert tensor.device.type == 'cuda' and tensor.dtype == torch.uint8
        np.testing.assert_array_equal(tensor.cpu().numpy(), image)


# Last: compiling takes the longest.
def test_compiled_depth_network_matches_eager(checkpoint):
    images = _images().to(CUDA)
    expected = _backend(checkpoint, CUDA).depth(images)
    compiled = _backend(checkpoint, CUDA, compile='inductor')
    torch.testing.assert_close(compiled.depth(images), expected, rtol=0, atol=1e-3)
