"""One inference API over every backend: camera images in, metric depth and camera motion out."""
from __future__ import annotations

from dataclasses import dataclass, replace
import logging
import os
from pathlib import Path
import warnings

import numpy as np
import torch

from depth_ros.errors import ConfigError, WeightsError
from depth_ros.geometry.projection import inv_depth_to_depth
from depth_ros.geometry.se3 import invert
from depth_ros.inference.backends import Backend, make_backend, resolve_device
from depth_ros.inference.host_staging import PinnedUploader
from depth_ros.inference.packaged import PACKAGED_WEIGHTS, default_weights_path
from depth_ros.inference.preprocess import as_rgb_uint8, resize_map_numpy, to_network_input
from depth_ros.models.checkpoint import Checkpoint, CheckpointMeta, load_checkpoint
from depth_ros.models.registry import ArchSpec, build_depth_net, build_pose_net


LOG = logging.getLogger(__name__)


def resolve_weights(path: str | os.PathLike | None) -> Path:
    """The checkpoint file `Predictor.from_checkpoint` loads for `path` (None: the shipped
    default; a PACKAGED_WEIGHTS name: packaged weights by name, unless such a file exists)."""
    if path is not None and str(path) in PACKAGED_WEIGHTS and not Path(path).exists():
        name, found = str(path), default_weights_path(str(path))
        if found is None:
            raise WeightsError(f'this build ships no {name!r} weights')
        return found
    if path is None:
        found = default_weights_path()
        if found is None:
            raise WeightsError('this build ships no default weights; pass a checkpoint '
                               '(e.g. --weights model.safetensors)')
        return found
    return Path(path)


@dataclass
class DepthResult:
    """Depth of one image at the input resolution.

    Attributes:
        depth_m: float32 [H, W] depth along the optical axis, metres.
        inv_depth_m: float32 [H, W], 1 / depth_m (inverse metres).
    """

    depth_m: np.ndarray
    inv_depth_m: np.ndarray

    @property
    def inv_depth(self) -> np.ndarray:
        """Deprecated name of `inv_depth_m` (inverse depth is in network units elsewhere);
        kept for one release."""
        warnings.warn('DepthResult.inv_depth is deprecated; use inv_depth_m', DeprecationWarning,
                      stacklevel=2)
        return self.inv_depth_m


@dataclass
class PreparedImage:
    """An image already resized for the networks, so a frame is prepared once for depth and
    for the pose of the next pair."""

    tensor: torch.Tensor  # [1, 3, h, w] in [0, 1] on the backend's device
    height: int  # original size
    width: int


class Predictor:
    """Depth in metres and relative camera pose from RGB images.

    Build it with `Predictor.from_checkpoint(path, device='cpu', backend='torch')`.
    """

    def __init__(self, backend: Backend, meta: CheckpointMeta,
                 metres_per_unit: float | None = None, *,
                 depth_scale: float | None = None, flip_average: bool = False) -> None:
        """Args:
            metres_per_unit: replaces the checkpoint's calibration (None: meta's).
            depth_scale: deprecated name of `metres_per_unit` (one release).
            flip_average: also run the depth network on the mirrored image and average the
                two inverse depths (Monodepth2's post-processing: twice the depth network's
                work; on the dev drive abs_rel 0.175 -> 0.171 with session 15's default weights,
                docs/learning/).
        """
        if depth_scale is not None:
            warnings.warn('Predictor(depth_scale=...) is deprecated; use metres_per_unit',
                          DeprecationWarning, stacklevel=3)
            metres_per_unit = depth_scale
        self.backend = backend
        # Camera images go to a GPU through reused page-locked buffers (asynchronous copies).
        self._upload = PinnedUploader(backend.device) if backend.device.type == 'cuda' else None
        self.meta = meta
        self.metres_per_unit = float(meta.metres_per_unit if metres_per_unit is None
                                     else metres_per_unit)
        self.flip_average = bool(flip_average)

    @property
    def depth_scale(self) -> float:
        """Deprecated name of `metres_per_unit`; kept for one release."""
        warnings.warn('Predictor.depth_scale is deprecated; use metres_per_unit',
                      DeprecationWarning, stacklevel=2)
        return self.metres_per_unit

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike | None = None, device: str = 'cpu',
                        backend: str = 'torch', metres_per_unit: float | None = None, *,
                        depth_scale: float | None = None, flip_average: bool = False,
                        input_size: tuple[int, int] | None = None,
                        **backend_options) -> Predictor:
        """Load a native checkpoint (None: the shipped default weights; a PACKAGED_WEIGHTS
        name such as 'real_640x192': packaged weights by name) into a backend.
        `metres_per_unit` replaces the checkpoint's calibration (`depth_scale`: its deprecated
        name); `flip_average`: see `__init__`; `input_size`: (height, width) to run the
        networks at instead of the checkpoint's (multiples of 32; None: the checkpoint's)."""
        path = resolve_weights(path)
        dev = resolve_device(device)
        ckpt = load_checkpoint(path, device='cpu')
        if input_size is not None:
            ckpt = replace(ckpt, meta=ckpt.meta.with_input_size(*input_size))
        return cls(make_backend(backend, ckpt, dev, **backend_options), ckpt.meta,
                   metres_per_unit, depth_scale=depth_scale, flip_average=flip_average)

    @classmethod
    def from_onnx(cls, path: str | os.PathLike, device: str = 'cpu',
                  backend: str = 'onnxruntime', metres_per_unit: float | None = None, *,
                  depth_scale: float | None = None, flip_average: bool = False,
                  input_size: tuple[int, int] | None = None,
                  **backend_options) -> Predictor:
        """An exported `*.depth.onnx` file alone (its metadata gives the meta; the pose graph
        beside it is used when present). `backend` may be 'onnxruntime' or 'tensorrt' (which
        builds its engine from the file). A graph has one input size: `input_size` (height,
        width), when given, must be it."""
        from depth_ros.export.onnx_export import load_onnx_checkpoint

        checkpoint = load_onnx_checkpoint(Path(path))
        size = (checkpoint.meta.height, checkpoint.meta.width)
        if input_size is not None and tuple(input_size) != size:
            raise ConfigError(f'{path} was exported at {size[1]}x{size[0]} (WxH) and runs at '
                              f'that size only; export the weights at {input_size[1]}x'
                              f'{input_size[0]} (depth-ros export --width --height) or leave '
                              'the input size unset')
        dev = resolve_device(device)
        return cls(make_backend(backend, checkpoint, dev, **backend_options), checkpoint.meta,
                   metres_per_unit, depth_scale=depth_scale, flip_average=flip_average)

    @classmethod
    def from_random(cls, arch: str = 'resnet18', height: int = 192, width: int = 640,
                    seed: int = 0, device: str = 'cpu') -> Predictor:
        """Randomly initialised networks (for demos and tests without trained weights).

        The initialisation draws from a private generator state seeded with `seed`; the
        process's global torch RNG is left as it was.
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            depth_net, pose_net = build_depth_net(arch).eval(), build_pose_net(arch).eval()
        meta = CheckpointMeta(depth_arch=ArchSpec.of(arch), pose_arch=ArchSpec.of(arch),
                              height=height, width=width, notes='random initialisation')
        ckpt = Checkpoint(depth_net, pose_net, meta)
        return cls(make_backend('torch', ckpt, resolve_device(device)), meta)

    @property
    def input_size(self) -> tuple[int, int]:
        """Network input (height, width)."""
        return self.meta.height, self.meta.width

    @property
    def backend_name(self) -> str:
        """The backend running the networks (what 'auto' chose)."""
        return self.backend.name

    @property
    def has_pose(self) -> bool:
        return self.backend.has_pose

    def prepare(self, image: np.ndarray) -> PreparedImage:
        """Convert (grey/RGBA -> RGB) and resize an HxW[xC] uint8 image for the networks."""
        rgb = as_rgb_uint8(image)
        tensor = to_network_input([rgb], *self.input_size, self.backend.device,
                                  self._upload)
        return PreparedImage(tensor, rgb.shape[0], rgb.shape[1])

    def warm_up(self) -> None:
        """Run the networks once on a blank frame of the network's size, so the first real
        frame does not pay for the backend's allocations (a node's first output)."""
        prepared = self.prepare(np.zeros((*self.input_size, 3), dtype=np.uint8))
        self.predict(prepared)
        if self.has_pose:
            self.relative_pose(prepared, prepared)

    def predict(self, image: np.ndarray | PreparedImage) -> DepthResult:
        """Depth of one image at its own resolution."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: list[np.ndarray | PreparedImage]) -> list[DepthResult]:
        """Depth of several images (sizes may differ) in one forward pass."""
        prepared = [im if isinstance(im, PreparedImage) else self.prepare(im) for im in images]
        images = prepared[0].tensor if len(prepared) == 1 else torch.cat(
            [p.tensor for p in prepared], dim=0)
        sigmoid = self.backend.depth(images)
        if self.flip_average:  # the mirrored image's output mirrored back, then the mean
            mirrored = self.backend.depth(torch.flip(images, dims=[-1]))
            sigmoid = 0.5 * (sigmoid + torch.flip(mirrored, dims=[-1]))
        inv_units, _ = inv_depth_to_depth(sigmoid, self.meta.min_depth, self.meta.max_depth)
        # Scaling commutes with the (linear) resize: do it on the small map.
        inv_metric = inv_units.float() / self.metres_per_unit
        results = []
        for i, p in enumerate(prepared):
            inv_m = resize_map_numpy(inv_metric[i:i + 1], p.height, p.width)
            results.append(DepthResult(depth_m=np.reciprocal(inv_m), inv_depth_m=inv_m))
        return results

    def relative_pose(self, previous: np.ndarray | PreparedImage,
                      current: np.ndarray | PreparedImage) -> np.ndarray:
        """previous_from_current [4,4] float64: the current camera's pose in the previous
        camera's frame, translation in metres (network units times `metres_per_unit`).

        The pair is fed in temporal order, as in training; the network then predicts
        current_from_previous, which is inverted here.
        """
        prev = previous if isinstance(previous, PreparedImage) else self.prepare(previous)
        cur = current if isinstance(current, PreparedImage) else self.prepare(current)
        cur_from_prev = self.backend.pose(prev.tensor, cur.tensor)[0].double().cpu().numpy()
        cur_from_prev[:3, 3] *= self.metres_per_unit
        return invert(cur_from_prev)
