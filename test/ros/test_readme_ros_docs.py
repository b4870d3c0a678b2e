"""The README documents every node parameter and output topic."""
from pathlib import Path

from depth_ros.ros import params


README = (Path(__file__).resolve().parents[2] / 'README.md').read_text(encoding='utf-8')


def test_every_parameter_is_documented():
    missing = [name for name in params.SPECS if f'| `{name}` |' not in README]
    assert not missing, f'README lacks parameters {missing}'


def test_every_output_topic_is_documented():
    import ast
    node_src = (Path(params.__file__).with_name('node.py')).read_text(encoding='utf-8')
    outputs = next(n for n in ast.walk(ast.parse(node_src))
                   if isinstance(n, ast.Assign) and getattr(n.targets[0], 'id', '') == 'OUTPUTS')
    topics = [k.value for k in outputs.value.keys]
    missing = [t for t in topics if f'| `{t}` |' not in README]
    assert not missing, f'README lacks topics {missing}'
