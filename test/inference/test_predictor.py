"""Predictor: shapes, units, conversions, batch equivalence and the pose convention."""
import numpy as np
import pytest
import torch

from depth_ros.errors import BackendError, ConfigError, InputError, WeightsError
from depth_ros.geometry.se3 import invert
from depth_ros.inference import Predictor
from depth_ros.models import ArchSpec, build_depth_net, build_pose_net, save_checkpoint


@pytest.fixture(scope='module')
def checkpoint(tiny_checkpoint):
    return tiny_checkpoint


@pytest.fixture(scope='module')
def predictor(checkpoint):
    return Predictor.from_checkpoint(checkpoint)


def _image(h=75, w=250, seed=0, channels=3):
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def test_depth_at_input_resolution_in_range(predictor):
    r = predictor.predict(_image())
    assert r.depth_m.shape == (75, 250) and r.depth_m.dtype == np.float32
    assert np.all((r.depth_m >= 0.1 - 1e-5) & (r.depth_m <= 100 + 1e-3))
    np.testing.assert_allclose(r.inv_depth_m * r.depth_m, 1.0, rtol=1e-5)


def test_metres_per_unit_multiplies_depth(checkpoint):
    img = _image()
    base = Predictor.from_checkpoint(checkpoint).predict(img).depth_m
    scaled = Predictor.from_checkpoint(checkpoint, metres_per_unit=2.5).predict(img).depth_m
    np.testing.assert_allclose(scaled, 2.5 * base, rtol=1e-5)
    # The names before the metres_per_unit / inv_depth_m rename, for one release.
    with pytest.warns(DeprecationWarning, match='metres_per_unit'):
        old = Predictor.from_checkpoint(checkpoint, depth_scale=2.5)
    with pytest.warns(DeprecationWarning, match='metres_per_unit'):
        assert old.depth_scale == 2.5
    result = old.predict(img)
    np.testing.assert_array_equal(result.depth_m, scaled)
    with pytest.warns(DeprecationWarning, match='inv_depth_m'):
        assert result.inv_depth is result.inv_depth_m


def test_network_sized_input_matches_bare_network(predictor, checkpoint):
    img = _image(64, 192)
    from depth_ros.models import load_checkpoint
    net = load_checkpoint(checkpoint).depth_net
    with torch.no_grad():
        sig = net(torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255).sigmoids[0]
    expected = 1.0 / (1 / 100 + (1 / 0.1 - 1 / 100) * sig[0, 0].numpy())
    np.testing.assert_allclose(predictor.predict(img).depth_m, expected, rtol=1e-4)



def test_input_size_runs_the_bare_network_at_that_size(checkpoint):
    """The checkpoint is 64x192; at input_size (96, 320) a 96x320 image reaches the bare network
    untouched, so its depth is the network's at that size; the pose network runs there too."""
    img = _image(96, 320, seed=7)
    from depth_ros.models import load_checkpoint
    ckpt = load_checkpoint(checkpoint)
    with torch.no_grad():
        x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
        sig = ckpt.depth_net(x).sigmoids[0]
    expected = 1.0 / (1 / 100 + (1 / 0.1 - 1 / 100) * sig[0, 0].numpy())
    larger = Predictor.from_checkpoint(checkpoint, input_size=(96, 320))
    assert larger.input_size == (96, 320) and larger.meta.width == 320
    np.testing.assert_allclose(larger.predict(img).depth_m, expected, rtol=1e-4)
    own = Predictor.from_checkpoint(checkpoint).predict(img).depth_m  # resized to 64x192 first
    assert np.abs(own - expected).max() > 1e-3 * expected.max()
    pose = larger.relative_pose(img, _image(96, 320, seed=8))
    assert pose.shape == (4, 4) and np.allclose(pose[3], [0, 0, 0, 1])


@pytest.mark.parametrize('size', [(100, 320), (96, 0), (-32, 64)])
def test_input_size_off_the_stride_is_refused(checkpoint, size):
    with pytest.raises(ConfigError, match='multiples of 32'):
        Predictor.from_checkpoint(checkpoint, input_size=size)


def test_flip_average_is_the_mean_of_the_image_and_its_mirror(checkpoint):
    """Monodepth2's post-processing, built from the bare network: the mirrored image's output
    mirrored back and averaged with the image's (in the sigmoid, i.e. inverse depth)."""
    img = _image(64, 192, seed=4)
    from depth_ros.models import load_checkpoint
    net = load_checkpoint(checkpoint).depth_net
    with torch.no_grad():
        x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
        sig = 0.5 * (net(x).sigmoids[0] + net(x.flip(-1)).sigmoids[0].flip(-1))
    expected = 1.0 / (1 / 100 + (1 / 0.1 - 1 / 100) * sig[0, 0].numpy())
    flip = Predictor.from_checkpoint(checkpoint, flip_average=True)
    got = flip.predict(img).depth_m
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    plain = Predictor.from_checkpoint(checkpoint).predict(img).depth_m
    assert np.abs(got - plain).max() > 1e-3 * plain.max()  # the option does something
    # Mirror-equivariant by construction: the mirrored image gives the mirrored depth.
    np.testing.assert_allclose(flip.predict(np.ascontiguousarray(img[:, ::-1])).depth_m,
                               got[:, ::-1], rtol=1e-5)

def test_grey_and_rgba_equal_their_rgb(predictor):
    grey = _image(channels=1)
    np.testing.assert_array_equal(predictor.predict(grey).depth_m,
                                  predictor.predict(np.repeat(grey[:, :, None], 3, 2)).depth_m)
    rgb = _image(seed=2)
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
    np.testing.assert_array_equal(predictor.predict(rgba).depth_m, predictor.predict(rgb).depth_m)


def test_batch_equals_single_frames(predictor):
    imgs = [_image(seed=3), _image(100, 300, seed=4)]
    batch = predictor.predict_batch(imgs)
    for img, res in zip(imgs, batch):
        np.testing.assert_allclose(res.depth_m, predictor.predict(img).depth_m, rtol=1e-4)


def test_relative_pose_is_inverse_of_network_motion(predictor, checkpoint):
    a, b = _image(64, 192, seed=5), _image(64, 192, seed=6)
    from depth_ros.models import load_checkpoint
    pose_net = load_checkpoint(checkpoint).pose_net
    to_t = lambda im: torch.from_numpy(im).permute(2, 0, 1)[None].float() / 255  # noqa: E731
    with torch.no_grad():
        cur_from_prev = pose_net(to_t(a), to_t(b))[0].double().numpy()
    prev_from_cur = predictor.relative_pose(a, b)
    np.testing.assert_allclose(prev_from_cur, invert(cur_from_prev), atol=1e-5)


def test_bad_inputs_are_clear_errors(predictor):
    with pytest.raises(InputError, match='uint8'):
        predictor.predict(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(InputError, match='channels'):
        predictor.predict(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(InputError, match='shape'):
        predictor.predict(np.zeros((0, 10, 3), np.uint8))


def test_device_and_weights_errors(checkpoint, tmp_path):
    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match='CUDA is not available'):
            Predictor.from_checkpoint(checkpoint, device='cuda')
    with pytest.raises(WeightsError, match='not found'):
        Predictor.from_checkpoint(tmp_path / 'missing.safetensors')


def test_reparameterisable_network_is_folded_with_identical_depth(tmp_path):
    torch.manual_seed(1)
    depth_net, pose_net = build_depth_net('smalldepth'), build_pose_net('pose_lite')
    path = tmp_path / 'small.safetensors'
    save_checkpoint(path, depth_net, pose_net, depth_arch=ArchSpec.of('smalldepth'),
                    pose_arch=ArchSpec.of('pose_lite'), height=64, width=192)
    predictor = Predictor.from_checkpoint(path)
    assert not any(type(m).__name__ == 'ETM' for m in predictor.backend.depth_net.modules())
    img = _image(64, 192, seed=7)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        sig = depth_net.eval()(x).sigmoids[0][0, 0].numpy()
    expected = 1.0 / (1 / 100 + (1 / 0.1 - 1 / 100) * sig)
    np.testing.assert_allclose(predictor.predict(img).depth_m, expected, rtol=1e-4)
    with pytest.raises(WeightsError, match='folded'):
        save_checkpoint(tmp_path / 'again.safetensors', predictor.backend.depth_net, None,
                        depth_arch=ArchSpec.of('smalldepth'), height=64, width=192)


def test_cuda_only_options_are_refused_on_the_cpu(checkpoint):
    from depth_ros.errors import ConfigError
    with pytest.raises(ConfigError, match='cuda_graphs needs a CUDA device'):
        Predictor.from_checkpoint(checkpoint, cuda_graphs=True)
    with pytest.raises(ConfigError, match='needs a CUDA device'):
        Predictor.from_checkpoint(checkpoint, precision='fp16')


@pytest.mark.parametrize('size', [(375, 1242), (40, 100), (16, 48)])
def test_opencv_and_torch_upsampling_agree(size, monkeypatch):
    from depth_ros.inference import preprocess

    pytest.importorskip('cv2')
    torch.manual_seed(0)
    small = torch.rand(1, 1, 16, 48) + 0.1
    fast = preprocess.resize_map_numpy(small, *size)
    monkeypatch.setattr(preprocess, '_cv2', lambda: None)
    reference = preprocess.resize_map_numpy(small, *size)
    expected = preprocess.resize_map(small, *size)[0, 0].numpy()
    assert fast.shape == reference.shape == size and fast.dtype == np.float32
    np.testing.assert_array_equal(reference, expected)
    np.testing.assert_allclose(fast, expected, rtol=1e-4, atol=0)


@pytest.mark.parametrize('backend', ['torch', 'onnxruntime'])
def test_warm_up_leaves_the_outputs_unchanged(checkpoint, backend):
    if backend == 'onnxruntime':
        pytest.importorskip('onnxruntime')
    cold = Predictor.from_checkpoint(checkpoint, backend=backend)
    warm = Predictor.from_checkpoint(checkpoint, backend=backend)
    warm.warm_up()
    a, b = _image(seed=3), _image(seed=4)
    np.testing.assert_array_equal(warm.predict(a).depth_m, cold.predict(a).depth_m)
    np.testing.assert_array_equal(warm.relative_pose(a, b), cold.relative_pose(a, b))
