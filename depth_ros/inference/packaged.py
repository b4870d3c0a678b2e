"""The weights shipped inside the package: their names and files, and the camera they learned,
with the warning for a camera mounted elsewhere (no torch: the node reads it before any model
loads)."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from depth_ros.inference.scale import KITTI_CAMERA_HEIGHT_M


DEFAULT_WEIGHTS_NAME = 'default.safetensors'
# Weights shipped inside the package, by the name `weights` accepts (see weights/MODEL_CARD.md):
# 'default' (416x128) was trained on real video under non-commercial data licences,
# 'real_640x192' the same recipe at 640x192 on a GPU (better depth, 2.3x the pixels: for a GPU),
# 'synthetic' only on the package's own synthetic world.
PACKAGED_WEIGHTS = {'default': DEFAULT_WEIGHTS_NAME, 'real_640x192': 'real_640x192.safetensors',
                    'synthetic': 'synthetic.safetensors'}
# Every camera they were trained on (KITTI's, the synthetic world's) was about this high above
# the road, and their depth of the road is that camera's (docs/learning/camera_heights/).
PACKAGED_CAMERA_HEIGHT_M = KITTI_CAMERA_HEIGHT_M


def default_weights_path(name: str = 'default') -> Path | None:
    """Packaged weights by name (PACKAGED_WEIGHTS), or None if this build lacks them."""
    path = Path(str(resources.files('depth_ros'))) / 'weights' / PACKAGED_WEIGHTS[name]
    return path if path.is_file() else None


def camera_height_warning(weights: str, height_m: float, said_by: str) -> str | None:
    """The warning for a ground scale from a camera `height_m` above the ground (`said_by`:
    where that height comes from) with `weights`; None when they are not packaged or the
    height is within 20 % of the one they learned."""
    ratio = height_m / PACKAGED_CAMERA_HEIGHT_M
    if weights not in ('', *PACKAGED_WEIGHTS) or 0.8 <= ratio <= 1.25:
        return None
    return (f'camera-height scale with {said_by}: the packaged weights predict the road as a '
            f'camera {PACKAGED_CAMERA_HEIGHT_M:g} m high sees it, so the factor follows the '
            f'height ratio ({ratio:.2f}) and over-corrects the rest of the scene (synthetic '
            'drives from 0.6 to 2.5 m high: docs/learning/camera_heights/); for metres at this '
            "height train on this camera's video (docs/TRAINING.md)")
