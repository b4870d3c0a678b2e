"""Shared fixtures: locations of the reference vectors and real data in ../shared, and one tiny
random checkpoint.

Tests that need ../shared skip with the reason when it is absent; the product never reads it.
"""
from __future__ import annotations

import os
from pathlib import Path
import shutil

import pytest


ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('DEPTH_ROS_SHARED', ROOT.parent / 'shared'))


def _folder(env: str, default: Path) -> Path:
    path = Path(os.environ.get(env, default))
    return path if path.is_absolute() else (ROOT / path)


@pytest.fixture(scope='session')
def md2_reference() -> Path:
    """Monodepth2 reference vectors (DEPTH_ROS_MD2_REFERENCE)."""
    path = _folder('DEPTH_ROS_MD2_REFERENCE', SHARED / 'reference' / 'monodepth2')
    if not path.is_dir():
        pytest.skip(f'Monodepth2 reference vectors not found at {path} (DEPTH_ROS_MD2_REFERENCE)')
    return path


@pytest.fixture(scope='session')
def trajectory_reference() -> Path:
    """Trajectory metric reference values (DEPTH_ROS_TRAJECTORY_REFERENCE)."""
    path = _folder('DEPTH_ROS_TRAJECTORY_REFERENCE', SHARED / 'reference' / 'trajectory')
    if not path.is_dir():
        pytest.skip(f'trajectory reference not found at {path} (DEPTH_ROS_TRAJECTORY_REFERENCE)')
    return path


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """Real KITTI / RGB-D material in ../shared/data."""
    path = SHARED / 'data'
    if not path.is_dir():
        pytest.skip(f'shared data not found at {path}')
    return path


@pytest.fixture(scope='session')
def copy_kitti_frames():
    """Copies the first frames (image_2, depth_2) and calib.txt of a KITTI-layout sequence:
    `copy(source_dir, target_dir, frames=3) -> target_dir`."""
    def copy(source: Path, target: Path, frames: int = 3) -> Path:
        for sub in ('image_2', 'depth_2'):
            (target / sub).mkdir(parents=True)
            for path in sorted((source / sub).iterdir())[:frames]:
                shutil.copy(path, target / sub / path.name)
        shutil.copy(source / 'calib.txt', target / 'calib.txt')
        return target
    return copy


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A native checkpoint of randomly initialised ResNet-18 depth and pose networks (seed 0),
    input 64x192, depth range 0.1..100, 1 metre per unit: for tests of the plumbing around the
    networks (backends, export, CLI, replay), where trained weights would only cost time.

    Read-only: a test that changes a checkpoint writes its own.
    """
    torch = pytest.importorskip('torch')
    from depth_ros.models import ArchSpec, build_depth_net, build_pose_net, save_checkpoint

    path = tmp_path_factory.mktemp('tiny_checkpoint') / 'tiny.safetensors'
    with torch.random.fork_rng(devices=[]):  # the same weights whatever ran before
        torch.manual_seed(0)
        depth_net, pose_net = build_depth_net('resnet18'), build_pose_net('resnet18')
    save_checkpoint(path, depth_net, pose_net, depth_arch=ArchSpec.of('resnet18'),
                    pose_arch=ArchSpec.of('resnet18'), height=64, width=192, min_depth=0.1,
                    max_depth=100.0)
    return path


@pytest.fixture(scope='session', autouse=True)
def _one_torch_thread():
    """One torch thread for the whole suite: CI's two cores are shared with subprocesses the
    tests start, and two threads waiting on a busy core run several times slower."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
