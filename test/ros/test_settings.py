"""What the node's parameters mean to the library (`depth_ros.ros.settings`): backend options,
input size, threads, the fixed scale, the pipeline's settings, camera-height warnings."""
from dataclasses import replace

import pytest

from depth_ros.inference.packaged import camera_height_warning
from depth_ros.ros import settings
from depth_ros.ros.params import NodeConfig, check


def test_predictor_options_carry_only_what_was_set():
    assert settings.predictor_options(NodeConfig(backend='torch')) == {}
    gpu = NodeConfig(backend='torch', device='cuda', precision='fp16', cuda_graphs=True)
    assert settings.predictor_options(gpu) == {'precision': 'fp16', 'cuda_graphs': True}


def test_pipeline_config_takes_the_gate_and_the_gap():
    config = NodeConfig(motion_gate_threshold=1.5, max_pose_gap_s=2.0, depth_downsample=2)
    pipeline = settings.pipeline_config(config)
    assert (pipeline.motion_gate_threshold, pipeline.max_pose_gap_s,
            pipeline.depth_downsample) == (1.5, 2.0, 2)


def test_pipeline_config_takes_the_depth_refinement():
    assert settings.pipeline_config(NodeConfig()).depth_refinement == 'none'
    refined = settings.pipeline_config(NodeConfig(depth_refinement='tracks'))
    assert refined.depth_refinement == 'tracks'


@pytest.mark.parametrize('values, expected', [
    ({}, 1.0),
    ({'scale': 2.0}, 2.0),
    ({'depth_scale': 3.0}, 3.0),  # the deprecated name alone
    ({'scale': 2.0, 'depth_scale': 3.0}, 3.0),  # set away from 1.0, the old name's value is used
    ({'scale': 2.0, 'depth_scale': 1.0}, 2.0),  # the old name at its default changes nothing
])
def test_the_pipeline_multiplies_by_scale_or_its_deprecated_name(values, expected):
    assert settings.pipeline_config(NodeConfig(**values)).scale == expected


@pytest.mark.parametrize('values, warns', [
    ({'scale_source': 'camera_height', 'camera_height_m': 0.6}, True),  # a small robot
    ({'scale_source': 'camera_height', 'camera_height_m': 2.5, 'weights': 'synthetic'}, True),
    ({'scale_source': 'camera_height', 'camera_height_m': 1.5}, False),  # a car's camera
    ({'scale_source': 'camera_height', 'camera_height_m': 0.6, 'weights': 'mine.safetensors'},
     False),  # weights of its own: they may have learned this camera's road
    ({'scale_source': 'fixed', 'camera_height_m': 0.6}, False),
])
def test_camera_height_far_from_the_packaged_weights_camera_warns(values, warns):
    messages = settings.scale_warnings(NodeConfig.from_values(values))
    assert bool(messages) == warns
    if warns:
        height = values['camera_height_m']
        assert f'camera_height_m {height:g}' in messages[0]
        assert f'({height / 1.65:.2f})' in messages[0] and 'camera_heights' in messages[0]


def test_a_height_from_tf_is_judged_the_same_way():
    said_by = 'base_footprint -> camera 0.45 m from TF'
    message = camera_height_warning('', 0.45, said_by)
    assert message.startswith(f'camera-height scale with {said_by}: ') and '(0.27)' in message
    assert camera_height_warning('default', 1.8, said_by) is None  # within 20 %
    assert camera_height_warning('my.safetensors', 0.45, said_by) is None


def test_threads_reach_the_backend_that_takes_them():
    """`threads` becomes onnxruntime's intra-op thread count when that is the backend (explicit,
    or what 'auto' picks on the CPU); torch takes it process-wide in the node instead."""

    from depth_ros.inference.backend_choices import onnxruntime_installed

    config = replace(NodeConfig(), threads=1)
    assert settings.predictor_options(replace(config, backend='onnxruntime')) == {'threads': 1}
    assert settings.predictor_options(replace(config, backend='torch')) == {}
    auto = settings.predictor_options(replace(config, backend='auto'))
    assert auto == ({'threads': 1} if onnxruntime_installed() else {})
    assert check('threads', -1, NodeConfig()) is not None


def test_threads_zero_leaves_one_cpu_to_the_camera_and_dds(monkeypatch):
    for cpus, expected in [(1, 1), (2, 1), (8, 7)]:
        monkeypatch.setattr(settings, 'available_cpus', lambda n=cpus: n)
        assert settings.inference_threads(NodeConfig()) == expected
        assert settings.predictor_options(NodeConfig(backend='onnxruntime')) == {
            'threads': expected}
    assert settings.inference_threads(NodeConfig(threads=3)) == 3


def test_input_size_is_read_as_width_by_height():
    assert settings.input_size(NodeConfig()) is None
    assert settings.input_size(NodeConfig(input_size=' 512X160 ')) == (160, 512)
