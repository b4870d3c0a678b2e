"""Names of the inference backends (kept free of heavy imports for argument parsing)."""

# Backends with their own modules, imported on first use so their dependencies stay optional.
OPTIONAL_BACKEND_MODULES = {
    'onnxruntime': 'depth_ros.inference.onnx_backend',
    'tensorrt': 'depth_ros.inference.tensorrt_backend',
}
BACKEND_NAMES = ('torch', *OPTIONAL_BACKEND_MODULES)
