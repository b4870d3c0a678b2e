"""depth_ros: self-supervised monocular depth and visual odometry for ROS 2.

The runtime package. Heavy pieces (torch models, onnxruntime, ROS) live in sub-packages and are
imported on demand, so `import depth_ros` stays cheap.
"""
from depth_ros.errors import DepthRosError


__version__ = '0.1.0'
__all__ = ['DepthRosError', '__version__']
