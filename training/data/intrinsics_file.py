"""Camera intrinsics for custom data, from a small YAML or JSON file.

Accepted forms (YAML shown; JSON with the same keys works too):

    # pixels, for images of the given size (rescaled if the frames have another size)
    fx: 525.0
    fy: 525.0
    cx: 319.5
    cy: 239.5
    width: 640
    height: 480

    # normalised by the image size (Monodepth2 style: fx / W, cx / W, fy / H, cy / H)
    normalized: true
    fx: 0.58
    fy: 1.92
    cx: 0.5
    cy: 0.5

    # a ROS camera_calibration file (image_width, image_height, camera_matrix: {data: [9]})
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from depth_ros.errors import InputError
from depth_ros.geometry.intrinsics import Intrinsics


def read_intrinsics_file(path: Path, image_width: int, image_height: int) -> Intrinsics:
    """Intrinsics in pixels for frames of image_width x image_height.

    Raises InputError for a missing or malformed file, or a calibration whose aspect ratio
    differs from the frames' (a crop, not a resize, would be needed).
    """
    data = _read_mapping(Path(path))
    if 'camera_matrix' in data:
        data = _from_ros_calibration(data, path)
    missing = [key for key in ('fx', 'fy', 'cx', 'cy') if key not in data]
    if missing:
        raise InputError(f'{path}: missing {", ".join(missing)} (need fx, fy, cx, cy)')
    try:
        fx, fy, cx, cy = (float(data[key]) for key in ('fx', 'fy', 'cx', 'cy'))
    except (TypeError, ValueError):
        raise InputError(f'{path}: fx, fy, cx, cy must be numbers') from None
    if data.get('normalized', False):
        return Intrinsics(fx * image_width, fy * image_height, cx * image_width,
                          cy * image_height, image_width, image_height)
    if 'width' not in data or 'height' not in data:
        raise InputError(f'{path}: pixel intrinsics need the calibrated image size (width, '
                         'height), or set normalized: true for values divided by the size')
    calibrated = Intrinsics(fx, fy, cx, cy, int(data['width']), int(data['height']))
    if abs(calibrated.width / calibrated.height - image_width / image_height) > 0.01:
        raise InputError(f'{path}: calibrated for {calibrated.width}x{calibrated.height} but the '
                         f'frames are {image_width}x{image_height} (different aspect ratio)')
    return calibrated.scaled(image_width, image_height)


def _read_mapping(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f'intrinsics file not found: {path}')
    text = path.read_text(encoding='utf-8')
    try:
        data = json.loads(text) if path.suffix.lower() == '.json' else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(f'{path}: not valid {path.suffix[1:].upper()}: {exc}') from None
    if not isinstance(data, dict):
        raise InputError(f'{path}: expected a mapping with fx, fy, cx, cy, got '
                         f'{type(data).__name__}')
    return data


def _from_ros_calibration(data: dict[str, Any], path: Path) -> dict[str, Any]:
    values = (data.get('camera_matrix') or {}).get('data')
    if not isinstance(values, list) or len(values) != 9:
        raise InputError(f'{path}: camera_matrix.data must hold 9 numbers')
    return {'fx': values[0], 'fy': values[4], 'cx': values[2], 'cy': values[5],
            'width': data.get('image_width'), 'height': data.get('image_height')}
