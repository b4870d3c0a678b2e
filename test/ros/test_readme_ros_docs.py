"""The README documents every node parameter and output topic."""
from pathlib import Path

from depth_ros.ros import params
from depth_ros.ros.topics import OUTPUTS


README = (Path(__file__).resolve().parents[2] / 'README.md').read_text(encoding='utf-8')


def test_every_parameter_is_documented():
    missing = [name for name in params.SPECS if f'| `{name}` |' not in README]
    assert not missing, f'README lacks parameters {missing}'


def test_every_output_topic_is_documented():
    missing = [t for t in OUTPUTS if f'| `{t}` |' not in README]
    assert not missing, f'README lacks topics {missing}'
