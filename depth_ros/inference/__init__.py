"""One Predictor API over the inference backends (torch, onnxruntime, tensorrt).

Attributes are resolved lazily (PEP 562) so that light submodules, such as `backend_names` used
for argument parsing, can be imported without loading torch.
"""
import importlib


_EXPORTS = {
    'DepthResult': 'depth_ros.inference.predictor',
    'PreparedImage': 'depth_ros.inference.predictor',
    'Predictor': 'depth_ros.inference.predictor',
    'default_weights_path': 'depth_ros.inference.predictor',
    'backend_names': 'depth_ros.inference.backends',
    'make_backend': 'depth_ros.inference.backends',
    'register_backend': 'depth_ros.inference.backends',
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
