"""The launch arguments and exit handling shared by launch/mono_depth.launch.py and
launch/bag_replay.launch.py.

The table is plain data (readable without ROS); `declare()` and `shutdown_on_exit()` import the
`launch` library only when a launch file calls them.
"""
from __future__ import annotations

from typing import Any, NamedTuple


class LaunchArgument(NamedTuple):
    """One launch argument: name, default (None: required; PARAMS_FILE: the package's file)."""

    name: str
    default: str | None
    description: str


PARAMS_FILE = '<share>/config/mono_depth.yaml'
ARGUMENTS: dict[str, LaunchArgument] = {a.name: a for a in (
    LaunchArgument('params_file', PARAMS_FILE, 'YAML file of node parameters'),
    LaunchArgument('weights', '', 'checkpoint (.safetensors); empty: the weights shipped with '
                   'the package'),
    LaunchArgument('backend', 'auto', 'inference backend: auto, torch, onnxruntime or tensorrt'),
    LaunchArgument('device', 'cpu', 'inference device: cpu, cuda or cuda:N'),
    LaunchArgument('image', '/camera/image_rect', 'input image topic (rectified; with '
                   'image_transport compressed the node subscribes to <image>/compressed)'),
    LaunchArgument('camera_info', '/camera/camera_info', 'input camera_info topic'),
    LaunchArgument('use_sim_time', 'false', 'use /clock (true when playing a bag)'),
    LaunchArgument('rviz', 'false', 'also start RViz with rviz/depth_ros.rviz (needs rviz2 '
                   'installed; leave false on a headless robot)'),
    LaunchArgument('bag', None, 'input rosbag2 folder to play'),
    LaunchArgument('output_bag', 'depth_ros_replay', 'folder of the recorded output bag (must '
                   'not exist)'),
    LaunchArgument('rate', '1.0', 'playback rate'),
    LaunchArgument('play_delay_s', '5.0', 'seconds between start-up and playback (model '
                   'loading)'),
)}
# What each launch file declares, in order.
NODE_ARGUMENTS = ('params_file', 'weights', 'backend', 'device', 'image', 'camera_info',
                  'use_sim_time', 'rviz')
BAG_ARGUMENTS = ('bag', 'output_bag', 'rate', 'play_delay_s', *NODE_ARGUMENTS[:-2], 'rviz')


def declare(names: tuple[str, ...]) -> list[Any]:
    """DeclareLaunchArgument actions for `names`, from the shared table."""
    from launch.actions import DeclareLaunchArgument
    from launch.substitutions import PathJoinSubstitution
    from launch_ros.substitutions import FindPackageShare

    actions = []
    for name in names:
        argument = ARGUMENTS[name]
        default: Any = argument.default
        if default == PARAMS_FILE:
            default = PathJoinSubstitution([FindPackageShare('depth_ros'), 'config',
                                            'mono_depth.yaml'])
        kwargs = {} if default is None else {'default_value': default}
        actions.append(DeclareLaunchArgument(name, description=argument.description, **kwargs))
    return actions


class ProcessFailed(RuntimeError):
    """A process of the launch exited with a non-zero code (ends the launch with exit code 1)."""


def shutdown_on_exit(process: Any) -> Any:
    """When `process` exits, shut the whole launch down; a non-zero exit fails the launch.

    A clean exit emits Shutdown. A failed one raises `ProcessFailed` from the event handler: the
    launch service logs it ('Caught exception in launch ...'), shuts down every other process
    (no orphans) and returns 1, so `ros2 launch` exits non-zero. The node has already logged its
    one-line reason (for example why the weights could not be loaded).
    """
    from launch.actions import EmitEvent, RegisterEventHandler
    from launch.event_handlers import OnProcessExit
    from launch.events import Shutdown

    def on_exit(event: Any, context: Any) -> list[Any]:
        if event.returncode:
            raise ProcessFailed(f'{event.action.name} exited with code {event.returncode}')
        return [EmitEvent(event=Shutdown(reason=f'{event.action.name} exited'))]

    return RegisterEventHandler(OnProcessExit(target_action=process, on_exit=on_exit))
