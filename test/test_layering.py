"""The dependency direction of ../shared/STYLE.md, checked on the source and by importing."""
import ast
from pathlib import Path
import subprocess
import sys

import pytest


ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / 'depth_ros'
ROS_PACKAGES = {'rclpy', 'sensor_msgs', 'nav_msgs', 'geometry_msgs', 'std_msgs', 'tf2_ros',
                'tf2_msgs', 'launch', 'launch_ros', 'cv_bridge', 'message_filters',
                'builtin_interfaces', 'lifecycle_msgs', 'rosbag2_py', 'diagnostic_msgs',
                'rcl_interfaces', 'ament_index_python'}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding='utf-8'))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split('.')[0])
    return names


def _sources():
    return sorted(PKG.rglob('*.py'))


def test_runtime_never_imports_training():
    offenders = [str(p.relative_to(ROOT)) for p in _sources() if 'training' in _imports(p)]
    assert not offenders, f'depth_ros must not import training/: {offenders}'


def test_only_ros_subpackage_imports_ros():
    offenders = [str(p.relative_to(ROOT)) for p in _sources()
                 if (_imports(p) & ROS_PACKAGES) and 'ros' not in p.relative_to(PKG).parts[:1]]
    assert not offenders, f'ROS imports outside depth_ros/ros: {offenders}'


def _loaded_after_import(module: str) -> set[str]:
    code = (f'import sys, {module}; '
            'print(",".join(sorted({m.split(".")[0] for m in sys.modules})))')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.strip().split(','))


@pytest.mark.parametrize('module,forbidden', [
    ('depth_ros', {'torch', 'rclpy', 'training'}),
    ('depth_ros.geometry.se3', {'torch', 'rclpy', 'training'}),
    ('depth_ros.geometry.intrinsics', {'torch', 'rclpy', 'training'}),
    ('depth_ros.models', {'rclpy', 'training', 'onnxruntime', 'matplotlib'}),
    ('depth_ros.inference', {'rclpy', 'training', 'onnxruntime', 'tensorrt'}),
])
def test_each_layer_imports_alone(module, forbidden):
    loaded = _loaded_after_import(module)
    assert not (loaded & forbidden), f'{module} pulled in {loaded & forbidden}'


def test_evaluation_metrics_are_numpy_only():
    if not (PKG / 'evaluation').is_dir():
        pytest.skip('depth_ros.evaluation not present')
    loaded = _loaded_after_import('depth_ros.evaluation')
    assert not (loaded & {'torch', 'rclpy', 'training', 'matplotlib'}), loaded


# What each layer of depth_ros/ (and training/) may import, besides itself. The layers run
# geometry -> models -> inference/export -> pipeline -> ros/evaluation/cli, with training beside
# (docs/ARCHITECTURE.md); errors, files, lazy, memory, colormaps and sizes are leaves everyone
# may use.
# ('depth_ros': __version__)
LEAVES = {'errors', 'files', 'lazy', 'memory', 'colormaps', 'sizes', 'depth_ros'}
MAY_IMPORT = {
    'geometry': set(),
    'models': {'geometry'},
    'export': {'geometry', 'models'},
    'inference': {'geometry', 'models', 'export'},
    'synth': {'geometry'},
    'pipeline': {'geometry', 'inference'},
    'bench': {'geometry', 'models', 'export', 'inference'},
    'ros': {'geometry', 'models', 'inference', 'pipeline'},
    # Bags hold ROS messages: evaluation reads and writes them with ros/'s pure codecs, and
    # nothing else of ros/ (test_evaluation_takes_only_the_message_codecs_from_ros).
    'evaluation': {'geometry', 'models', 'inference', 'pipeline', 'synth', 'ros'},
    'cli': {'geometry', 'models', 'export', 'inference', 'pipeline', 'synth', 'bench', 'ros',
            'evaluation'},
    # Training also reuses the runtime's two-view geometry (sparse depth for real video) and the
    # synthetic world's depth PNG encoding.
    'training': {'geometry', 'models', 'inference', 'evaluation', 'pipeline', 'synth'},
}


def _layer(module: str) -> str:
    parts = module.split('.')
    return 'training' if parts[0] == 'training' else (parts[1] if len(parts) > 1 else parts[0])


def test_layers_import_only_downwards():
    from test_import_graph import import_graph

    graph = import_graph()
    offenders = []
    for module, targets in graph.items():
        layer = _layer(module)
        allowed = MAY_IMPORT.get(layer, set()) | LEAVES | {layer}
        offenders += [f'{module} -> {t}' for t in sorted(targets)
                      if _layer(t) not in allowed and layer not in LEAVES]
    leaves = LEAVES - {'depth_ros'}
    leaf_offenders = [f'{m} -> {t}' for m, ts in graph.items() if _layer(m) in leaves
                      for t in ts if _layer(t) not in LEAVES]
    assert not offenders + leaf_offenders, 'imports against the layering: ' + ', '.join(
        offenders + leaf_offenders)


def test_every_layer_is_placed():
    from test_import_graph import import_graph

    layers = {_layer(m) for m in import_graph()}
    assert layers <= set(MAY_IMPORT) | LEAVES, f'layers without a rule: {layers - set(MAY_IMPORT)}'


CODECS = 'depth_ros.ros.codecs'


def _is_codecs(module: str) -> bool:
    return module == CODECS or module.startswith(CODECS + '.')


def test_evaluation_takes_only_the_message_codecs_from_ros():
    """Depth, scale, odometry, the motion gate and the base <-> camera conversion live in
    pipeline/ and geometry/; from ros/ the evaluator (and training) may use the codecs only."""
    from test_import_graph import import_graph

    graph = import_graph()
    offenders = [f'{m} -> {t}' for m, ts in graph.items()
                 if _layer(m) in ('evaluation', 'training')
                 for t in sorted(ts) if _layer(t) == 'ros' and not _is_codecs(t)
                 and t != 'depth_ros.ros']
    assert not offenders, 'evaluation imports ros/ beyond the codecs: ' + ', '.join(offenders)


def test_codecs_import_no_ros_package_and_no_other_ros_module():
    from test_import_graph import _modules, import_graph

    graph, files = import_graph(), _modules()
    codecs = {m for m in files if _is_codecs(m)}
    assert len(codecs) >= 5, sorted(codecs)  # the package and its modules were found
    ros_imports = {m: sorted(_imports(files[m]) & ROS_PACKAGES) for m in codecs}
    assert not any(ros_imports.values()), ros_imports
    others = [f'{m} -> {t}' for m in codecs for t in sorted(graph[m])
              if _layer(t) == 'ros' and not _is_codecs(t) and t != 'depth_ros.ros']
    assert not others, others
    # Importing the codecs runs depth_ros/ros/__init__.py too: it must stay ROS-free.
    assert not _imports(files['depth_ros.ros']) & ROS_PACKAGES
    loaded = _loaded_after_import(CODECS)
    assert not loaded & (ROS_PACKAGES | {'torch'}), loaded & (ROS_PACKAGES | {'torch'})
