"""Run the mono_depth node on one camera, optionally with RViz.

    ros2 launch depth_ros mono_depth.launch.py image:=/camera/image_raw \
        camera_info:=/camera/camera_info weights:=/path/model.safetensors

The node's relative `image` and `camera_info` inputs are remapped to the given topics; its
outputs (depth/image, depth/camera_info, points, odom, depth/colored) stay in the launch
namespace. Launch arguments override the parameters file.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


ARGUMENTS = (
    ('params_file', PathJoinSubstitution([FindPackageShare('depth_ros'), 'config',
                                          'mono_depth.yaml']),
     'YAML file of node parameters'),
    ('weights', '', 'checkpoint (.safetensors); empty: the weights shipped with the package'),
    ('backend', 'torch', 'inference backend: torch, onnxruntime or tensorrt'),
    ('device', 'cpu', 'inference device: cpu, cuda or cuda:N'),
    ('image', '/camera/image_raw', 'input image topic'),
    ('camera_info', '/camera/camera_info', 'input camera_info topic'),
    ('use_sim_time', 'false', 'use /clock (true when playing a bag)'),
    ('rviz', 'true', 'start RViz with rviz/depth_ros.rviz'),
)


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
    declared = [DeclareLaunchArgument(name, default_value=default, description=description)
                for name, default, description in ARGUMENTS]
    return LaunchDescription([*declared, node, rviz])
