"""Node parameters: one default per name, checks refuse bad values with a reason."""
from dataclasses import fields
from pathlib import Path
import re

import pytest
import yaml

from depth_ros.ros import params


ROOT = Path(__file__).resolve().parents[2]


def test_every_parameter_has_a_spec_and_vice_versa():
    assert set(params.SPECS) == {f.name for f in fields(params.NodeConfig)}
    assert all(spec.description.endswith('.') for spec in params.SPECS.values())


def test_defaults_pass_their_own_checks():
    config = params.NodeConfig()
    for name, value in params.defaults().items():
        assert params.check(name, value, config) is None, name


@pytest.mark.parametrize('name, value, reason', [
    ('point_stride', 0, r'point_stride must be in \[1, 64\]'),
    ('scale', 0.0, 'scale must be in'),
    ('scale', 2, 'must be a float'),
    ('depth_scale', 0.0, 'depth_scale must be in'),
    ('qos_reliability', 'bogus', 'must be one of best_effort, reliable'),
    ('backend', 'caffe', 'must be one of auto, torch'),
    ('device', 'gpu0', 'device must be cpu, cuda or cuda:N'),
    ('colored_min_depth_m', 500.0, 'must be smaller than colored_max_depth_m'),
    ('publish_tf', 1, 'must be a bool'),
    ('qos_depth', True, 'must be a int'),
    ('odom_frame', '', 'must not be empty'),
    ('input_size', '512x150', 'both sides must be positive multiples of 32'),
    ('input_size', '512', r'is not WxH'),
    ('input_size', 512, 'must be a str'),
])
def test_bad_values_are_refused(name, value, reason):
    refused = params.check(name, value, params.NodeConfig())
    assert refused is not None
    assert re.search(reason, refused), refused


def test_unknown_parameters_are_not_ours():
    assert params.check('use_sim_time', True, params.NodeConfig()) is None


def test_backend_choices_match_the_library():
    pytest.importorskip('torch')
    from depth_ros import inference

    assert set(params.BACKEND_CHOICES) == {'auto', *inference.backend_names()}


def test_config_yaml_sets_only_declared_parameters():
    doc = yaml.safe_load((ROOT / 'config' / 'mono_depth.yaml').read_text())
    values = doc['/**']['ros__parameters']
    assert set(values) <= set(params.defaults())
    config = params.NodeConfig.from_values(values)
    for name, value in values.items():
        assert params.check(name, value, config) is None, name


@pytest.mark.parametrize('values, reason', [
    ({'precision': 'fp16'}, 'precision fp16 needs a CUDA device'),
    ({'precision': 'bf16'}, 'precision bf16 needs a CUDA device'),
    ({'cuda_graphs': True}, 'cuda_graphs needs the torch backend on a CUDA device'),
    ({'device': 'cuda', 'backend': 'onnxruntime', 'precision': 'bf16'}, 'needs the torch backend'),
    ({'device': 'cuda', 'backend': 'tensorrt', 'cuda_graphs': True}, 'cuda_graphs needs'),
])
def test_acceleration_the_backend_cannot_run_is_refused(values, reason):
    refused = params.check_combination(params.NodeConfig(**values))
    assert refused is not None and reason in refused, refused


@pytest.mark.parametrize('values', [
    {},
    {'device': 'cuda', 'precision': 'fp16', 'cuda_graphs': True},
    {'device': 'cuda:1', 'precision': 'bf16'},
    {'device': 'cuda', 'backend': 'onnxruntime', 'precision': 'fp16'},
    {'device': 'cuda', 'backend': 'tensorrt', 'precision': 'fp16'},
])
def test_acceleration_a_gpu_can_run_is_accepted(values):
    assert params.check_combination(params.NodeConfig(**values)) is None


@pytest.mark.parametrize('precision, cuda_graphs', [('fp16', False), ('bf16', False),
                                                     ('fp32', True)])
def test_the_torch_backend_refuses_on_the_cpu_what_the_parameters_refuse(precision, cuda_graphs):
    torch = pytest.importorskip('torch')
    from depth_ros.errors import ConfigError
    from depth_ros.inference.torch_backend import TorchBackend

    config = params.NodeConfig(precision=precision, cuda_graphs=cuda_graphs)
    assert params.check_combination(config) is not None
    with pytest.raises(ConfigError):  # refused before the checkpoint is looked at
        TorchBackend(None, torch.device('cpu'), precision=precision, cuda_graphs=cuda_graphs)


def test_the_deprecated_name_warns_only_when_set():
    assert params.deprecation_warnings(params.defaults()) == []
    assert params.deprecation_warnings({'scale': 2.0}) == []
    (message,) = params.deprecation_warnings({'depth_scale': 2.5, 'scale': 1.0})
    assert 'depth_scale is deprecated' in message and 'use scale' in message and '2.5' in message


def test_deprecated_names_are_declared_and_documented_as_such():
    for old, new in params.DEPRECATED.items():
        assert old in params.SPECS and new in params.SPECS
        assert params.SPECS[old].description.startswith(f'Deprecated name of {new}')
    doc = yaml.safe_load((ROOT / 'config' / 'mono_depth.yaml').read_text())
    assert not set(params.DEPRECATED) & set(doc['/**']['ros__parameters'])


def test_changes_are_checked_together_in_either_order():
    cpu = params.NodeConfig()
    for changes in ([('device', 'cuda'), ('precision', 'fp16')],
                    [('precision', 'fp16'), ('device', 'cuda')]):
        config, reason = params.apply_changes(cpu, changes)
        assert reason is None and (config.device, config.precision) == ('cuda', 'fp16')
    config, reason = params.apply_changes(cpu, [('precision', 'fp16')])
    assert config is cpu and 'needs a CUDA device' in reason
    config, reason = params.apply_changes(cpu, [('point_stride', 8), ('point_stride', 0)])
    assert config is cpu and 'point_stride must be in' in reason
    assert params.first_invalid({'precision': 'fp16'}, params.NodeConfig(precision='fp16'))
    assert params.first_invalid(params.defaults(), cpu) is None
