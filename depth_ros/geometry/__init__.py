"""Camera and pose geometry.

Modules:
    intrinsics: pinhole intrinsics (numpy), scaling/cropping, CameraInfo and KITTI calib parsing.
    se3: rigid transforms in numpy (compose, invert, validate) for evaluation and ROS code.
    projection: differentiable back-projection and projection to a sampling grid (torch).
    poses: differentiable axis-angle/translation to 4x4 (torch).
    mounting: the base -> camera mounting; camera motion as robot-base motion (numpy).

Import the submodule you need; this package imports nothing heavy on its own.
"""
