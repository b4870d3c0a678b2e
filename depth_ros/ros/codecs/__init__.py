"""Message codecs: ROS 2 messages <-> numpy arrays, for rclpy and rosbags alike.

Pure Python, importable and testable without ROS: every builder takes a `MsgTypes` naming the
message classes (`MsgTypes.from_typestore()` for rosbags, `depth_ros.ros.msg_types.
rclpy_msg_types()` for the node); readers take either kind of message as it is. The node's
frame path is camera message -> codec -> `depth_ros.pipeline` -> codec -> publish, and the
evaluator writes and reads bags with the same codecs.

Modules: `types` (message classes, stamps, headers), `image` (Image, CameraInfo), `compressed`
(CompressedImage, JPEG or PNG through OpenCV), `cloud`
(PointCloud2), `pose` (Odometry, Pose, TransformStamped, scale status). Geometry (back-projection,
frames, twists) is `depth_ros.geometry`; colour maps are `depth_ros.colormaps`.

Writing a bag message with rosbags:

    types = MsgTypes.from_typestore(typestore)
    msg = depth_to_image(types, depth_m, make_header(types, stamp_ns, 'camera'))
    writer.write(connection, stamp_ns, typestore.serialize_cdr(msg, msg.__msgtype__))
"""
from depth_ros.ros.codecs.cloud import (
    POINT_FIELD_FLOAT32,
    depth_to_pointcloud,
    pack_rgb,
    pointcloud_to_arrays,
    unpack_rgb,
)
from depth_ros.ros.codecs.image import (
    DEPTH_ENCODINGS,
    RGB_ENCODINGS,
    camera_info_to_intrinsics,
    check_rgb,
    depth_to_image,
    image_to_array,
    image_to_depth,
    image_to_rgb,
    intrinsics_to_camera_info,
    rgb_to_image,
)
from depth_ros.ros.codecs.pose import (
    SCALE_STATUS_LABELS,
    UNKNOWN_VARIANCE,
    covariance_6x6,
    msg_to_pose,
    odometry_to_pose,
    pose_to_msg,
    pose_to_odometry,
    pose_to_transform_stamped,
    scale_status,
)
from depth_ros.ros.codecs.types import (
    MESSAGES,
    MsgTypes,
    byte_array,
    copy_header,
    make_header,
    ns_to_stamp,
    numpy_bytes,
    stamp_to_ns,
)


__all__ = [
    'DEPTH_ENCODINGS', 'MESSAGES', 'POINT_FIELD_FLOAT32', 'RGB_ENCODINGS', 'SCALE_STATUS_LABELS',
    'UNKNOWN_VARIANCE', 'MsgTypes', 'byte_array', 'camera_info_to_intrinsics', 'check_rgb',
    'copy_header', 'covariance_6x6', 'depth_to_image', 'depth_to_pointcloud', 'image_to_array',
    'image_to_depth', 'image_to_rgb', 'intrinsics_to_camera_info', 'make_header',
    'msg_to_pose', 'ns_to_stamp', 'numpy_bytes', 'odometry_to_pose', 'pack_rgb',
    'pointcloud_to_arrays', 'pose_to_msg', 'pose_to_odometry', 'pose_to_transform_stamped',
    'rgb_to_image', 'scale_status', 'stamp_to_ns', 'unpack_rgb',
]
