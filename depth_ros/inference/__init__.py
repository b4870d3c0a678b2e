"""One Predictor API over the inference backends (torch, onnxruntime, tensorrt).

Attributes resolve lazily, so light submodules (`backend_names`, `scale`) import without torch.
"""
from depth_ros.lazy import lazy_exports


_EXPORTS = {
    'DepthResult': 'predictor', 'PreparedImage': 'predictor', 'Predictor': 'predictor',
    'default_weights_path': 'predictor', 'backend_names': 'backends',
    'make_backend': 'backends', 'resolve_device': 'devices', 'validate_device': 'devices',
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
