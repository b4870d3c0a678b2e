"""Pack the recipe's real training sequences small enough to travel to the lent GPU machine.

    python benchmarks/pack_real_mix.py --out runs/gpu_mix            # scale 2/3, JPEG q92

The GPU machine sees only the repository (at most 64 MiB with what a command carries), not
../shared: runs/real_mix's real sequences at full size are 68 MB. This writes them resized
(images with a Lanczos filter, KITTI calib.txt projection rows scaled by the same factors, the
Monodepth2 convention of `Intrinsics.scaled`; sparse LiDAR depth moved point by point to the
smaller grid, the nearest return kept where two meet) into OUT/sequences/, a folder that
`benchmarks/train_real.py --work W --no-dev` uses as its mix once copied to W/real_mix
(benchmarks/gpu_real_recipe.sh does this on the GPU machine). At scale 2/3 a KITTI frame is
828x250, still above the 640x192 the high-resolution run trains at. The synthetic sequences are
not packed: they are rendered there.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
import shutil
import sys

import numpy as np
from PIL import Image


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))

from train_real import GEOMETRIC_SEQUENCES  # noqa: E402


SEQUENCES = tuple(sorted({*GEOMETRIC_SEQUENCES, 'kitti_sfnd'}))
NO_DEPTH = np.iinfo(np.int64).max


def scale_calib(text: str, sx: float, sy: float) -> str:
    """KITTI odometry calib.txt with each 3x4 projection's first row times sx, second times sy."""
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        key, values = line.split(':', 1)
        matrix = np.array(values.split(), float).reshape(3, 4)
        matrix[0] *= sx
        matrix[1] *= sy
        lines.append(f'{key}: ' + ' '.join(f'{v:.12e}' for v in matrix.ravel()))
    return '\n'.join(lines) + '\n'


def shrink_sparse_depth(depth: np.ndarray, width: int, height: int) -> np.ndarray:
    """Every return of a sparse depth map (0 = none) at its pixel centre's place on a
    width x height grid; where several land on one pixel the nearest stays."""
    rows, cols = np.nonzero(depth)
    sx, sy = width / depth.shape[1], height / depth.shape[0]
    u = np.minimum(((cols + 0.5) * sx).astype(int), width - 1)
    v = np.minimum(((rows + 0.5) * sy).astype(int), height - 1)
    out = np.full((height, width), NO_DEPTH, np.int64)
    np.minimum.at(out, (v, u), depth[rows, cols].astype(np.int64))
    out[out == NO_DEPTH] = 0
    return out.astype(depth.dtype)


def pack_sequence(src: Path, dst: Path, scale: float, quality: int) -> tuple[int, int, int]:
    """One KITTI-layout sequence resized into dst; returns (frames, width, height)."""
    images = sorted(p for p in (src / 'image_2').iterdir() if p.suffix in ('.jpg', '.png'))
    if not images:
        raise SystemExit(f'{src}: no frames in image_2/')
    w0, h0 = Image.open(images[0]).size
    w1, h1 = round(w0 * scale), round(h0 * scale)
    (dst / 'image_2').mkdir(parents=True)
    for path in images:
        with Image.open(path) as image:
            small = image.convert('RGB').resize((w1, h1), Image.Resampling.LANCZOS)
        small.save(dst / 'image_2' / f'{path.stem}.jpg', quality=quality)
    (dst / 'calib.txt').write_text(scale_calib((src / 'calib.txt').read_text(), w1 / w0, h1 / h0))
    if (src / 'times.txt').is_file():
        shutil.copyfile(src / 'times.txt', dst / 'times.txt')
    if (src / 'depth_2').is_dir():
        (dst / 'depth_2').mkdir()
        for path in sorted((src / 'depth_2').glob('*.png')):
            depth = np.asarray(Image.open(path))
            Image.fromarray(shrink_sparse_depth(depth, w1, h1)).save(dst / 'depth_2' / path.name)
    return len(images), w1, h1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--mix', type=Path, default=ROOT / 'runs' / 'real_mix',
                        help='the prepared mix (benchmarks/train_real.py step 1)')
    parser.add_argument('--out', type=Path, required=True)
    parser.add_argument('--scale', type=float, default=2 / 3)
    parser.add_argument('--quality', type=int, default=92, help='JPEG quality')
    parser.add_argument('--sequences', nargs='+', default=list(SEQUENCES))
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error('--scale must be in (0, 1]')
    missing = [s for s in args.sequences if not (args.mix / 'sequences' / s).is_dir()]
    if missing:
        parser.error(f'not in {args.mix}/sequences: {", ".join(missing)} (run '
                     'benchmarks/train_real.py once, or python -m training.data.prepare_mix '
                     'config/real_mix.yaml --out runs/real_mix)')
    partial = args.out.with_name(args.out.name + '.partial')
    shutil.rmtree(partial, ignore_errors=True)
    for name in args.sequences:
        frames, width, height = pack_sequence(args.mix / 'sequences' / name,
                                              partial / 'sequences' / name, args.scale,
                                              args.quality)
        print(f'{name}: {frames} frames, {width}x{height}')
    shutil.rmtree(args.out, ignore_errors=True)
    os.replace(partial, args.out)
    size = sum(p.stat().st_size for p in args.out.rglob('*') if p.is_file())
    print(f'wrote {args.out} ({size / 2**20:.1f} MiB)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
