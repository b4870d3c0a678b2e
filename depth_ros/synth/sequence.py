"""Generate a synthetic sequence on disk in the KITTI odometry layout.

Frames are independent given the seed, so they can be rendered by several worker processes; the
files do not depend on how many workers wrote them. In-process, PNG encoding runs on a writer
thread while the next frame renders (zlib releases the GIL).
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
import logging
import multiprocessing
import os
from pathlib import Path
import time

import numpy as np
from tqdm import tqdm

from depth_ros.errors import ConfigError, DepthRosError
from depth_ros.geometry.intrinsics import Intrinsics
from depth_ros.memory import keep_heap_warm
from depth_ros.synth.shading import FOG_END_M
from depth_ros.synth.trajectory import FRAME_RATE_HZ
from depth_ros.synth.world import (
    DEFAULT_CAMERA_HEIGHT_M,
    DEFAULT_SUPERSAMPLE,
    Renderer,
    SynthWorld,
    check_parameters,
    check_supersample,
    make_world,
)
from depth_ros.synth.writer import (
    DEPTH_SCALE,
    SequencePaths,
    prepare_output,
    write_frame,
    write_metadata,
)


logger = logging.getLogger(__name__)

GENERATOR_VERSION = '1.1'  # 1.1: anti-aliased by default, synth.json says how
_CHUNK_FRAMES = 5
_MAX_PENDING_WRITES = 4


@dataclass(frozen=True)
class SynthSequence:
    """A generated sequence: its files, camera and ground-truth motion.

    Attributes:
        root: the output folder (`DIR`).
        sequence: sequence id, e.g. '00'.
        image_paths, depth_paths: per-frame PNGs, in frame order.
        poses_path, calib_path, times_path, meta_path: the text files.
        intrinsics: pinhole intrinsics of the rendered images (= P2).
        poses: [K, 4, 4] world_from_cam, world = frame 0's camera (poses[0] = I).
        times_s: [K] timestamps.
        camera_height_m: camera height above the road.
        seed: the generator seed.
    """

    root: Path
    sequence: str
    image_paths: tuple[Path, ...]
    depth_paths: tuple[Path, ...]
    poses_path: Path
    calib_path: Path
    times_path: Path
    meta_path: Path
    intrinsics: Intrinsics
    poses: np.ndarray
    times_s: np.ndarray
    camera_height_m: float
    seed: int

    @property
    def sequence_dir(self) -> Path:
        return self.root / 'sequences' / self.sequence


def generate_sequence(out_dir: str | os.PathLike, seed: int, frames: int, sequence: str = '00',
                      width: int = 640, height: int = 192,
                      camera_height_m: float = DEFAULT_CAMERA_HEIGHT_M, progress: bool = True,
                      overwrite: bool = False, workers: int = 1,
                      supersample: int = DEFAULT_SUPERSAMPLE) -> SynthSequence:
    """Render a seeded drive and write it as KITTI odometry sequence `sequence` under `out_dir`.

    Args:
        out_dir: output folder; `sequences/<sequence>/...` and `poses/<sequence>.txt` go in it.
        seed: non-negative integer; the same seed gives byte-identical files.
        frames: number of frames (at least 2), 10 per second of driving.
        width, height: image size in pixels.
        camera_height_m: camera height above the road.
        progress: show a progress bar.
        overwrite: replace the frames of an existing sequence instead of refusing.
        workers: rendering processes (1 renders in this process). Workers are spawned, so a
            calling script must guard its entry point with `if __name__ == '__main__':`.
        supersample: odd k: k x k rays a pixel, colours averaged (`Renderer`,
            DEFAULT_SUPERSAMPLE); 1: one ray (the frames of generator version 1.0).

    Raises:
        ConfigError: a parameter is out of range.
        OutputError: the output cannot be written, or holds a sequence and `overwrite` is False.
    """
    check_parameters(seed, frames, width, height, camera_height_m, min_frames=2)
    if workers < 1:
        raise ConfigError(f'workers must be at least 1, got {workers}')
    check_supersample(supersample)  # refused before anything is written
    paths = prepare_output(out_dir, sequence, overwrite)
    world = make_world(seed, frames, width, height, camera_height_m)
    start = time.perf_counter()
    with tqdm(total=frames, desc=f'synth {sequence}', unit='frame', disable=not progress) as bar:
        if workers == 1:
            _render_range(Renderer(world, supersample), paths, range(frames), bar.update)
        else:
            _render_parallel(world, paths, workers, bar.update, supersample)
    elapsed = time.perf_counter() - start
    logger.info('rendered %d frames of %dx%d in %.1f s (%.1f frames/s)', frames, width, height,
                elapsed, frames / max(elapsed, 1e-9))
    traj = world.trajectory
    write_metadata(paths, traj.times_s, traj.world_from_cam, world.intrinsics,
                   _meta(world, supersample))
    return SynthSequence(
        paths.root, sequence, tuple(paths.image_path(i) for i in range(frames)),
        tuple(paths.depth_path(i) for i in range(frames)), paths.poses_path, paths.calib_path,
        paths.times_path, paths.meta_path, world.intrinsics, traj.world_from_cam.copy(),
        traj.times_s.copy(), float(camera_height_m), int(seed))


def _render_range(renderer: Renderer, paths: SequencePaths, indices, advance) -> None:
    """Render frames in this process; PNG encoding overlaps the next frame on a thread."""
    pending: deque[Future] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix='synth-png') as pool:
        for i in indices:
            frame = renderer.frame(i)
            pending.append(pool.submit(write_frame, paths, i, frame.rgb, frame.depth_m))
            while len(pending) > _MAX_PENDING_WRITES or (pending and pending[0].done()):
                pending.popleft().result()  # re-raises a write error here
                advance(1)
        while pending:
            pending.popleft().result()
            advance(1)


def _render_parallel(world: SynthWorld, paths: SequencePaths, workers: int, advance,
                     supersample: int) -> None:
    frames = world.frames
    chunks = [range(i, min(i + _CHUNK_FRAMES, frames)) for i in range(0, frames, _CHUNK_FRAMES)]
    k = world.intrinsics
    args = (world.seed, frames, k.width, k.height, world.scene.camera_height_m, str(paths.root),
            paths.sequence, supersample)
    # spawn, not fork: the caller may hold threads (torch, ROS) that fork would copy half-way.
    context = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                             initargs=args) as pool:
        try:
            futures = {pool.submit(_worker_render, chunk): len(chunk) for chunk in chunks}
            not_done = set(futures)
            while not_done:
                done, not_done = wait(not_done, return_when='FIRST_COMPLETED')
                for future in done:
                    future.result()
                    advance(futures[future])
        except BrokenProcessPool as exc:
            raise DepthRosError(
                'a rendering worker process died; if generate_sequence is called from a script '
                "with workers > 1, guard the script's entry point with "
                "if __name__ == '__main__':, or use one worker") from exc
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


_WORKER: tuple[Renderer, SequencePaths] | None = None


def _worker_init(seed: int, frames: int, width: int, height: int, camera_height_m: float,
                 root: str, sequence: str, supersample: int) -> None:
    global _WORKER
    keep_heap_warm()  # a rendering process this module spawned: its heap is ours to tune
    world = make_world(seed, frames, width, height, camera_height_m)
    _WORKER = (Renderer(world, supersample), SequencePaths(Path(root), sequence))


def _worker_render(indices: range) -> int:
    renderer, paths = _WORKER
    _render_range(renderer, paths, indices, lambda n: None)
    return len(indices)


def _meta(world: SynthWorld, supersample: int) -> dict:
    k = world.intrinsics
    return {
        'generator': 'depth_ros.synth',
        'generator_version': GENERATOR_VERSION,
        'supersample': supersample,
        'seed': world.seed,
        'frames': world.frames,
        'frame_rate_hz': FRAME_RATE_HZ,
        'width': k.width,
        'height': k.height,
        'camera_height_m': world.scene.camera_height_m,
        'intrinsics': {'fx': k.fx, 'fy': k.fy, 'cx': k.cx, 'cy': k.cy},
        'intrinsics_model': 'Monodepth2 KITTI K: fx = 0.58 W, fy = 1.92 H, cx = W/2, cy = H/2; '
                            'pixel centres at integer coordinates',
        'depth': {'file': 'depth_2/NNNNNN.png', 'encoding': f'uint16, metres * {DEPTH_SCALE:g}',
                  'quantity': 'z along the optical axis', 'invalid': 0,
                  'invalid_where': f'sky, or farther than {FOG_END_M:g} m (uniform haze)'},
        'poses': 'world_from_cam 3x4 row-major; world = frame 0 camera (x right, y down, '
                 'z forward); camera at zero pitch and roll',
    }
