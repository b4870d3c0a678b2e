"""`colcon build` then `colcon test` in a workspace: the package builds and its tests run.

colcon comes from PyPI (pinned in requirements-rclpy.txt). The workspace holds a copy of this
repository as src/depth_ros; colcon test runs pytest through the `test` extra of setup.py. A few
of the package's own pure tests are selected to keep the run short; `colcon test-result` must
count them all, with no error or failure.
"""
from __future__ import annotations

import os
from pathlib import Path
import re
import shutil
import subprocess
import sys

import tools


IGNORE = shutil.ignore_patterns('.git', '.venv', '.venv-*', '__pycache__', 'build', 'install',
                                'log', 'runs', 'demo_out', 'out', '*.egg-info', '.pytest_cache',
                                '.ruff_cache')
SELECTED = ('test/ros/test_pairing.py', 'test/ros/test_package_xml.py',
            'test/ros/test_launch_files.py')
# launch_testing's pytest plugins do not load under the env's pytest 9 (a Jazzy robot's pytest
# loads them fine); they are switched off for this run only.
PLUGINS_OFF = ('-p', 'no:launch_testing', '-p', 'no:launch_ros')


def _colcon(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    env = tools.child_env()
    env['PATH'] = f'{Path(sys.executable).parent}{os.pathsep}{env["PATH"]}'
    return subprocess.run([sys.executable, '-m', 'colcon', *args], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=600)


def test_colcon_build_then_test_runs_the_tests(tmp_path):
    workspace = tmp_path / 'ws'
    shutil.copytree(tools.ROOT, workspace / 'src' / 'depth_ros', ignore=IGNORE)
    build = _colcon(workspace, 'build', '--packages-select', 'depth_ros')
    assert build.returncode == 0, build.stdout + build.stderr
    install = workspace / 'install' / 'depth_ros'
    assert (install / 'lib' / 'depth_ros' / 'mono_depth_node').is_file()
    assert (install / 'share' / 'depth_ros' / 'launch' / 'mono_depth.launch.py').is_file()
    test = _colcon(workspace, 'test', '--packages-select', 'depth_ros', '--pytest-args',
                   *PLUGINS_OFF, *SELECTED)
    assert test.returncode == 0, test.stdout + test.stderr
    result = _colcon(workspace, 'test-result', '--verbose')
    summary = result.stdout.strip().splitlines()[-1]
    print(f'colcon test-result: {summary}')
    counts = dict((k, int(v)) for v, k in re.findall(r'(\d+) (tests?|errors?|failures?)',
                                                     summary))
    assert counts.get('tests', 0) >= 20 and counts.get('errors') == 0, summary
    assert counts.get('failures') == 0 and result.returncode == 0, result.stdout
