"""`depth-ros export`: a checkpoint -> verified ONNX graphs (and TensorRT engines)."""
from __future__ import annotations

import argparse

from depth_ros.export.options import DEFAULT_OPSET, FORMATS, MAX_OPSET, MIN_OPSET


NAME = 'export'
HELP = ('export the depth and pose networks to ONNX (checked against torch) or TensorRT '
        'engines')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--weights', '-w', required=True,
                        help='depth_ros checkpoint (.safetensors)')
    parser.add_argument('--format', default='onnx', choices=FORMATS,
                        help='onnx graphs, or tensorrt engines (built from them; needs a GPU)')
    parser.add_argument('--precision', default='fp32', choices=('fp32', 'fp16'),
                        help='fp16: float16 weights/compute, float32 inputs and outputs')
    parser.add_argument('--height', type=int, default=None,
                        help='network input height, a multiple of 32 (default: the checkpoint)')
    parser.add_argument('--width', type=int, default=None,
                        help='network input width, a multiple of 32 (default: the checkpoint)')
    parser.add_argument('--out', '-o', default=None,
                        help='output folder (default: beside the weights)')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET,
                        help=f'ONNX opset, {MIN_OPSET}..{MAX_OPSET} (default {DEFAULT_OPSET})')
    parser.add_argument('--dynamic-batch', action='store_true',
                        help='symbolic batch dimension (default: batch 1)')
    parser.add_argument('--max-batch', type=int, default=4,
                        help='largest batch of dynamic-batch TensorRT engines (default 4)')
    parser.add_argument('--output', default='sigmoid',
                        choices=('sigmoid', 'depth_m', 'inv_depth'),
                        help="depth graph output: the network's sigmoid (what the backends use) "
                             "or depth in metres ('inv_depth': the sigmoid's old name, "
                             'deprecated)')
    parser.add_argument('--no-pose', action='store_true', help='export the depth network only')
    parser.add_argument('--no-verify', action='store_true',
                        help='skip the parity check against torch')
    parser.add_argument('--device', default='cuda', help='GPU that builds TensorRT engines')


def run(args: argparse.Namespace) -> int:
    from depth_ros.export.pipeline import export_checkpoint

    report = export_checkpoint(
        args.weights, fmt=args.format, precision=args.precision, height=args.height,
        width=args.width, out_dir=args.out, opset=args.opset, dynamic_batch=args.dynamic_batch,
        depth_output=args.output, include_pose=not args.no_pose, verify=not args.no_verify,
        max_batch=args.max_batch, device=args.device)
    meta = report.meta
    print(f'{meta.depth_arch.name} at {meta.height}x{meta.width}, {args.precision}, '
          f'opset {args.opset}{", dynamic batch" if args.dynamic_batch else ""}:')
    for item in report.files:
        check = ('not verified' if item.difference is None else
                 f'max diff to torch {item.difference:.1e} <= {report.tolerance:.0e}')
        print(f'  {item.graph:5s} {item.kind:6s} {item.path}  ({check})')
    return 0
