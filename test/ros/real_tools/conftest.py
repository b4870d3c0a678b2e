"""The real-tools tier: real launch, launch_testing, tf2 and DDS between processes.

Runs inside the isolated env (bash test/ros/rclpy_env.sh --run test/ros/real_tools), which puts
the whole run in its own network namespace with only loopback up; the processes here find each
other with ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (set before this process's rclpy.init too).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import rclpy
import tools


@pytest.fixture(scope='session')
def installed(tmp_path_factory) -> Path:
    """The package installed colcon's way into a temporary prefix."""
    return tools.install_package(tmp_path_factory.mktemp('ws'))


@pytest.fixture(scope='session', autouse=True)
def ros_context():
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'  # read by rcl at init
    rclpy.init()
    yield
    rclpy.try_shutdown()
