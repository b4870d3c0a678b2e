"""The launch files under the real `launch` library, on the package installed colcon's way."""
from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import tools


def _share(prefix: Path) -> Path:
    return prefix / 'share' / 'depth_ros'


def _processes_running(marker: str) -> list[str]:
    """Command lines of live processes that mention `marker` (orphans of a launch)."""
    found = []
    for proc in Path('/proc').iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / 'cmdline').read_bytes().replace(b'\0', b' ').decode()
            except OSError:
                continue
            if marker in cmdline:
                found.append(cmdline)
    return found


def test_installed_like_colcon(installed):
    assert (installed / 'lib' / 'depth_ros' / 'mono_depth_node').is_file()
    assert (installed / 'share' / 'ament_index' / 'resource_index' / 'packages' /
            'depth_ros').is_file()
    for name in ('launch/mono_depth.launch.py', 'launch/bag_replay.launch.py',
                 'config/mono_depth.yaml', 'rviz/depth_ros.rviz', 'package.xml'):
        assert (_share(installed) / name).is_file(), name


def test_bad_weights_end_the_launch_with_the_reason_and_a_non_zero_code(installed, tmp_path):
    bad = tmp_path / 'broken.safetensors'
    bad.write_bytes(b'not a checkpoint')
    proc = tools.run_launch(_share(installed) / 'launch' / 'mono_depth.launch.py',
                            [f'weights:={bad}'], tools.child_env(installed), timeout_s=180)
    output = proc.stdout + proc.stderr
    print(output[-3000:])
    assert proc.returncode != 0, output[-3000:]
    reason = [line for line in output.splitlines() if 'configure failed:' in line]
    assert len(reason) == 1 and 'broken.safetensors' in reason[0], output[-3000:]
    assert 'mono_depth_node-1' in output and 'exited with code' in output
    assert not _processes_running(str(installed)), 'the node outlived its launch'


def test_rviz_is_not_started_by_default(installed):
    # With rviz2 absent (headless), the default launch must not even look for it: a launch that
    # wanted it would fail at once with "package 'rviz2' not found".
    env = tools.child_env(installed)
    code = ('import sys; sys.path.insert(0, sys.argv[1]); '
            'from launch import LaunchContext; '
            'import importlib.util as u; '
            'spec = u.spec_from_file_location("m", sys.argv[2]); m = u.module_from_spec(spec); '
            'spec.loader.exec_module(m); '
            'ld = m.generate_launch_description(); '
            'ctx = LaunchContext(); '
            '[e.visit(ctx) for e in ld.entities if type(e).__name__ == "DeclareLaunchArgument"]; '
            'rviz = [e for e in ld.entities if getattr(e, "node_executable", None) == "rviz2"]; '
            'print("rviz condition:", rviz[0].condition.evaluate(ctx))')
    proc = subprocess.run([sys.executable, '-c', code, str(tools.HERE),
                           str(_share(installed) / 'launch' / 'mono_depth.launch.py')],
                          env=env, capture_output=True, text=True, timeout=60)
    assert 'rviz condition: False' in proc.stdout, proc.stdout + proc.stderr


def test_launch_testing_mono_depth(installed):
    """The launch_testing test of mono_depth.launch.py, run by launch_testing's own runner."""
    proc = subprocess.run(
        [sys.executable, '-m', 'launch_testing.launch_test',
         str(tools.HERE / 'launch_mono_depth.py')],
        env=tools.child_env(installed), capture_output=True, text=True, timeout=400)
    output = proc.stdout + proc.stderr
    print('\n'.join(line for line in output.splitlines()
                    if 'launch test:' in line or line.startswith(('Ran ', 'OK', 'FAILED'))
                    or ' ... ' in line))
    assert proc.returncode == 0, output[-5000:]
    assert output.count(' ... ok') >= 2, output[-5000:]


def test_bag_replay_runs_ros2_bag_and_shuts_down_after_playback(installed, tmp_path):
    bin_dir, log = tmp_path / 'bin', tmp_path / 'ros2_calls.jsonl'
    bin_dir.mkdir()
    ros2 = bin_dir / 'ros2'
    ros2.write_text(f'#!{sys.executable}\n' + (tools.HERE / 'fake_ros2.py').read_text())
    ros2.chmod(0o755)
    env = tools.child_env(installed, FAKE_ROS2_LOG=str(log), FAKE_ROS2_PLAY_S='3')
    env['PATH'] = f'{bin_dir}:{env["PATH"]}'
    bag, output_bag = tmp_path / 'kitti_bag', tmp_path / 'out_bag'
    params = tools.params_file(tmp_path / 'params.yaml', base_to_camera=tools.OPTICAL_AT_BASE)
    proc = tools.run_launch(_share(installed) / 'launch' / 'bag_replay.launch.py',
                            [f'bag:={bag}', f'output_bag:={output_bag}', 'rate:=0.5',
                             'play_delay_s:=1.0', f'params_file:={params}'], env,
                            timeout_s=180)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    by_verb = {c['argv'][1]: c for c in calls}
    assert sorted(by_verb) == ['play', 'record'], calls
    assert by_verb['play']['argv'] == ['bag', 'play', str(bag), '--rate', '0.5', '--clock']
    record = by_verb['record']['argv']
    assert record[:4] == ['bag', 'record', '--output', str(output_bag)]
    assert {'/depth/image', '/points', '/tf', '/diagnostics'} <= set(record[4:])
    # What `evaluate --recorded` reads besides the outputs (test_launch_files.py checks these
    # against evaluation/recorded.py).
    assert {'/tf_static', '/ground_truth/odom', '/ground_truth/depth'} <= set(record[4:])
    assert by_verb['record']['signal'] == 'SIGINT'  # stopped cleanly, so the bag is complete
    assert 'mono_depth_node-1' in output and 'process started' in output
    assert '[mono_depth_node-1]: process has finished cleanly' in output  # shut down after play
    assert not _processes_running(str(installed)), 'a process outlived its launch'
