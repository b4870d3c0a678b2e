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
