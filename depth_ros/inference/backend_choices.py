"""The inference backends, in one table read by the CLI, the node's parameters and
`backends.make_backend` (free of heavy imports, so argument parsing needs no torch).

Each entry is `'module:Class'`; the module is imported when the backend is first made, so its
dependencies (onnxruntime, TensorRT) stay optional.
"""

BACKENDS: dict[str, str] = {
    'torch': 'depth_ros.inference.torch_backend:TorchBackend',
    'onnxruntime': 'depth_ros.inference.onnx_backend:OnnxRuntimeBackend',
    'tensorrt': 'depth_ros.inference.tensorrt_backend:TensorRTBackend',
}
BACKEND_NAMES = tuple(BACKENDS)
