"""The README documents every node parameter, output topic and diagnostics key."""
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


def test_every_diagnostics_key_is_documented():
    from depth_ros.ros.diagnostics import DiagnosticsCollector

    collector = DiagnosticsCollector('n: t')
    keys = [key for key, _ in collector.key_values(collector.summary(0.0))]
    rows = [line for line in README.splitlines() if line.startswith('| `')]
    missing = [key for key in keys if not any(f'`{key}`' in row for row in rows)]
    assert not missing, f'README lacks diagnostics keys {missing}'
