"""One KITTI-odometry tree from several real videos (and the synthetic world) for training.

Real video brings what the synthetic world does not: cameras with other intrinsics, grey-only
sensors, an ego-vehicle hood in view, scene cuts and sensors whose frames are still distorted.
Each source is described once (`SourceSpec`, usually from a YAML list, see
config/real_mix.yaml) and laid out as sequences of one tree that `data.kind: kitti_odometry`
reads with `camera: 2`:

- frames are linked (not copied) when nothing needs changing, written when a crop is needed
  (`crop_bottom`: rows removed at the bottom, for a hood; cx, cy keep their meaning);
- the source camera's projection matrix becomes P2 of the new calib.txt (grey sets use P0);
- a scene cut (mean absolute grey difference between neighbours above `cut_threshold`)
  starts a new sequence, so no training tuple spans two scenes;
- `skip: true` keeps a source out with its reason logged (e.g. EuRoC: distorted frames, which
  the pinhole view synthesis would treat as geometry).

Run: `python -m training.data.prepare_mix config/real_mix.yaml --out runs/real_mix`.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import shutil
import tempfile

import numpy as np
from PIL import Image
import yaml

from depth_ros.errors import ConfigError, DepthRosError, InputError
from training.data.kitti_odometry import sequence_frames
from training.data.static_filter import thumbnail


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceSpec:
    """One real video in KITTI odometry layout.

    Attributes:
        name: name of the output sequence (suffixed _a, _b, ... at scene cuts).
        sequence_dir: folder holding image_<camera>/ and calib.txt.
        camera: which image_<camera>/ folder and P<camera> to use.
        crop_bottom: rows removed at the bottom of every frame (ego-vehicle hood).
        cut_threshold: neighbour grey difference (0..1) above which a new scene starts
            (0: never split).
        skip: leave the source out (the reason goes in `note`).
        note: why the source is treated this way (logged).
    """

    name: str
    sequence_dir: str
    camera: int = 2
    crop_bottom: int = 0
    cut_threshold: float = 0.0
    skip: bool = False
    note: str = ''


def read_sources(path: Path, root: Path | None = None) -> list[SourceSpec]:
    """Source specs from a YAML list; relative `sequence_dir`s are taken from `root`."""
    try:
        entries = yaml.safe_load(Path(path).read_text(encoding='utf-8'))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f'cannot read source list {path}: {exc}') from None
    if not isinstance(entries, dict) or not isinstance(entries.get('sources'), list):
        raise ConfigError(f'{path}: expected a mapping with a "sources" list')
    specs = []
    for entry in entries['sources']:
        try:
            spec = SourceSpec(**entry)
        except TypeError as exc:
            raise ConfigError(f'{path}: bad source entry {entry!r}: {exc}') from None
        if root is not None and not Path(spec.sequence_dir).is_absolute():
            spec = SourceSpec(**{**spec.__dict__,
                                 'sequence_dir': str(root / spec.sequence_dir)})
        specs.append(spec)
    return specs


def scene_segments(paths: Sequence[Path], cut_threshold: float) -> list[list[int]]:
    """Positions of `paths` grouped into scenes split where neighbours differ too much."""
    if cut_threshold <= 0 or len(paths) < 2:
        return [list(range(len(paths)))]
    thumbs = [thumbnail(p).astype(np.float32) / 255.0 for p in paths]
    segments = [[0]]
    for i in range(1, len(paths)):
        if float(np.abs(thumbs[i] - thumbs[i - 1]).mean()) > cut_threshold:
            segments.append([])
        segments[-1].append(i)
    return segments


def projection_line(calib: Path, camera: int) -> str:
    """The 12 numbers of P<camera> in a KITTI calib.txt, as written there."""
    try:
        lines = calib.read_text(encoding='utf-8').splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f'cannot read {calib}: {exc}') from None
    for line in lines:
        key, _, values = line.partition(':')
        if key.strip() == f'P{camera}' and len(values.split()) == 12:
            return values.strip()
    raise InputError(f'{calib} has no P{camera} line with 12 numbers')


def _write_frame(source: Path, target: Path, crop_bottom: int) -> None:
    if crop_bottom <= 0:
        os.symlink(source.resolve(), target)
        return
    with Image.open(source) as image:
        if crop_bottom >= image.height:
            raise InputError(f'crop_bottom {crop_bottom} removes all of {source}')
        image.crop((0, 0, image.width, image.height - crop_bottom)).save(target, quality=95)


def _lay_out_segment(spec: SourceSpec, frames: list[Path], out_dir: Path, p_line: str) -> None:
    image_dir = out_dir / 'image_2'
    image_dir.mkdir(parents=True)
    depth_src = Path(spec.sequence_dir) / f'depth_{spec.camera}'
    for number, path in enumerate(frames):
        _write_frame(path, image_dir / f'{number:06d}{path.suffix.lower()}', spec.crop_bottom)
        depth = depth_src / f'{path.stem}.png'
        if depth.is_file() and spec.crop_bottom == 0:
            (out_dir / 'depth_2').mkdir(exist_ok=True)
            os.symlink(depth.resolve(), out_dir / 'depth_2' / f'{number:06d}.png')
    (out_dir / 'calib.txt').write_text(
        ''.join(f'P{c}: {p_line}\n' for c in range(4)), encoding='utf-8')


def add_source(spec: SourceSpec, out_root: Path) -> list[str]:
    """Lay out one source under out_root/sequences/; returns the sequence names written."""
    if spec.skip:
        logger.info('source %s left out: %s', spec.name, spec.note or 'skip: true')
        return []
    sequence_dir = Path(spec.sequence_dir)
    numbered = sequence_frames(sequence_dir, spec.camera)
    paths = [numbered[n] for n in sorted(numbered)]
    p_line = projection_line(sequence_dir / 'calib.txt', spec.camera)
    segments = [s for s in scene_segments(paths, spec.cut_threshold) if len(s) >= 3]
    names = []
    for i, segment in enumerate(segments):
        name = spec.name if len(segments) == 1 else f'{spec.name}_{chr(ord("a") + i)}'
        _lay_out_segment(spec, [paths[j] for j in segment], out_root / 'sequences' / name,
                         p_line)
        names.append(name)
    logger.info('source %s: %d frames -> %s%s', spec.name, len(paths), ', '.join(names),
                f' ({spec.note})' if spec.note else '')
    return names


def prepare_mix(specs: Sequence[SourceSpec], out_root: Path) -> list[str]:
    """Write every source into out_root/sequences/ (replacing those sequences whole)."""
    out_root = Path(out_root)
    (out_root / 'sequences').mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for spec in specs:
        # Built in a temporary tree, moved into place only when complete.
        with tempfile.TemporaryDirectory(dir=out_root) as tmp:
            written = add_source(spec, Path(tmp))
            for name in written:
                target = out_root / 'sequences' / name
                if target.exists():
                    shutil.rmtree(target)
                os.replace(Path(tmp) / 'sequences' / name, target)
        names += written
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('sources', type=Path, help='YAML file with a "sources" list')
    parser.add_argument('--out', type=Path, required=True, help='output KITTI odometry root')
    parser.add_argument('--root', type=Path, default=None,
                        help='folder relative sequence_dirs are taken from (default: the '
                             'current directory)')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    try:
        specs = read_sources(args.sources, args.root or Path.cwd())
        names = prepare_mix(specs, args.out)
    except DepthRosError as exc:
        print(f'error: {exc}')
        return 2
    print(f'{len(names)} sequences in {args.out}: {" ".join(names)}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
