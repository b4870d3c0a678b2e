"""Per-frame overhead of the mono_depth node, everything except the networks' forward.

Times, for a 375x1242 rgb8 frame, the work the node does around the networks: decoding the
Image message, the Predictor's resize in and resize out (+ reciprocal), building depth/image
(32FC1), depth/camera_info, points (stride 4, with rgb) and odom. Messages are built with the
`rosbags` message classes (the node builds the same fields with rclpy's). Publishing itself
(serialisation in rmw) is not included: measure that in a ROS install with `ros2 topic hz`.

    python benchmarks/node_overhead.py [--weights W] [--reps 50] [--threads 1]

Target (issue: ROS node): at most 3 ms per frame on a 2-core CPU.
"""
from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import sys
import time

import numpy as np


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _median_ms(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _postprocess(predictor, sigmoid, height: int, width: int):
    """What Predictor.predict does after the forward: map, rescale, resize, reciprocal."""
    from depth_ros.geometry.projection import inv_depth_to_depth
    from depth_ros.inference.preprocess import resize_map_numpy

    inv, _ = inv_depth_to_depth(sigmoid, predictor.meta.min_depth, predictor.meta.max_depth)
    inv_m = resize_map_numpy(inv / predictor.metres_per_unit, height, width)
    return np.reciprocal(inv_m)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--weights', default=None, help='checkpoint (default: shipped weights)')
    parser.add_argument('--reps', type=int, default=50)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--cold-heap', action='store_true',
                        help="glibc's default heap (the node keeps freed memory at hand)")
    args = parser.parse_args()

    import torch

    from depth_ros.geometry.intrinsics import Intrinsics
    from depth_ros.inference import Predictor
    from depth_ros.ros import codecs as conv
    from depth_ros.ros.codecs import MsgTypes

    torch.set_num_threads(args.threads)
    if not args.cold_heap:
        from depth_ros.memory import keep_heap_warm

        keep_heap_warm()  # as the node does when it configures
    predictor = Predictor.from_checkpoint(args.weights)
    types = MsgTypes.from_typestore()
    rgb = np.random.default_rng(0).integers(0, 256, (375, 1242, 3), np.uint8)
    header = conv.make_header(types, 1_700_000_000_000_000_000, 'camera_optical')
    image_msg = conv.rgb_to_image(types, rgb, header, 'rgb8')
    intr = Intrinsics(721.5, 721.5, 609.6, 172.9, 1242, 375)
    prepared = predictor.prepare(rgb)
    sigmoid = predictor.backend.depth(prepared.tensor)
    result = predictor.predict(prepared)
    depth = result.depth_m
    pose = np.eye(4)

    parts = {
        'decode Image (rgb8)': lambda: conv.image_to_rgb(image_msg),
        'resize in (prepare)': lambda: predictor.prepare(rgb),
        'resize out + 1/x': lambda: _postprocess(predictor, sigmoid, 375, 1242),
        'depth/image 32FC1': lambda: conv.depth_to_image(types, depth, header),
        'depth/camera_info': lambda: conv.intrinsics_to_camera_info(types, intr, header),
        'points (stride 4, rgb)': lambda: conv.depth_to_pointcloud(types, depth, intr, header,
                                                                    rgb=rgb, stride=4),
        'odom': lambda: conv.pose_to_odometry(types, pose, header, 'camera_optical'),
    }
    forward = _median_ms(lambda: predictor.backend.depth(prepared.tensor), args.reps)
    results = {name: _median_ms(fn, args.reps) for name, fn in parts.items()}
    total = sum(results.values())
    arch = predictor.meta.depth_arch.name
    print(f'node overhead per 375x1242 frame ({arch} at {predictor.meta.width}x'
          f'{predictor.meta.height}, {args.threads} thread(s), median of {args.reps}):')
    for name, ms in results.items():
        print(f'  {name:<26} {ms:7.2f} ms')
    print(f'  {"total overhead":<26} {total:7.2f} ms   (target <= 3 ms)')
    print(f'  {"depth network forward":<26} {forward:7.2f} ms   (not overhead)')
    print(f'  overhead / forward = {total / forward:.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
