"""Launch files, RViz config and parameters file, checked without ROS (ast and yaml)."""
import ast
from pathlib import Path

import pytest
import yaml

from depth_ros.ros import launch_common, params


ROOT = Path(__file__).resolve().parents[2]
LAUNCH = ROOT / 'launch'


def _tree(name: str) -> ast.Module:
    return ast.parse((LAUNCH / name).read_text(), filename=name)


def _assigned(tree: ast.Module, name: str):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    raise AssertionError(f'{name} is not assigned at module level')


def _argument_names(tree: ast.Module) -> list[str]:
    """Names the launch file declares: the shared table's tuple passed to declare()."""
    call = _calls(tree, 'declare')
    assert len(call) == 1, 'one declare(...) of the shared argument table'
    return list(getattr(launch_common, call[0].args[0].id))


def _calls(tree: ast.AST, func: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, 'id', getattr(n.func, 'attr', None)) == func]


def _keyword(call: ast.Call, name: str) -> ast.expr:
    return next(k.value for k in call.keywords if k.arg == name)


def _strings(tree: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}


@pytest.mark.parametrize('name', ['mono_depth.launch.py', 'bag_replay.launch.py'])
def test_launch_file_structure(name):
    tree = _tree(name)
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert 'generate_launch_description' in functions
    assert _calls(tree, 'LaunchDescription') and not _calls(tree, 'DeclareLaunchArgument')
    names = _argument_names(tree)
    assert len(names) == len(set(names)) and set(names) <= set(launch_common.ARGUMENTS)


def test_mono_depth_launch_arguments_and_node():
    tree = _tree('mono_depth.launch.py')
    assert set(_argument_names(tree)) == {'params_file', 'weights', 'backend', 'device',
                                          'image', 'camera_info', 'use_sim_time', 'rviz'}
    assert launch_common.ARGUMENTS['rviz'].default == 'false'  # headless-safe
    assert _calls(tree, 'shutdown_on_exit')  # node exit ends the launch
    node = next(c for c in _calls(tree, 'Node')
                if _keyword(c, 'executable').value == 'mono_depth_node')
    remapped = {t.elts[0].value for t in _keyword(node, 'remappings').elts}
    assert remapped == {'image', 'camera_info'}
    overrides = {k.value for d in ast.walk(_keyword(node, 'parameters'))
                 if isinstance(d, ast.Dict) for k in d.keys}
    assert overrides <= set(params.defaults()) | {'use_sim_time'}
    rviz = next(c for c in _calls(tree, 'Node') if _keyword(c, 'executable').value == 'rviz2')
    assert _calls(_keyword(rviz, 'condition'), 'IfCondition')


def test_executable_is_a_console_script():
    assert "'mono_depth_node = depth_ros.ros.node:main'" in (ROOT / 'setup.py').read_text()


def test_bag_replay_uses_argument_lists():
    tree = _tree('bag_replay.launch.py')
    assert {'bag', 'output_bag', 'rate', 'weights', 'image', 'camera_info'} <= set(
        _argument_names(tree))
    processes = _calls(tree, 'ExecuteProcess')
    commands = []
    for call in processes:
        cmd = _keyword(call, 'cmd')
        assert isinstance(cmd, ast.List), 'ExecuteProcess cmd must be a list, not a string'
        assert all(k.arg != 'shell' for k in call.keywords)
        commands.append([e.value for e in cmd.elts[:3] if isinstance(e, ast.Constant)])
    assert sorted(commands) == [['ros2', 'bag', 'play'], ['ros2', 'bag', 'record']]
    assert set(launch_common.BAG_ARGUMENTS) >= set(launch_common.NODE_ARGUMENTS) - {
        'use_sim_time'}
    assert _calls(tree, 'OnProcessExit') and _calls(tree, 'Shutdown')


def _constants(relative: str, *names: str) -> list:
    """Module-level constants of a package module, read with ast (its imports, e.g. rosbags,
    need not be installed: colcon test runs this file in the ROS env)."""
    path = ROOT / 'depth_ros' / relative
    tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
    return [ast.literal_eval(_assigned(tree, name)) for name in names]


def test_bag_replay_records_what_evaluate_recorded_reads():
    topics = set(ast.literal_eval(_assigned(_tree('bag_replay.launch.py'), 'RECORDED_TOPICS')))
    depth, odom, tf = _constants('evaluation/recorded.py', 'DEPTH_TOPIC', 'ODOM_TOPICS',
                                 'TF_TOPICS')
    gt = _constants('evaluation/kitti_to_bag.py', 'GT_ODOM_TOPIC', 'GT_DEPTH_TOPIC')
    wanted = {depth, odom[0], *tf, *gt}
    assert wanted <= topics, wanted - topics


def test_files_named_in_launch_files_exist():
    named = _strings(_tree('mono_depth.launch.py')) | _strings(_tree('bag_replay.launch.py'))
    named |= _strings(ast.parse(Path(launch_common.__file__).read_text()))
    for folder, name in [('config', 'mono_depth.yaml'), ('rviz', 'depth_ros.rviz'),
                         ('launch', 'mono_depth.launch.py')]:
        assert name in named and (ROOT / folder / name).is_file()


def test_rviz_config_shows_the_outputs():
    doc = yaml.safe_load((ROOT / 'rviz' / 'depth_ros.rviz').read_text())
    manager = doc['Visualization Manager']
    assert manager['Global Options']['Fixed Frame'] == 'odom'
    displays = {d['Class'].split('/')[-1]: d for d in manager['Displays']}
    assert {'Grid', 'TF', 'PointCloud2', 'Odometry', 'Image'} <= set(displays)
    topics = {d['Topic']['Value'] for d in manager['Displays'] if 'Topic' in d}
    assert {'/points', '/visual_odometry', '/depth/image'} <= topics
    # Covariance is UNKNOWN_VARIANCE (1e6): drawing it would hide everything else.
    assert displays['Odometry']['Covariance']['Value'] is False
