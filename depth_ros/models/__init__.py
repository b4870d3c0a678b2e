"""Depth and pose networks, their registry, checkpoints and the Monodepth2 importer."""
from depth_ros.models.checkpoint import (
                                         Checkpoint,
                                         CheckpointMeta,
                                         load_checkpoint,
                                         save_checkpoint,
)
from depth_ros.models.monodepth2 import Monodepth2Model, import_monodepth2
from depth_ros.models.networks import DepthNet, PoseNet
from depth_ros.models.outputs import DepthOutput, PoseParameters
from depth_ros.models.registry import (
                                         ArchSpec,
                                         build_depth_net,
                                         build_pose_net,
                                         depth_net_names,
                                         pose_net_names,
                                         register_depth_net,
                                         register_pose_net,
)


__all__ = [
    'ArchSpec', 'Checkpoint', 'CheckpointMeta', 'DepthNet', 'DepthOutput', 'Monodepth2Model',
    'PoseNet',
    'PoseParameters', 'build_depth_net', 'build_pose_net', 'depth_net_names',
    'import_monodepth2', 'load_checkpoint', 'pose_net_names', 'register_depth_net',
    'register_pose_net', 'save_checkpoint',
]
