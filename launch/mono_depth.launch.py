"""Run the mono_depth node on one camera (RViz only when asked: rviz:=true).

    ros2 launch depth_ros mono_depth.launch.py image:=/camera/image_rect \
        camera_info:=/camera/camera_info weights:=/path/model.safetensors

The node's relative `image` and `camera_info` inputs are remapped to the given topics; its
outputs stay in the launch namespace. Launch arguments override the parameters file; the argument
table is shared with bag_replay.launch.py (depth_ros.ros.launch_common). When the node exits the
launch shuts down; a node that fails (bad weights, bad parameters) logs its reason and the launch
exits non-zero.
"""
from launch import LaunchDescription
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from depth_ros.ros.launch_common import NODE_ARGUMENTS, declare, shutdown_on_exit


def generate_launch_description() -> LaunchDescription:
    arg = LaunchConfiguration
    node = Node(
        package='depth_ros',
        executable='mono_depth_node',
        name='mono_depth',
        output='screen',
        emulate_tty=True,
        parameters=[
            arg('params_file'),
            {
                'weights': ParameterValue(arg('weights'), value_type=str),
                'backend': ParameterValue(arg('backend'), value_type=str),
                'device': ParameterValue(arg('device'), value_type=str),
                'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool),
            },
        ],
        remappings=[('image', arg('image')), ('camera_info', arg('camera_info'))],
    )
    rviz = Node(
        package='rviz2',
        executable='rviz2',
        name='rviz2',
        arguments=['-d', PathJoinSubstitution([FindPackageShare('depth_ros'), 'rviz',
                                               'depth_ros.rviz'])],
        parameters=[{'use_sim_time': ParameterValue(arg('use_sim_time'), value_type=bool)}],
        condition=IfCondition(arg('rviz')),
    )
    return LaunchDescription([*declare(NODE_ARGUMENTS), node, shutdown_on_exit(node), rviz])
