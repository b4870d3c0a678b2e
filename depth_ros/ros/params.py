"""The node's ROS parameters: defaults (written once, in `NodeConfig`), descriptions, checks.

Pure Python: the ROS descriptor objects are built inside `descriptor()`, so the table can be read
(and compared with config/mono_depth.yaml) without ROS installed.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from depth_ros.errors import ConfigError
from depth_ros.inference.backend_choices import AUTO, BACKEND_CHOICES, resolve_backend
from depth_ros.inference.devices import validate_device
from depth_ros.inference.scale import DEFAULT_WINDOW, LOW_CONFIDENCE
from depth_ros.pipeline.epipolar_config import DEFAULT_MOTION_MODEL, MOTION_MODELS
from depth_ros.pipeline.frame import DEFAULT_ODOMETRY_SOURCE, ODOMETRY_SOURCES
from depth_ros.pipeline.motion_gate import DEFAULT_THRESHOLD as GATE_THRESHOLD
from depth_ros.pipeline.track_depth import DEPTH_REFINEMENTS
from depth_ros.pipeline.twist_noise import TWIST_COVARIANCES
from depth_ros.sizes import parse_input_size


RELIABILITIES = ('best_effort', 'reliable')
COLORED_ENCODINGS = ('bgr8', 'rgb8')
SCALE_SOURCES = ('none', 'fixed', 'camera_height', 'tf')
IMAGE_TRANSPORTS = ('raw', 'compressed')
PRECISIONS = ('fp32', 'fp16', 'bf16')  # bf16: the torch backend only


@dataclass(frozen=True)
class NodeConfig:
    """Every parameter of the depth node with its default."""

    weights: str = ''
    backend: str = AUTO
    device: str = 'cpu'
    precision: str = 'fp32'
    cuda_graphs: bool = False
    threads: int = 0
    flip_average: bool = False
    input_size: str = ''
    depth_refinement: str = 'none'
    scale: float = 1.0
    scale_source: str = 'fixed'
    camera_height_m: float = 1.65
    camera_pitch_deg: float = 0.0
    scale_window: int = DEFAULT_WINDOW
    scale_min_confidence: float = LOW_CONFIDENCE
    ground_frame: str = 'base_footprint'
    image_transport: str = 'raw'
    rectify: bool = False
    qos_reliability: str = 'best_effort'
    qos_depth: int = 5
    queue_size: int = 10
    reuse_camera_info: bool = True
    sync_tolerance_s: float = 0.0
    mono16_max: int = 65535
    depth_downsample: int = 1
    point_stride: int = 4
    points_rgb: bool = True
    publish_colored: bool = False
    colored_encoding: str = 'bgr8'
    colored_min_depth_m: float = 1.0
    colored_max_depth_m: float = 80.0
    publish_odometry: bool = True
    odom_frame: str = 'odom'
    base_frame: str = 'base_link'
    base_to_camera: str = ''
    tf_timeout_s: float = 5.0
    publish_tf: bool = False
    max_pose_gap_s: float = 1.0
    motion_gate_threshold: float = GATE_THRESHOLD
    odometry_source: str = DEFAULT_ODOMETRY_SOURCE
    motion_model: str = DEFAULT_MOTION_MODEL
    twist_covariance: str = 'measured'
    autostart: bool = True
    depth_scale: float = 1.0  # deprecated name of scale (one release)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> NodeConfig:
        """Config from {name: value}; names that are not parameters are ignored."""
        known = {f.name for f in fields(cls)}
        return replace(cls(), **{k: v for k, v in values.items() if k in known})


@dataclass(frozen=True)
class ParamSpec:
    """How one parameter is described and checked.

    Attributes:
        description: shown by `ros2 param describe`.
        limits: inclusive (low, high) for numbers, published as a ROS range.
        choices: allowed strings.
        on_configure: read when the node is configured; a change applies at the next configure.
    """

    description: str
    limits: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    on_configure: bool = False


SPECS: dict[str, ParamSpec] = {
    'weights': ParamSpec('Checkpoint (.safetensors) to load, or packaged weights by name '
                         '(default, real_640x192, synthetic); empty for the default.',
                         on_configure=True),
    'backend': ParamSpec('Inference backend (auto: onnxruntime on the CPU when installed, '
                         'else torch).', choices=BACKEND_CHOICES, on_configure=True),
    'device': ParamSpec("Inference device: 'cpu', 'cuda' or 'cuda:N'.", on_configure=True),
    'precision': ParamSpec('Inference precision on CUDA: fp16 or bf16 (torch only) run the '
                           'networks in half precision; the CPU takes fp32 only.',
                           choices=PRECISIONS, on_configure=True),
    'cuda_graphs': ParamSpec('torch backend on CUDA: capture the depth network once per input '
                             'size and replay it (less CPU per frame).', on_configure=True),
    'threads': ParamSpec('CPU threads for inference (onnxruntime intra-op threads, torch '
                         'threads; 0: every CPU the process may use but one, at least one, '
                         'so the camera driver and DDS keep a core).', limits=(0, 256),
                         on_configure=True),
    'flip_average': ParamSpec('Also run the depth network on the mirrored image and publish '
                              "the mean of the two inverse depths (Monodepth2's post-processing); "
                              "twice the depth network's work.",
                              on_configure=True),
    'input_size': ParamSpec("Network input size WxH (multiples of 32, e.g. 512x160); empty: "
                            "the weights' own. The networks are fully convolutional: another "
                            'size changes the cost and the accuracy (docs/learning/), and can '
                            "keep a camera's aspect ratio.", on_configure=True),
    'depth_refinement': ParamSpec("none, or tracks: correct the depth network's depth with "
                                  'corners tracked over several frames and triangulated from '
                                  'a longer baseline (while the camera moves; assumes a static '
                                  'scene; needs OpenCV; more CPU per frame, on a thread beside '
                                  'the network). Real dev drive abs_rel 0.175 -> 0.157 '
                                  "(session 15's default weights).",
                                  choices=DEPTH_REFINEMENTS, on_configure=True),
    'scale': ParamSpec('With scale_source fixed: multiplier on predicted depth and odometry '
                       'translation, on top of the metres_per_unit stored with the weights '
                       '(1.0 keeps their scale).', limits=(1e-3, 1e3)),
    'scale_source': ParamSpec('Where metric scale comes from: none (the weights as they are), '
                              'fixed (times scale), camera_height (ground plane vs '
                              'camera_height_m), tf (camera height from TF ground_frame -> image '
                              'frame). With camera_height / tf the epipolar odometry measures in '
                              'those metres, from corners 5-15 m away.', choices=SCALE_SOURCES),
    'camera_height_m': ParamSpec('Height of the camera above the ground (metres), for '
                                 'scale_source camera_height; KITTI: 1.65.',
                                 limits=(0.05, 20.0)),
    'camera_pitch_deg': ParamSpec('Downward pitch of the camera (degrees), the prior of the '
                                  'ground-plane fit; the height is measured along it, so set '
                                  'it to within about a degree.', limits=(-45.0, 45.0)),
    'scale_window': ParamSpec('Frames in the sliding median of the ground-plane scale.',
                              limits=(1, 1000)),
    'scale_min_confidence': ParamSpec('Least confidence (0..1, published on depth/scale) of a '
                                      'ground-plane factor that is applied; under it the last '
                                      'trusted factor is kept (scale before any). 0: every '
                                      'factor.', limits=(0.0, 1.0)),
    'ground_frame': ParamSpec('Frame on the ground under the robot (REP 105 base_footprint), '
                              'for scale_source tf.'),
    'image_transport': ParamSpec("raw subscribes to image (sensor_msgs/Image); compressed to "
                                 "image's resolved name + '/compressed' (JPEG or PNG "
                                 'sensor_msgs/CompressedImage, as image_transport records).',
                                 choices=IMAGE_TRANSPORTS, on_configure=True),
    'rectify': ParamSpec('Undistort the input with its camera_info (plumb_bob, '
                         'rational_polynomial, equidistant) before inference; for image_raw. '
                         'false expects a rectified input (image_rect).'),
    'qos_reliability': ParamSpec('Reliability of the image and camera_info subscriptions '
                                 '(best_effort is the sensor-data profile).',
                                 choices=RELIABILITIES, on_configure=True),
    'qos_depth': ParamSpec('History depth of the input subscriptions.', limits=(1, 100),
                           on_configure=True),
    'queue_size': ParamSpec('Images and camera_infos kept waiting for their partner when '
                            'pairing by stamp (like message_filters TimeSynchronizer).',
                            limits=(1, 1000)),
    'reuse_camera_info': ParamSpec('Pair an image whose camera_info has not arrived with the '
                                   'latest camera_info while camera_infos repeat unchanged '
                                   '(static intrinsics); false: every image waits for the '
                                   'camera_info with its stamp.'),
    'sync_tolerance_s': ParamSpec('Largest stamp difference accepted when pairing an image with '
                                  'its camera_info (0: identical stamps).', limits=(0.0, 1.0)),
    'mono16_max': ParamSpec('mono16 value shown as white (65535 full range, 4095 for 12-bit '
                            'sensors).', limits=(1, 65535)),
    'depth_downsample': ParamSpec('Publish depth at 1/N of the input resolution (every N-th row '
                                  'and column); camera_info is scaled to match.', limits=(1, 16)),
    'point_stride': ParamSpec('Keep every N-th row and column of the published depth in the '
                              'point cloud.', limits=(1, 64)),
    'points_rgb': ParamSpec('Add the packed rgb field (camera colours) to the point cloud.'),
    'publish_colored': ParamSpec('Publish a colourised depth image on depth/colored.'),
    'colored_encoding': ParamSpec('Encoding of depth/colored.', choices=COLORED_ENCODINGS),
    'colored_min_depth_m': ParamSpec('Depth shown in the nearest colour (metres).',
                                     limits=(0.01, 1000.0)),
    'colored_max_depth_m': ParamSpec('Depth shown in the farthest colour (metres).',
                                     limits=(0.01, 1000.0)),
    'publish_odometry': ParamSpec('Publish visual_odometry (needs weights with a pose network '
                                  'and the base -> camera mounting).'),
    'odom_frame': ParamSpec('Parent frame of the odometry (REP 105 odom): base_frame at the '
                            'start of the chain.'),
    'base_frame': ParamSpec('Robot base (REP 105 base_link): child frame of the odometry and '
                            'of the published TF; the twist is in this frame.'),
    'base_to_camera': ParamSpec("Mounting when TF has no base_frame -> image frame: 'x y z "
                                "roll pitch yaw' (metres, radians) of the camera's optical frame "
                                "in base_frame; empty: from TF."),
    'tf_timeout_s': ParamSpec('At configure, how long to wait for base_frame on TF when '
                              'base_to_camera is empty.', limits=(0.0, 60.0)),
    'publish_tf': ParamSpec('Broadcast odom_frame -> base_frame on /tf; off while another '
                            'source (wheel odometry, robot_localization) owns that transform.'),
    'max_pose_gap_s': ParamSpec('Longest stamp step whose motion is measured; a longer step '
                                'forward (or any step back) resets the odometry with a warning.',
                                limits=(0.01, 60.0)),
    'motion_gate_threshold': ParamSpec('Consecutive frames differing by at most this many grey '
                                       'levels (mean over 120x160 cells) count as static: zero '
                                       'motion is published. 0 turns the gate off.',
                                       limits=(0.0, 255.0)),
    'odometry_source': ParamSpec('What measures the motion: epipolar (tracked corners and '
                                 'two-view geometry, metres from the depth network; needs '
                                 "OpenCV; works with depth-only weights) or posenet (the "
                                 "weights' pose network).", choices=ODOMETRY_SOURCES,
                                 on_configure=True),
    'motion_model': ParamSpec('What the camera is mounted on, for the epipolar odometry: '
                              'vehicle (a car or wheeled robot that moves along its heading: '
                              'the direction of travel is smoothed in its frame) or free (a '
                              'drone or hand-held camera: each frame pair its own direction).',
                              choices=MOTION_MODELS, on_configure=True),
    'twist_covariance': ParamSpec('Twist covariance of visual_odometry: measured (the epipolar '
                                  "odometry's errors on real drives, for a fusion filter such "
                                  'as robot_localization) or unknown (1e6 on the diagonal, as '
                                  'for the pose network always). The pose covariance is '
                                  'unknown.', choices=TWIST_COVARIANCES),
    'autostart': ParamSpec('Configure and activate at start-up (main()); false waits for a '
                           'lifecycle manager.', on_configure=True),
    'depth_scale': ParamSpec('Deprecated name of scale, accepted for one release: when set '
                             '(not 1.0) its value is used instead of scale, with a warning.',
                             limits=(1e-3, 1e3)),
}
# Old parameter name -> new name. An old name set away from its default wins over the new one
# (its value is used) and the node logs a deprecation warning.
DEPRECATED: dict[str, str] = {'depth_scale': 'scale'}


def defaults() -> dict[str, Any]:
    """{name: default} of every parameter, in declaration order."""
    config = NodeConfig()
    return {f.name: getattr(config, f.name) for f in fields(NodeConfig)}


def check(name: str, value: Any, config: NodeConfig) -> str | None:
    """Why `value` is refused for parameter `name` given the rest of `config`, or None if valid."""
    if name not in SPECS:
        return None  # not one of ours (use_sim_time and the like)
    default = getattr(NodeConfig(), name)
    if not _same_type(value, default):
        return f'{name} must be a {type(default).__name__}, got {value!r}'
    spec = SPECS[name]
    if spec.limits and not spec.limits[0] <= value <= spec.limits[1]:
        return f'{name} must be in [{spec.limits[0]}, {spec.limits[1]}], got {value}'
    if spec.choices and value not in spec.choices:
        return f"{name} must be one of {', '.join(spec.choices)}, got {value!r}"
    if name == 'device':
        try:  # the form only: whether CUDA is there is the backend's check at configure
            validate_device(value, require_available=False)
        except ConfigError as exc:
            return str(exc)
    if name == 'input_size' and value.strip():
        try:
            parse_input_size(value, name)
        except ConfigError as exc:
            return str(exc)
    if name in ('odom_frame', 'base_frame') and not value:
        return f'{name} must not be empty'
    if name == 'base_to_camera' and value.strip():
        from depth_ros.geometry.mounting import parse_mounting

        try:
            parse_mounting(value)
        except ValueError as exc:
            return str(exc)
    updated = replace(config, **{name: value})
    if updated.colored_min_depth_m >= updated.colored_max_depth_m:
        return (f'colored_min_depth_m ({updated.colored_min_depth_m}) must be smaller than '
                f'colored_max_depth_m ({updated.colored_max_depth_m})')
    return None


def first_invalid(values: Mapping[str, Any], config: NodeConfig) -> str | None:
    """Why the parameters the node started with cannot run (the first reason), or None."""
    for name, value in values.items():
        reason = check(name, value, config)
        if reason:
            return reason
    return check_combination(config)


def apply_changes(config: NodeConfig,
                  changes: list[tuple[str, Any]]) -> tuple[NodeConfig, str | None]:
    """`config` with the (name, value) changes of one set-parameters call, or the reason the
    call is refused (then nothing changes). Combinations are checked on the final config, so
    device and precision can be changed together in either order."""
    updated = config
    for name, value in changes:
        reason = check(name, value, updated)
        if reason:
            return config, reason
        if name in SPECS:
            updated = replace(updated, **{name: value})
    reason = check_combination(updated)
    return (config, reason) if reason else (updated, None)


def inference_backend(config: NodeConfig) -> str:
    """The backend the node's parameters select ('auto' resolved for its device)."""
    device_type = 'cuda' if config.device.startswith('cuda') else 'cpu'
    return resolve_backend(config.backend, device_type, config.precision)


def check_combination(config: NodeConfig) -> str | None:
    """Why parameters valid one by one cannot go together, or None: precision / cuda_graphs
    with a backend and device that cannot run them (the backends' own refusals, made when the
    parameters are set rather than at configure)."""
    on_cuda = config.device.startswith('cuda')
    if config.precision != 'fp32' and not on_cuda:
        return (f'precision {config.precision} needs a CUDA device (device is '
                f'{config.device!r}); use fp32 on the CPU')
    backend = inference_backend(config)
    if config.precision == 'bf16' and backend != 'torch':
        return f'precision bf16 needs the torch backend, not {config.backend}'
    if config.cuda_graphs and not (on_cuda and backend == 'torch'):
        return ('cuda_graphs needs the torch backend on a CUDA device (backend '
                f'{config.backend}, device {config.device!r})')
    return None










def deprecation_warnings(values: Mapping[str, Any]) -> list[str]:
    """A warning for each deprecated parameter name in `values` set away from its default."""
    messages = []
    for old, new in DEPRECATED.items():
        if old in values and values[old] != getattr(NodeConfig(), old):
            messages.append(f'parameter {old} is deprecated and will be removed in the next '
                            f'release; use {new} (its value {values[old]} is used instead of '
                            f'{new})')
    return messages








def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, float)
    return isinstance(value, type(default))


def descriptor(name: str) -> Any:
    """rcl_interfaces/ParameterDescriptor of `name`, with its range (imports ROS)."""
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

    spec = SPECS[name]
    constraints = []
    if spec.choices:
        constraints.append(f"one of: {', '.join(spec.choices)}")
    if spec.on_configure:
        constraints.append('applies at the next configure transition')
    desc = ParameterDescriptor(name=name, description=spec.description,
                               additional_constraints='; '.join(constraints))
    if spec.limits is not None:
        low, high = spec.limits
        if isinstance(getattr(NodeConfig(), name), int):
            desc.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
        else:
            desc.floating_point_range = [FloatingPointRange(from_value=float(low),
                                                            to_value=float(high), step=0.0)]
    return desc
