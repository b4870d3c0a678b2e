"""ROS 2 interface: the depth + odometry node and its helpers.

`node` and `msg_types` import rclpy; `codecs` (messages <-> arrays), `params`, `settings`,
`pairing` and `worker` are pure Python so they can be tested without ROS. Depth, scale and
odometry are computed by `depth_ros.pipeline`; the node only wires ROS and converts messages.
"""
