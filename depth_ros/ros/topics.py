"""The node's output topics (relative names, remapped in launch) and their message types, in a
module without ROS imports so documentation checks and tools can read the table."""

# topic -> message attribute of depth_ros.ros.msg_types.MsgTypes.
OUTPUTS = {
    'depth/image': 'Image',
    'depth/camera_info': 'CameraInfo',
    'points': 'PointCloud2',
    'visual_odometry': 'Odometry',
    'depth/colored': 'Image',
    'depth/scale': 'Float64MultiArray',
}
