"""The still-camera test of benchmarks/real_world.py: the motion each odometry reports for
identical frames and for consecutive real frames of a camera standing still (issue 12's
deliverable 4: under 2 cm and 0.1 degree a frame)."""
from __future__ import annotations

from pathlib import Path
import sys

import numpy as np


sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from real_world_report import STATIC_TARGETS, STILL_MAX_GREY_DIFF, relative, spread  # noqa: E402

from depth_ros.evaluation.kitti_devkit import rotation_angle  # noqa: E402
from depth_ros.inference.image_io import read_image  # noqa: E402
from depth_ros.pipeline.epipolar import EpipolarOdometry, grey_image  # noqa: E402


STILL_SETS = {'sfnd_still': 'data/real/train/kitti_raw_0926_sfnd/sequences/0926_sfnd',
              'euroc_still': 'data/real/train/euroc_v101_kimera/sequences/euroc_v101'}


def _motion(predictor, a, b) -> tuple[float, float]:
    """(translation m at the weights' scale, rotation deg) the network predicts from a to b."""
    return _size(predictor.relative_pose(a, b))


def _epipolar_motion(a: np.ndarray, b: np.ndarray, depth_a: np.ndarray, depth_b: np.ndarray,
                     intr) -> tuple[float, float]:
    """The same for the epipolar odometry (the network's depth of both frames given; the
    identity when it measures nothing)."""
    odometry = EpipolarOdometry()
    odometry.step(grey_image(a), depth_a, intr)
    pose = odometry.step(grey_image(b), depth_b, intr).previous_from_current
    return _size(np.eye(4) if pose is None else pose)


def _intrinsics(folder: Path, image: np.ndarray):
    from depth_ros.evaluation.kitti_to_bag import load_kitti_sequence
    from depth_ros.geometry.intrinsics import kitti_intrinsics

    seq = load_kitti_sequence(folder)
    return kitti_intrinsics(seq.calib_path, seq.camera, image.shape[1], image.shape[0])


def _size(pose: np.ndarray) -> tuple[float, float]:
    return float(np.linalg.norm(pose[:3, 3])), float(np.degrees(rotation_angle(pose)))


def _still_pairs(folder: Path, count: int) -> tuple[list[tuple[Path, Path]], list[float]]:
    """Consecutive frames at the still-camera noise floor, `count` of them spread evenly."""
    from depth_ros.evaluation.kitti_to_bag import load_kitti_sequence

    paths = load_kitti_sequence(folder).image_paths
    grey = [read_image(p).astype(np.float32) for p in paths]
    grey = [g.mean(axis=2) if g.ndim == 3 else g for g in grey]
    diffs = np.array([np.abs(grey[i + 1] - grey[i]).mean() for i in range(len(grey) - 1)])
    still = np.flatnonzero(diffs < STILL_MAX_GREY_DIFF)
    chosen = still[sorted(spread(len(still), count))] if len(still) else still
    return [(paths[i], paths[i + 1]) for i in chosen], [float(diffs[i]) for i in chosen]


def _motion_summary(motions: list[tuple[float, float]], extra: dict) -> dict:
    t = np.array([m[0] for m in motions])
    r = np.array([m[1] for m in motions])
    if not len(t):
        return {'pairs': 0, **extra}
    return {'pairs': int(len(t)), 'translation_m_median': float(np.median(t)),
            'translation_m_max': float(t.max()), 'rotation_deg_median': float(np.median(r)),
            'rotation_deg_max': float(r.max()),
            'meets_targets': bool(t.max() < STATIC_TARGETS['translation_m']
                                  and r.max() < STATIC_TARGETS['rotation_deg']), **extra}


def static_pair_test(predictor, identical: dict[str, list], shared: Path, count: int) -> dict:
    """Identical pairs of each evaluated set (`identical`: name -> (prepared, image, depth,
    intrinsics) of a few frames) and `count` still consecutive pairs of real video."""
    out = {'targets': STATIC_TARGETS}
    for name, frames in identical.items():
        same = {'what': 'each frame paired with itself'}
        if predictor.has_pose:
            out[f'identical_{name}'] = _motion_summary(
                [_motion(predictor, f[0], f[0]) for f in frames], same)
        out[f'epipolar_identical_{name}'] = _motion_summary(
            [_epipolar_motion(f[1], f[1], f[2], f[2], f[3]) for f in frames], same)
    for name, rel in STILL_SETS.items():
        folder = shared / rel
        if not folder.is_dir():
            continue
        pairs, diffs = _still_pairs(folder, count)
        images = [(read_image(a), read_image(b)) for a, b in pairs]
        intr = _intrinsics(folder, images[0][0]) if images else None
        extra = {'what': f'consecutive frames with mean grey difference < {STILL_MAX_GREY_DIFF} '
                         '(camera standing still; TRAINING frames of the real train split)',
                 'folder': relative(folder, shared), 'frames': [p[0].stem for p in pairs],
                 'grey_diff': diffs}
        if predictor.has_pose:
            out[name] = _motion_summary([_motion(predictor, a, b) for a, b in images], extra)
        out[f'epipolar_{name}'] = _motion_summary(
            [_epipolar_motion(a, b, predictor.predict(a).depth_m, predictor.predict(b).depth_m,
                              intr) for a, b in images], extra)
    return out
