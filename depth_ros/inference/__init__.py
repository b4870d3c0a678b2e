"""One Predictor API over the inference backends (torch, onnxruntime, tensorrt)."""
from depth_ros.inference.backends import backend_names, make_backend, register_backend
from depth_ros.inference.predictor import (
                                           DepthResult,
                                           Predictor,
                                           PreparedImage,
                                           default_weights_path,
)


__all__ = ['DepthResult', 'PreparedImage', 'Predictor', 'backend_names', 'default_weights_path',
           'make_backend', 'register_backend']
