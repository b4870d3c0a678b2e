"""Play a rosbag2 through the mono_depth node and record its outputs.

    ros2 launch depth_ros bag_replay.launch.py bag:=/data/kitti_00 output_bag:=/tmp/depth_00

The node runs on simulated time (the bag's /clock). Recording starts with the node, playback
after `play_delay_s` (time to load the model); when playback ends the launch shuts down, which
stops the recorder cleanly so the output bag is complete. Commands are argument lists, never
shell strings.
"""
from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    EmitEvent,
    ExecuteProcess,
    IncludeLaunchDescription,
    RegisterEventHandler,
    TimerAction,
)
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare


# Outputs of the node (root namespace) recorded into the output bag.
RECORDED_TOPICS = ('/depth/image', '/depth/camera_info', '/points', '/odom', '/tf',
                   '/depth/colored', '/depth/scale')

ARGUMENTS = (
    ('bag', None, 'input rosbag2 folder to play'),
    ('output_bag', 'depth_ros_replay', 'folder of the recorded output bag (must not exist)'),
    ('rate', '1.0', 'playback rate'),
    ('play_delay_s', '5.0', 'seconds between start-up and playback (model loading)'),
    ('params_file', PathJoinSubstitution([FindPackageShare('depth_ros'), 'config',
                                          'mono_depth.yaml']),
     'YAML file of node parameters'),
    ('weights', '', 'checkpoint (.safetensors); empty: the weights shipped with the package'),
    ('backend', 'torch', 'inference backend: torch, onnxruntime or tensorrt'),
    ('device', 'cpu', 'inference device: cpu, cuda or cuda:N'),
    ('image', '/camera/image_raw', 'image topic in the bag'),
    ('camera_info', '/camera/camera_info', 'camera_info topic in the bag'),
    ('rviz', 'false', 'start RViz'),
)
NODE_ARGUMENTS = ('params_file', 'weights', 'backend', 'device', 'image', 'camera_info', 'rviz')


def _declare(name: str, default, description: str) -> DeclareLaunchArgument:
    if default is None:
        return DeclareLaunchArgument(name, description=description)
    return DeclareLaunchArgument(name, default_value=default, description=description)


def generate_launch_description() -> LaunchDescription:
    arg = LaunchConfiguration
    node = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution(
            [FindPackageShare('depth_ros'), 'launch', 'mono_depth.launch.py'])),
        launch_arguments=[*((name, arg(name)) for name in NODE_ARGUMENTS),
                          ('use_sim_time', 'true')],
    )
    record = ExecuteProcess(
        cmd=['ros2', 'bag', 'record', '--output', arg('output_bag'), *RECORDED_TOPICS],
        output='screen',
    )
    play = ExecuteProcess(
        cmd=['ros2', 'bag', 'play', arg('bag'), '--rate', arg('rate'), '--clock'],
        output='screen',
    )
    stop_when_played = RegisterEventHandler(OnProcessExit(
        target_action=play,
        on_exit=[TimerAction(period=2.0, actions=[
            EmitEvent(event=Shutdown(reason='bag playback finished'))])],
    ))
    return LaunchDescription([
        *(_declare(*argument) for argument in ARGUMENTS),
        node,
        record,
        TimerAction(period=arg('play_delay_s'), actions=[play]),
        stop_when_played,
    ])
