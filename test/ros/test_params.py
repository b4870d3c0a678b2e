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
    ('depth_scale', 0.0, 'depth_scale must be in'),
    ('depth_scale', 2, 'must be a float'),
    ('qos_reliability', 'bogus', 'must be one of best_effort, reliable'),
    ('backend', 'caffe', 'must be one of torch'),
    ('device', 'gpu0', 'device must be cpu, cuda or cuda:N'),
    ('colored_min_depth_m', 500.0, 'must be smaller than colored_max_depth_m'),
    ('publish_tf', 1, 'must be a bool'),
    ('qos_depth', True, 'must be a int'),
    ('odom_frame', '', 'must not be empty'),
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

    assert set(params.BACKENDS) == set(inference.backend_names())


def test_config_yaml_sets_only_declared_parameters():
    doc = yaml.safe_load((ROOT / 'config' / 'mono_depth.yaml').read_text())
    values = doc['/**']['ros__parameters']
    assert set(values) <= set(params.defaults())
    config = params.NodeConfig.from_values(values)
    for name, value in values.items():
        assert params.check(name, value, config) is None, name
