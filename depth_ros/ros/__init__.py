"""ROS 2 interface: the depth + odometry node and its helpers.

`node` imports rclpy; `params`, `pairing`, `worker` and `odometry` are pure Python so they can be
tested without ROS. Message conversions live in `depth_ros.conversions`.
"""
