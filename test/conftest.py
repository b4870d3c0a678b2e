"""Shared fixtures: locations of the reference vectors and real data in ../shared.

Tests that need them skip with the reason when they are absent; the product never reads them.
"""
from __future__ import annotations

import os
from pathlib import Path

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
