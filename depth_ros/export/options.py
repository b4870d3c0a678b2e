"""Export choices, importable without torch (argument parsing uses them)."""

DEFAULT_OPSET = 17
MIN_OPSET, MAX_OPSET = 13, 20  # 20 is the TorchScript exporter's last opset
FORMATS = ('onnx', 'tensorrt')
