"""Deployable artefacts: ONNX graphs with the checkpoint's metadata, TensorRT engines, and the
cache that keeps them beside the weights.

Attributes resolve lazily (torch is imported on first use; onnx, onnxruntime and tensorrt by the
functions that use them), so `depth_ros.export.options` imports without torch.
"""
from depth_ros.lazy import lazy_exports


_EXPORTS = {
    'OnnxGraphs': 'cache', 'ensure_onnx': 'cache', 'DEFAULT_OPSET': 'options',
    'GraphInfo': 'onnx_export', 'export_depth_onnx': 'onnx_export',
    'export_pose_onnx': 'onnx_export', 'load_onnx_checkpoint': 'onnx_export',
    'read_graph_info': 'onnx_export', 'ExportedFile': 'pipeline', 'ExportReport': 'pipeline',
    'export_checkpoint': 'pipeline',
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
