"""One exception hierarchy for depth_ros.

Every message says what was wrong and what to do about it; the CLI prints it on one line without a
traceback.
"""


class DepthRosError(Exception):
    """Base class of every error depth_ros raises on purpose."""


class ConfigError(DepthRosError):
    """A configuration key, value or file is invalid."""


class WeightsError(DepthRosError):
    """Weights are missing, corrupt, or belong to another architecture."""


class InputError(DepthRosError):
    """An input (image, pose file, bag, folder) is missing or malformed."""


class OutputError(DepthRosError):
    """An output path cannot be written."""


class BackendError(DepthRosError):
    """An inference backend (onnxruntime, TensorRT, CUDA) is unavailable or failed."""


class DeviceUnavailableError(ConfigError, BackendError):
    """The configured device (e.g. CUDA) is well formed but absent on this machine: a
    configuration error for a config file, a backend error for an inference call."""
