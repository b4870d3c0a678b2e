"""The node's depth model at configure: the `Predictor` its parameters ask for, and what was
loaded, for /diagnostics and the log.

Torch and the inference backends are imported when the model is loaded, not with this module,
so the node (and the launch files that import it) load without them. No rclpy here.
"""
from __future__ import annotations

from typing import Any

from depth_ros.ros import settings
from depth_ros.ros.diagnostics import DiagnosticsState
from depth_ros.ros.params import NodeConfig


def load_predictor(config: NodeConfig) -> Any:
    """A warmed-up `Predictor` for the node's parameters (weights, device, backend, mirror
    average, input size, precision, threads); any failure of the backend propagates (the
    node's configure fails with it)."""
    from depth_ros.inference import Predictor  # torch: imported when configuring only
    from depth_ros.memory import keep_heap_warm

    keep_heap_warm()  # per-frame MB-sized arrays without page faults (depth_ros.memory)
    import torch  # its pre- and post-processing (and the torch backend)
    torch.set_num_threads(settings.inference_threads(config))
    predictor = Predictor.from_checkpoint(config.weights or None, device=config.device,
                                          backend=config.backend,
                                          flip_average=config.flip_average,
                                          input_size=settings.input_size(config),
                                          **settings.predictor_options(config))
    predictor.warm_up()  # the first camera frame is not late for the backend's allocations
    return predictor


def record_loaded(state: DiagnosticsState, predictor: Any, config: NodeConfig) -> None:
    """Put the loaded model in the diagnostics `state`: backend (what 'auto' chose), device,
    network input (the input_size parameter or the weights'); configured from now on."""
    state.backend, state.device, state.configured = predictor.backend_name, config.device, True
    height, width = predictor.input_size
    state.extra['network input (WxH)'] = f'{width}x{height}'


def loaded_message(predictor: Any, config: NodeConfig) -> str:
    """The log line that says what was loaded: backend, device, precision, network input, and
    where the odometry comes from ('off' when there is none to publish).

    Args:
        predictor: the loaded model (`backend_name`, `input_size` (height, width), `has_pose`).
        config: the parameters it was loaded with.
    """
    height, width = predictor.input_size
    odometry_on = (settings.measures_motion(config, predictor.has_pose)
                   and config.publish_odometry)
    odometry = 'off' if not odometry_on else config.odometry_source + (
        f' ({config.motion_model})' if config.odometry_source == 'epipolar' else '')
    graphs = ', CUDA graphs' if config.cuda_graphs else ''
    return (f'model loaded ({predictor.backend_name} on {config.device}, '
            f'{config.precision}{graphs}, network input {width}x{height}, odometry {odometry})')
