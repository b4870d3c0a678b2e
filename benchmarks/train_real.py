"""The real-world recipe in one command: data, training, metric calibration, real-world benchmark.

    python benchmarks/train_real.py --minutes 62 --fine-minutes 24 --sup-minutes 55  # 2-core CPU
    python benchmarks/train_real.py --minutes 6 --device cuda   # a GPU (see gpu_check.py)
    python benchmarks/train_real.py --device cuda --work runs/gpu_640x192 --synth-size 640x192 \
        --override data.width=640 --override data.height=192 --no-dev --no-benchmark
        # another size in its own folder, on a machine without ../shared whose runs/gpu_640x192/
        # real_mix/sequences holds benchmarks/pack_real_mix.py's output (gpu_real_recipe.sh)
    python benchmarks/train_real.py --install-default \\
        --checkpoint runs/train_real/checkpoints/epoch_007.safetensors   # ship a finished run

Steps (each skipped when its output exists, so a stopped run resumes where it was; a training
phase that finished leaves a DONE file in its run folder; a depth mix made for another teacher or
checkpoint stops the run with an error instead of being reused):
1. lay the real training videos (config/real_mix.yaml) and the dev drive (config/real_dev.yaml,
   validation curve only) out as one KITTI tree in runs/real_mix, and render four synthetic
   sequences (seeds 101..104, 416x128, --synth-supersample rays a pixel side: the world's
   default 3 since session 19; the shipped weights saw one-ray frames, --synth-supersample 1)
   into it;
2. train config/train_real.yaml within --minutes (resuming the newest checkpoint of the run),
   then a second, quieter phase within --fine-minutes: a new run initialised from the first
   one's last checkpoint with a 5x lower learning rate and a 5x stronger static-pair term
   (FINE_OVERRIDES; a new run because a resumed one keeps its learning-rate schedule); with
   --sup-minutes M a third phase initialised from the second: the fine phase's metres per unit
   measured (step 3's calibration), sparse depth triangulated by the epipolar odometry written
   for the real sequences without LiDAR (GEOMETRIC_SEQUENCES, in runs/real_mix_geo: the same
   tree linked, plus those depth folders; training/data/geometric_depth.py, about a minute),
   then every frame with depth (the synthetic world's, the stop-and-go drive's LiDAR, the
   triangulated corners) also supervised by the scale-invariant log error in those units
   (SUP_OVERRIDES, training/losses/silog.py); with --teacher-minutes M then a teacher phase:
   the same supervision, with the depth of a teacher network run on the full-resolution frames
   of those sequences instead of the triangulated corners (default `real_640x192` at 512x160
   with the mirror average; training/data/teacher_depth.py; merged with the corners it trained
   worse, docs/learning/real_world_recipe.md, "Session 15"; --merged-labels SEQ... gives drives
   with LiDAR the teacher's depth scaled to their LiDAR with the LiDAR over it, "Session 28",
   instead of the LiDAR alone; --start-from W begins it from
   weights W, e.g. the shipped default, skipping the phases before it); with --pose-minutes M
   (experimental, off by default) then a pose phase: the depth network frozen, the pose
   network read antisymmetrically (a repeated frame gives zero motion) and trained against it
   (POSE_OVERRIDES; docs/learning/real_world_recipe.md says why: the fine-tuned pose network had
   learned a constant "drive forward");
3. calibrate metres per network unit on the exact depth of a synthetic TRAINING sequence (its
   camera is KITTI-like: 1.65 m high, fx = 0.58 W); the LiDAR of the one real training drive
   with LiDAR (sfnd, a queue behind a car under a bridge) gave a scale 2x off on other drives;
4. run benchmarks/real_world.py on the result (dev drive, KITTI odometry 06 and 01, baselines).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
import sys


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from train_real_data import (  # noqa: E402
    DEFAULT_LAYOUT,
    Layout,
    depth_mix,
    prepare_data,
    run_command,
)

from depth_ros.errors import ConfigError  # noqa: E402
from depth_ros.pipeline.track_depth import DEPTH_REFINEMENTS  # noqa: E402
from depth_ros.sizes import input_size_arg, parse_size  # noqa: E402
from depth_ros.synth.world import DEFAULT_SUPERSAMPLE, supersample_arg  # noqa: E402


# Real training sequences without LiDAR: they get sparse triangulated depth for phase 3.
GEOMETRIC_SEQUENCES = ('kitti_cgebbe', 'kitti_odom00', 'nuscenes_front_a', 'nuscenes_front_b',
                       'nuscenes_front_c')
FINE_OVERRIDES = ('optim.learning_rate=2.0e-5', 'loss.static_pair_weight=1.0')
# Structure mostly, scale half (lambda 0.5), in the units the fine phase was calibrated to.
SUP_OVERRIDES = ('loss.depth_supervision_weight=2.0', 'loss.depth_supervision_variance_focus=0.5',
                 'loss.static_pair_weight=1.0', 'optim.learning_rate=5.0e-5')
# Depth frozen (BatchNorm in eval mode), only the full-resolution photometric loss (the other
# scales only help the depth network), the fine phase's pose weights read antisymmetrically (no
# constant "drive forward" can survive; its features do carry motion). Trained from scratch
# instead, the antisymmetric network still predicted ~0 motion after 226 steps (lr 2e-4) and 113
# steps (lr 1e-3): docs/learning/real_world_recipe.md.
POSE_OVERRIDES = ('model.freeze_depth=true', 'model.pose_kwargs={antisymmetric: true}',
                  'loss.scales=[0]', 'loss.static_pair_weight=0.1',
                  'optim.learning_rate=2.0e-4', 'validate_every_epochs=0')
CONFIG = ROOT / 'config' / 'train_real.yaml'
CALIBRATION_SEQUENCE = '81'  # synthetic, seed 101 (training data)
DEFAULT_WEIGHTS = ROOT / 'depth_ros' / 'weights' / 'default.safetensors'


def latest_checkpoint(run: Path) -> Path | None:
    """The newest epoch checkpoint of a run, or None."""
    found = sorted((run / 'checkpoints').glob('epoch_*.safetensors'))
    return found[-1] if found else None


def train(minutes: float, device: str, run: Path, extra: tuple[str, ...] = (),
          layout: Layout = DEFAULT_LAYOUT) -> Path:
    """Step 2: train (or resume) `run` within `minutes` of wall-clock time; a run that
    finished before (its DONE file) is not trained again."""
    done, resume = run / 'DONE', latest_checkpoint(run)
    if done.is_file() and resume is not None:
        print(f'{run.name}: finished before ({done}), using {resume}')
        return resume
    overrides = [f'optim.max_minutes={minutes}', f'device={device}', f'output_dir={run}',
                 f'data.path={layout.mix}']
    if device != 'cpu':
        overrides += ['num_workers=4', 'torch_threads=0']
    overrides += [*extra, *layout.phase_overrides()]
    if resume is not None:
        overrides.append(f'resume={resume}')
    argv = [sys.executable, '-m', 'training.train', '--config', str(CONFIG)]
    for override in overrides:
        argv += ['--override', override]
    run_command(argv)
    checkpoint = latest_checkpoint(run)
    if checkpoint is None:
        raise SystemExit('training wrote no checkpoint')
    done.write_text(f'{checkpoint.name}\n')
    return checkpoint


@dataclass(frozen=True)
class Phases:
    """Minutes of each training phase (0: skipped) and the teacher phase's teacher."""

    main: float
    fine: float
    sup: float
    pose: float = 0.0
    teacher: float = 0.0
    teacher_weights: str = 'real_640x192'
    teacher_size: str = '512x160'
    start_from: Path | None = None
    teacher_refinement: str = 'none'
    merged: tuple[str, ...] = ()  # drives with LiDAR labelled by the teacher merged with it

    @property
    def teacher_label(self) -> str:
        """The teacher and what it wrote, as the depth mix's stamp and the weights' notes."""
        return (f'{self.teacher_weights} at {self.teacher_size}, mirror average'
                + ('' if self.teacher_refinement == 'none'
                   else f', depth_refinement {self.teacher_refinement}')
                + (f'; merged with the LiDAR of {", ".join(self.merged)}' if self.merged
                   else ''))


def train_phases(phases: Phases, device: str, layout: Layout = DEFAULT_LAYOUT) -> Path:
    """Step 2: the main phase, the fine phase initialised from its last checkpoint, the
    depth-supervised phase, the teacher phase, then the pose phase on the previous phase's
    (frozen) depth network; a budget of 0 skips a phase, `phases.start_from` skips every phase
    before the teacher phase and starts it from those weights."""
    def start_from(checkpoint: Path) -> tuple[str, ...]:
        return f'model.init_depth={checkpoint}', f'model.init_pose={checkpoint}'

    def supervised(minutes: float, run: str, mix: Path, last: Path, unit: float) -> Path:
        return train(minutes, device, layout.run(run), SUP_OVERRIDES + start_from(last) + (
                         f'loss.depth_supervision_metres_per_unit={unit:.6g}',
                         f'data.path={mix}'), layout)

    last = phases.start_from
    if last is None:
        last = train(phases.main, device, layout.run(), layout=layout)
        if phases.fine > 0:
            last = train(phases.fine, device, layout.run('b'),
                         FINE_OVERRIDES + start_from(last), layout)
        if phases.sup > 0:
            unit = metres_per_unit(last, layout)
            last = supervised(phases.sup, 'sup', geometric_mix(last, unit, layout), last, unit)
    if phases.teacher > 0:
        unit = metres_per_unit(last, layout)
        last = supervised(phases.teacher, 'teacher', teacher_mix(phases, layout), last, unit)
    if phases.pose > 0:
        last = train(phases.pose, device, layout.run('c'), POSE_OVERRIDES + start_from(last),
                     layout)
    return last


def geometric_mix(checkpoint: Path, unit: float, layout: Layout = DEFAULT_LAYOUT) -> Path:
    """The mix linked into real_mix_geo, with sparse triangulated depth (in the metres of
    `checkpoint` at `unit` metres per unit) for GEOMETRIC_SEQUENCES; once."""
    options = ('--weights', str(checkpoint), '--metres-per-unit', f'{unit:.9g}')
    return depth_mix(layout.geo_mix, layout, 'training.data.geometric_depth', f'{checkpoint}',
                     ((options, GEOMETRIC_SEQUENCES),))


def teacher_mix(phases: Phases, layout: Layout = DEFAULT_LAYOUT) -> Path:
    """The mix linked into real_mix_teacher, with the teacher's dense depth (in its own
    metres) for GEOMETRIC_SEQUENCES, and for each drive of `phases.merged` the teacher's depth
    scaled to that drive's LiDAR (median ratio per frame) with the LiDAR written over it
    (teacher_depth --sparse-root; the LiDAR alone otherwise); once.

    Raises:
        ConfigError: a drive of `phases.merged` has no LiDAR (`depth_2/`) in the mix.
    """
    for name in phases.merged:
        if not (layout.mix / 'sequences' / name / 'depth_2').is_dir():
            raise ConfigError(f'--merged-labels {name}: {layout.mix}/sequences/{name}/depth_2 '
                              'is not there: name drives of the mix that have LiDAR')
    teacher = ('--weights', phases.teacher_weights, '--input-size', phases.teacher_size,
               '--flip-average', '--refinement', phases.teacher_refinement)
    merge = ('--sparse-root', str(layout.mix), '--replace')
    return depth_mix(layout.teacher_mix, layout, 'training.data.teacher_depth',
                     phases.teacher_label,
                     ((teacher, GEOMETRIC_SEQUENCES), (teacher + merge, phases.merged)))


def metres_per_unit(checkpoint: Path, layout: Layout = DEFAULT_LAYOUT) -> float:
    """Step 3's measurement: the checkpoint's metres per unit times the median true /
    predicted depth over a synthetic training sequence."""
    import numpy as np

    from depth_ros.evaluation.depth_metrics import evaluate_depths
    from depth_ros.inference import Predictor
    from training.data.images import load_depth_png, load_rgb

    sequence = layout.mix / 'sequences' / CALIBRATION_SEQUENCE
    depth_files = sorted((sequence / 'depth_2').glob('*.png'))
    predictor = Predictor.from_checkpoint(checkpoint)
    gts, preds = [], []
    for depth_file in depth_files:
        rgb = np.asarray(load_rgb(next((sequence / 'image_2').glob(depth_file.stem + '.*'))))
        gts.append(load_depth_png(depth_file))
        preds.append(predictor.predict(rgb).inv_depth_m)
    ratio = float(np.median(evaluate_depths(gts, preds, garg_crop=False, max_depth=80.0).scales))
    return ratio * predictor.metres_per_unit


def calibrate_and_install(checkpoint: Path, target: Path, layout: Layout = DEFAULT_LAYOUT,
                          teacher: str = '') -> float:
    """Step 3: metres per unit = median true depth / prediction over a training sequence
    (`metres_per_unit`); save the checkpoint with it."""
    from depth_ros.models import load_checkpoint

    unit = metres_per_unit(checkpoint, layout)
    ckpt = load_checkpoint(checkpoint)
    write_weights(ckpt, target, unit, teacher=teacher)
    print(f'wrote {target} ({target.stat().st_size / 1e6:.1f} MB), metres per unit {unit:.4f} '
          f'(the checkpoint said {ckpt.meta.metres_per_unit:.4f})')
    return unit


def write_weights(ckpt, target: Path, unit: float, name: str = 'default',
                  teacher: str = '') -> None:
    """Save a trained `Checkpoint` as float16 weights at `unit` metres per unit, with the notes
    a user reads (`name`: the packaged name they are shipped under; `teacher`: the teacher
    phase's teacher, '' when it did not run)."""
    from depth_ros.models import save_checkpoint

    meta = ckpt.meta
    sequences = ', '.join(meta.training_sequences)
    save_checkpoint(target, ckpt.depth_net, ckpt.pose_net, depth_arch=meta.depth_arch,
                    pose_arch=meta.pose_arch, height=meta.height, width=meta.width,
                    min_depth=meta.min_depth, max_depth=meta.max_depth,
                    metres_per_unit=unit, training_config=meta.training_config, half=True,
                    notes=f'depth_ros {name} weights ({meta.width}x{meta.height} input): trained '
                    'self-supervised on real video (KITTI, nuScenes: non-commercial licences) '
                    'and the synthetic world, depth-supervised where depth is known (the '
                    'synthetic world, KITTI LiDAR where a drive has it, corners triangulated by '
                    'the epipolar odometry in the other real videos'
                    + (f', then the full-resolution depth of {teacher} there' if teacher else '')
                    + '); metres calibrated on a synthetic training sequence'
                    + (f"; the last phase's sequences: {sequences}" if sequences else '')
                    + '; see MODEL_CARD.md')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--minutes', type=float, default=62.0, help='main phase budget')
    parser.add_argument('--fine-minutes', type=float, default=None,
                        help='fine phase budget (default: 0.4 x --minutes; 0: none)')
    parser.add_argument('--sup-minutes', type=float, default=None,
                        help='depth-supervised phase budget (default: 0.9 x --minutes; 0: none)')
    parser.add_argument('--pose-minutes', type=float, default=0.0,
                        help='experimental pose phase budget (default 0: off; its odometry '
                             'did not yet beat the shipped weights, see '
                             'docs/learning/real_world_recipe.md)')
    parser.add_argument('--teacher-minutes', type=float, default=0.0,
                        help='teacher phase budget (default 0: off)')
    parser.add_argument('--teacher', default=Phases.teacher_weights,
                        help='teacher weights (file or packaged name; default %(default)s)')
    parser.add_argument('--teacher-size', default=Phases.teacher_size, metavar='WxH',
                        type=lambda text: input_size_arg(text) and text,  # checked, kept as text
                        help="the teacher's network input size (default %(default)s)")
    parser.add_argument('--teacher-refinement', choices=DEPTH_REFINEMENTS, default='none',
                        help="'tracks': the teacher's depth corrected by corners triangulated "
                             "over a long baseline, as the node's depth_refinement does "
                             '(default %(default)s)')
    parser.add_argument('--merged-labels', nargs='+', default=[], metavar='SEQUENCE',
                        help='drives of the mix with LiDAR that the teacher phase labels with '
                             "the teacher's depth scaled to their LiDAR, the LiDAR written over "
                             'it, instead of the LiDAR alone (held out, such labels kept most of '
                             "LiDAR's gain: docs/learning/real_world_recipe.md, 'Session 28')")
    parser.add_argument('--start-from', type=Path, default=None,
                        help='weights to start the teacher phase from, skipping the phases '
                             'before it (e.g. depth_ros/weights/default.safetensors)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--checkpoint', type=Path, help='skip training: use this checkpoint')
    parser.add_argument('--install-default', action='store_true',
                        help=f'write the calibrated weights to {DEFAULT_WEIGHTS.relative_to(ROOT)}'
                             ' (else runs/train_real/calibrated.safetensors)')
    parser.add_argument('--out', type=Path, default=None,
                        help='real-world benchmark output folder (default: '
                             'WORK/train_real/real_world)')
    parser.add_argument('--work', type=Path, default=DEFAULT_LAYOUT.work,
                        help='folder for the data mix and the phase runs (default runs/)')
    parser.add_argument('--override', action='append', default=[], metavar='KEY=VALUE',
                        help='a training config override for every phase (repeatable), e.g. '
                             'data.height=192 --override data.width=640')
    parser.add_argument('--synth-size', default='416x128', metavar='WxH',
                        help='size the synthetic sequences are rendered at (default 416x128)')
    parser.add_argument('--synth-supersample', type=supersample_arg, default=DEFAULT_SUPERSAMPLE,
                        metavar='K', help='rays per pixel side of the synthetic sequences '
                        f'(default {DEFAULT_SUPERSAMPLE}; 1: one ray, the frames the shipped '
                        'weights were trained on)')
    parser.add_argument('--no-dev', action='store_true',
                        help='leave the dev drive out of the mix: no validation curve (a machine '
                             'without ../shared, given a mix packed by '
                             'benchmarks/pack_real_mix.py)')
    parser.add_argument('--no-benchmark', action='store_true',
                        help='skip step 4 (it needs ../shared: the dev drive, KITTI 06 and 01)')
    args = parser.parse_args(argv)
    try:
        height, width = parse_size(args.synth_size, '--synth-size')
    except ConfigError as exc:
        parser.error(str(exc))
    if any('=' not in o for o in args.override):
        parser.error('--override takes KEY=VALUE')
    if args.start_from is not None and args.teacher_minutes <= 0:
        parser.error('--start-from begins the teacher phase: give --teacher-minutes too')
    if args.merged_labels and args.teacher_minutes <= 0:
        parser.error('--merged-labels labels for the teacher phase: give --teacher-minutes too')
    without_lidar = sorted(set(args.merged_labels) & set(GEOMETRIC_SEQUENCES))
    if without_lidar:
        parser.error('--merged-labels: no LiDAR in ' + ', '.join(without_lidar))
    layout = Layout(args.work.resolve(), tuple(args.override), (width, height), not args.no_dev,
                    args.synth_supersample)
    prepare_data(layout)
    fine = 0.4 * args.minutes if args.fine_minutes is None else args.fine_minutes
    sup = 0.9 * args.minutes if args.sup_minutes is None else args.sup_minutes
    phases = Phases(args.minutes, fine, sup, args.pose_minutes, args.teacher_minutes,
                    args.teacher, args.teacher_size, args.start_from,
                    args.teacher_refinement, tuple(args.merged_labels))
    try:
        checkpoint = args.checkpoint or train_phases(phases, args.device, layout)
    except ConfigError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    target = (DEFAULT_WEIGHTS if args.install_default
              else layout.run() / 'calibrated.safetensors')
    target.parent.mkdir(parents=True, exist_ok=True)
    teacher = phases.teacher_label if args.teacher_minutes > 0 else ''
    calibrate_and_install(checkpoint, target, layout, teacher)
    benchmark = ROOT / 'benchmarks' / 'real_world.py'
    if benchmark.is_file() and not args.no_benchmark:
        out = args.out or layout.run() / 'real_world'
        run_command([sys.executable, str(benchmark), '--weights', str(target), '--out', str(out)])
    return 0


if __name__ == '__main__':
    sys.exit(main())
