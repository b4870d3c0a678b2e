"""Fixtures of the real-rclpy tier: the weights, the rclpy context, node harnesses.

Runs only inside the isolated env (bash test/ros/rclpy_env.sh --run test/ros/real_rclpy). DDS
discovery is switched off before rclpy.init, so only nodes inside this process communicate and
nothing is sent on the network.
"""
from __future__ import annotations

import os

from harness import Harness
import pytest
import rclpy


@pytest.fixture(scope='session')
def checkpoint(tmp_path_factory) -> str:
    """'' (the node's value for the shipped default weights) when the package ships them,
    else a tiny random checkpoint."""
    import torch

    from depth_ros.inference import default_weights_path
    from depth_ros.models import ArchSpec, build_depth_net, build_pose_net, save_checkpoint

    torch.set_num_threads(1)
    if default_weights_path() is not None:
        print(f'node tests use the shipped default weights {default_weights_path()}')
        return ''
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('weights') / 'tiny.safetensors'
    save_checkpoint(path, build_depth_net('resnet18'), build_pose_net('resnet18'),
                    depth_arch=ArchSpec.of('resnet18'), pose_arch=ArchSpec.of('resnet18'),
                    height=64, width=96, notes='random weights for the node tests')
    return str(path)


@pytest.fixture(scope='session', autouse=True)
def ros_context():
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'OFF'  # read by rcl at init
    rclpy.init()
    yield
    rclpy.try_shutdown()


@pytest.fixture
def make_harness(checkpoint):
    made = []

    def make(**kwargs) -> Harness:
        harness = Harness(checkpoint, **kwargs)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()
