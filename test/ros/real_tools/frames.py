"""Camera messages of real 1242x375 KITTI frames, for the processes of the real-tools tier."""
from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image as PILImage
from sensor_msgs.msg import CameraInfo, Image
import tools


FRAME_ID = 'camera_optical'
# KITTI 2011_09_26 P_rect_02 intrinsics (the frame's own camera).
K = [721.5377, 0.0, 609.5593, 0.0, 721.5377, 172.854, 0.0, 0.0, 1.0]


def load_rgb() -> np.ndarray:
    return np.asarray(PILImage.open(tools.FRAME_PNG).convert('RGB'))


def load_drive(count: int = 60) -> list[np.ndarray]:
    """The first `count` frames of the real dev drive (KITTI raw 2011_09_26 0005, 1242x375,
    the camera of `K`): a moving camera, so the pose network runs at every frame."""
    paths = sorted(tools.DEV_DRIVE_IMAGES.glob('*.jpg'))[:count]
    if not paths:
        raise FileNotFoundError(f'no frames in {tools.DEV_DRIVE_IMAGES}')
    return [np.asarray(PILImage.open(path).convert('RGB')) for path in paths]


def image_msg(rgb: np.ndarray, stamp: Any, frame_id: str = FRAME_ID) -> Image:
    msg = Image(height=rgb.shape[0], width=rgb.shape[1], encoding='rgb8', is_bigendian=0,
                step=rgb.shape[1] * 3)
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    msg.data = rgb.tobytes()
    return msg


def info_msg(width: int, height: int, stamp: Any, frame_id: str = FRAME_ID,
             k: list[float] = K) -> CameraInfo:
    msg = CameraInfo(width=width, height=height, distortion_model='plumb_bob', d=[0.0] * 5,
                     k=k, r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
                     p=[k[0], 0.0, k[2], 0.0, 0.0, k[4], k[5], 0.0, 0.0, 0.0, 1.0, 0.0])
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    return msg
