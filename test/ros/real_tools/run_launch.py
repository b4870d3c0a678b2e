"""Run a launch file the way `ros2 launch` does (ros2launch's launch_a_launch_file), exit code out.

    python run_launch.py FILE [name:=value ...]

ros2cli is not in the isolated env; this is the part of it that matters: a LaunchService that
includes the file through AnyLaunchDescriptionSource with the launch arguments, and returns the
service's return code as the process's exit status.
"""
import sys

from launch import LaunchDescription, LaunchService
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import AnyLaunchDescriptionSource


def main(argv: list[str]) -> int:
    path, arguments = argv[0], [a.split(':=', 1) for a in argv[1:]]
    service = LaunchService(argv=argv[1:])
    service.include_launch_description(LaunchDescription([IncludeLaunchDescription(
        AnyLaunchDescriptionSource(path), launch_arguments=arguments)]))
    return service.run()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
