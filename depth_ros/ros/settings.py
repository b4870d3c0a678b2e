"""What the node's parameters mean to the library: the `Predictor`'s options and input size,
inference threads, the fixed scale, the frame pipeline's settings, and the warnings a camera
mounting earns. `params` declares and checks the parameters; this module reads a checked
`NodeConfig`. Pure Python, like `params`.
"""
from __future__ import annotations

from typing import Any

from depth_ros.inference.devices import available_cpus
from depth_ros.inference.packaged import camera_height_warning
from depth_ros.pipeline import Mounting, PipelineConfig
from depth_ros.ros.params import NodeConfig, inference_backend
from depth_ros.sizes import parse_input_size


def predictor_options(config: NodeConfig) -> dict[str, Any]:
    """Backend options of `Predictor.from_checkpoint` (only those set away from default)."""
    options: dict[str, Any] = {}
    if config.precision != 'fp32':
        options['precision'] = config.precision
    if config.cuda_graphs:
        options['cuda_graphs'] = True
    if inference_backend(config) == 'onnxruntime':
        options['threads'] = inference_threads(config)
    return options


def input_size(config: NodeConfig) -> tuple[int, int] | None:
    """(height, width) the networks run at, or None for the weights' own."""
    return (parse_input_size(config.input_size, 'input_size') if config.input_size.strip()
            else None)


def inference_threads(config: NodeConfig) -> int:
    """The `threads` parameter resolved: 0 is every CPU the process may use but one (the
    camera driver and DDS need a core: on the 2-core VM one inference thread sustained 15 Hz
    at 1242x375 where two dropped frames, docs/BENCHMARKS.md), at least one."""
    return config.threads if config.threads > 0 else max(1, available_cpus() - 1)


def effective_scale(config: NodeConfig) -> float:
    """The fixed scale multiplier: the deprecated `depth_scale` when set away from its
    default, else `scale`."""
    if config.depth_scale != NodeConfig.depth_scale:
        return config.depth_scale
    return config.scale


def scale_warnings(config: NodeConfig) -> list[str]:
    """A warning when scale_source camera_height meets packaged weights and a camera mounted
    more than 20 % away from the height they learned the road at."""
    if config.scale_source != 'camera_height':
        return []
    message = camera_height_warning(config.weights, config.camera_height_m,
                                    f'camera_height_m {config.camera_height_m:g}')
    return [message] if message else []


def measures_motion(config: NodeConfig, has_pose: bool) -> bool:
    """Whether the node has odometry to publish: a pose network, or the epipolar source."""
    return bool(has_pose) or config.odometry_source == 'epipolar'


def pipeline_config(config: NodeConfig) -> PipelineConfig:
    """The frame pipeline's settings from the node's parameters."""
    return PipelineConfig(
        scale_source=config.scale_source, scale=effective_scale(config),
        mounting=Mounting.from_pitch(config.camera_height_m, config.camera_pitch_deg),
        scale_window=config.scale_window, scale_min_confidence=config.scale_min_confidence,
        depth_downsample=config.depth_downsample,
        max_pose_gap_s=config.max_pose_gap_s,
        motion_gate_threshold=config.motion_gate_threshold,
        odometry_source=config.odometry_source, motion_model=config.motion_model,
        depth_refinement=config.depth_refinement)
