"""KITTI odometry layout (and depth_ros.synth sequences, which use it too).

Layout: ROOT/sequences/XX/image_{0..3}/000000.png with ROOT/sequences/XX/calib.txt (P0..P3).
Optional ground-truth depth of camera c: ROOT/sequences/XX/depth_c/000000.png (16-bit,
metres * 256). Frames are either every frame of the listed sequences that has all its neighbours,
or the lines of a Monodepth2 odometry split file ("sequence frame side").
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from depth_ros.errors import InputError
from depth_ros.geometry.intrinsics import kitti_intrinsics
from training.data.kitti_raw import SIDE_TO_CAMERA, read_split_file
from training.data.records import FrameRecord, image_size


def sequence_frames(sequence_dir: Path, camera: int) -> dict[int, Path]:
    """Frame number -> image path of one camera of one sequence."""
    image_dir = sequence_dir / f'image_{camera}'
    if not image_dir.is_dir():
        present = sorted(p.name for p in sequence_dir.glob('image_*') if p.is_dir())
        hint = f'; it has {", ".join(present)} (set data.camera)' if present else ''
        raise InputError(f'image folder not found: {image_dir}{hint}')
    frames = {int(p.stem): p for p in image_dir.iterdir()
              if p.suffix.lower() in ('.png', '.jpg') and p.stem.isdigit()}
    if not frames:
        raise InputError(f'no numbered .png/.jpg frames in {image_dir}')
    return frames


def _sequence_records(sequence_dir: Path, camera: int, frame_offsets: Sequence[int],
                      targets: Sequence[int] | None) -> list[FrameRecord]:
    frames = sequence_frames(sequence_dir, camera)
    first = frames[min(frames)]
    width, height = image_size(first)
    intrinsics = kitti_intrinsics(sequence_dir / 'calib.txt', camera, width, height)
    depth_dir = sequence_dir / f'depth_{camera}'
    records = []
    for target in (sorted(frames) if targets is None else targets):
        numbers = [target + o for o in frame_offsets]
        if targets is None and not all(n in frames for n in numbers):
            continue  # sequence ends: not every neighbour exists
        paths = tuple(frames.get(n, first.with_name(f'{n:06d}{first.suffix}')) for n in numbers)
        depth = depth_dir / f'{target:06d}.png'
        records.append(FrameRecord(paths, intrinsics, depth if depth.is_file() else None))
    return records


def kitti_odometry_records(root: Path, frame_offsets: Sequence[int],
                           sequences: Sequence[str] = (), camera: int = 2,
                           split_file: Path | None = None) -> list[FrameRecord]:
    """Records from whole sequences, or from a split file (whose side overrides `camera`)."""
    root = Path(root)
    if not (root / 'sequences').is_dir():
        raise InputError(f'KITTI odometry layout not found: {root / "sequences"} is missing')
    if split_file is not None:
        by_key: dict[tuple[str, int], list[int]] = {}
        for entry in read_split_file(Path(split_file)):
            if not entry.folder.isdigit():
                raise InputError(f'{split_file}: odometry split lines start with a sequence '
                                 f'number, got {entry.folder!r}')
            key = (f'{int(entry.folder):02d}', SIDE_TO_CAMERA[entry.side])
            by_key.setdefault(key, []).append(entry.frame)
        return [r for (seq, cam), targets in by_key.items()
                for r in _sequence_records(root / 'sequences' / seq, cam, frame_offsets, targets)]
    if not sequences:
        raise InputError('no KITTI odometry sequences given (data.sequences or data.split_file)')
    records = []
    for seq in sequences:
        sequence_dir = root / 'sequences' / seq
        if not sequence_dir.is_dir():
            raise InputError(f'sequence folder not found: {sequence_dir}')
        found = _sequence_records(sequence_dir, camera, frame_offsets, None)
        if not found:
            raise InputError(f'{sequence_dir} has too few frames for offsets '
                             f'{list(frame_offsets)}')
        records.extend(found)
    return records
