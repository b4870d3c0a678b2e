"""Play a rosbag2 through the mono_depth node and record its outputs.

    ros2 launch depth_ros bag_replay.launch.py bag:=/data/kitti_00 output_bag:=/tmp/depth_00

The node runs on simulated time (the bag's /clock). Recording starts with the node, playback
after `play_delay_s` (time to load the model); when playback ends the launch shuts down, which
stops the recorder cleanly so the output bag is complete. If the node fails, the launch stops
and exits non-zero (see mono_depth.launch.py). Commands are argument lists, never shell strings;
`ros2 bag` (rosbag2) must be installed, it is not a dependency of the package. The recording
holds the ground truth and /tf_static too: `depth-ros evaluate --recorded OUTPUT_BAG` scores it
alone (`--base-to-camera` is still needed when nothing published the base -> camera mounting on
/tf_static, e.g. a kitti-to-bag bag replayed with the node's `base_to_camera` parameter).
"""
from launch import LaunchDescription
from launch.actions import (
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

from depth_ros.ros.launch_common import BAG_ARGUMENTS, NODE_ARGUMENTS, declare


# Outputs of the node (root namespace) recorded into the output bag, with what
# `depth-ros evaluate --recorded` needs beside them: the mounting on /tf_static (when the played
# bag or the robot publishes it) and the played bag's ground truth (kitti-to-bag's topics), so
# the recording is scored alone, without --bag.
RECORDED_TOPICS = ('/depth/image', '/depth/camera_info', '/points', '/visual_odometry', '/tf',
                   '/tf_static', '/depth/colored', '/depth/scale', '/diagnostics',
                   '/ground_truth/odom', '/ground_truth/depth')


def generate_launch_description() -> LaunchDescription:
    arg = LaunchConfiguration
    passed = [name for name in NODE_ARGUMENTS if name != 'use_sim_time']
    node = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution(
            [FindPackageShare('depth_ros'), 'launch', 'mono_depth.launch.py'])),
        launch_arguments=[*((name, arg(name)) for name in passed), ('use_sim_time', 'true')],
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
        *declare(BAG_ARGUMENTS),
        node,
        record,
        TimerAction(period=arg('play_delay_s'), actions=[play]),
        stop_when_played,
    ])
