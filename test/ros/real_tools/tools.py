"""Helpers of the real-tools tier: install the package as colcon does, child-process environment.

The package is installed into a temporary prefix with the same setup.py steps colcon's
ament_python build runs (egg_info, build, install --single-version-externally-managed, with
setup.cfg putting the executables in lib/depth_ros), so launch_ros finds `mono_depth_node`, the
launch files and config through the ament index exactly as on a robot.
"""
from __future__ import annotations

import os
from pathlib import Path
import shutil
import subprocess
import sys
import sysconfig
import time
from typing import Any


ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
SHARED = ROOT.parent / 'shared'
FRAME_PNG = SHARED / 'data' / 'frames' / 'kitti_raw_color_1242x375.png'
DEV_DRIVE_IMAGES = (SHARED / 'data' / 'real' / 'dev' / 'kitti_raw_0926_0005' / 'sequences' /
                    '0926_0005' / 'image_2')
# Copied into the scratch source tree (setup.py writes build/ and egg-info in place).
SOURCES = ('setup.py', 'setup.cfg', 'package.xml', 'resource', 'launch', 'config', 'rviz',
           'depth_ros')


def install_package(workdir: Path) -> Path:
    """Install depth_ros into `workdir`/install the way colcon's ament_python build does."""
    src, prefix = workdir / 'src', workdir / 'install'
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns('__pycache__'))
        else:
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, src / name)
    build = workdir / 'build'
    build.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, 'setup.py', '-q', 'egg_info', '--egg-base', str(build), 'build',
         '--build-base', str(build / 'build'), 'install', '--prefix', str(prefix),
         '--record', str(build / 'install.log'), '--single-version-externally-managed'],
        cwd=src, check=True, capture_output=True, text=True)
    return prefix


def site_packages(prefix: Path) -> Path:
    relative = Path(sysconfig.get_paths()['purelib']).relative_to(sys.prefix)
    return prefix / relative


def child_env(prefix: Path | None = None, **extra: str) -> dict[str, str]:
    """Environment of a process of the test: installed package first, discovery on localhost."""
    env = dict(os.environ)
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    env['PYTHONUNBUFFERED'] = '1'
    env['OMP_NUM_THREADS'] = env.get('OMP_NUM_THREADS', '1')
    if prefix is not None:
        env['AMENT_PREFIX_PATH'] = f'{prefix}{os.pathsep}{env.get("AMENT_PREFIX_PATH", "")}'
        env['PYTHONPATH'] = os.pathsep.join(
            [str(site_packages(prefix)), str(HERE)] +
            [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p and p != str(ROOT)])
    env.update(extra)
    return env


def run_launch(launch_file: Path, args: list[str], env: dict[str, str],
               timeout_s: float) -> subprocess.CompletedProcess:
    """`ros2 launch FILE ARGS` (run_launch.py does what ros2launch does), output captured."""
    return subprocess.run([sys.executable, str(HERE / 'run_launch.py'), str(launch_file), *args],
                          env=env, capture_output=True, text=True, timeout=timeout_s)


# The camera optical frame at base_link's origin, REP 103 optical axes.
OPTICAL_AT_BASE = '0 0 0 -1.5707963267948966 0 -1.5707963267948966'


def params_file(path: Path, **overrides: Any) -> Path:
    """The package's config/mono_depth.yaml with `overrides`, written to `path`."""
    import yaml

    doc = yaml.safe_load((ROOT / 'config' / 'mono_depth.yaml').read_text(encoding='utf-8'))
    doc['/**']['ros__parameters'].update(overrides)
    path.write_text(yaml.safe_dump(doc), encoding='utf-8')
    return path


def wait_for(predicate: Any, timeout_s: float = 20.0, period_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period_s)
    return bool(predicate())
