"""Load trajectories from any supported source and pair up the frames of two of them.

Sources: KITTI pose files (12 or 13 columns), TUM files (8 columns) and rosbag2 topics written
`BAG:TOPIC`. The bag reader (and with it `rosbags`) is imported only when a bag is asked for.

Every loaded trajectory with stamps or frame indices is put in their order: out-of-order
entries are sorted (warned), an entry repeating a stamp or index with the same pose is dropped
(warned and counted), one repeating it with a different pose is refused. Pairs are then found
once, by `match_stamps` (or by index), and come back in time order.
"""
from __future__ import annotations

from dataclasses import replace
import logging
import os

import numpy as np

from depth_ros.errors import InputError
from depth_ros.evaluation.kitti import read_pose_file
from depth_ros.evaluation.trajectory import PoseSequence


LOG = logging.getLogger(__name__)


def sort_by_stamp(poses: np.ndarray, stamps: np.ndarray, source: str,
                  tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Poses in stamp order without repeated stamps.

    Args:
        poses: [N, 4, 4].
        stamps: [N] stamps (or frame indices) in any order.
        source: where they come from, for messages.
        tol: largest element difference of two poses counted as the same.

    Returns:
        (poses, stamps, number of dropped repeats, whether the order changed).

    Raises:
        InputError: a stamp repeats with a different pose (which one is true cannot be told).
    """
    order = np.argsort(stamps, kind='stable')
    reordered = bool(np.any(order != np.arange(len(order))))
    poses, stamps = poses[order], stamps[order]
    repeat = np.flatnonzero(np.diff(stamps) == 0) + 1
    for i in repeat:
        if not np.allclose(poses[i], poses[i - 1], atol=tol, rtol=0):
            raise InputError(f'{source}: stamp {stamps[i]} appears twice with different poses; '
                             'remove one of them')
    if reordered:
        LOG.warning('%s: stamps are not in order; sorted them', source)
    if len(repeat):
        LOG.warning('%s: %d repeated stamp(s) with identical poses dropped', source, len(repeat))
    keep = np.setdiff1d(np.arange(len(stamps)), repeat)
    return poses[keep], stamps[keep], int(len(repeat)), reordered


def in_order(sequence: PoseSequence) -> PoseSequence:
    """`sequence` sorted by its stamps (or frame indices) without repeats (`sort_by_stamp`)."""
    key = sequence.stamps_s if sequence.stamps_s is not None else sequence.frame_ids
    if key is None:
        return sequence
    poses, key, duplicates, reordered = sort_by_stamp(sequence.world_from_cam, key,
                                                      sequence.source)
    field_name = 'stamps_s' if sequence.stamps_s is not None else 'frame_ids'
    return replace(sequence, world_from_cam=poses, **{field_name: key},
                   duplicates=duplicates, reordered=reordered)


def load_trajectory(spec: str | os.PathLike) -> PoseSequence:
    """Read a trajectory from a KITTI/TUM pose file or a `BAG:TOPIC` rosbag2 topic.

    An existing file is always read as a pose file; otherwise a spec of the form `BAG:/topic`
    is read from the bag.

    Raises:
        InputError: the source is missing or malformed.
    """
    spec = str(spec)
    if not os.path.isfile(spec):
        from depth_ros.evaluation import bag_io

        bag_topic = bag_io.split_bag_topic(spec)
        if bag_topic is not None:
            return in_order(bag_io.read_bag_poses(*bag_topic))
    return in_order(read_pose_file(spec))


def match_stamps(stamps_a: np.ndarray, stamps_b: np.ndarray,
                 max_diff_s: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one nearest-timestamp matching within `max_diff_s`.

    Each stamp of `a` takes the nearest stamp of `b`; a `b` stamp claimed by several keeps the
    closest. Pairs come back in the order of `a`.

    Returns:
        (indices into a, indices into b), equal lengths.
    """
    a = np.asarray(stamps_a, dtype=np.float64)
    b = np.asarray(stamps_b, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(b, kind='stable')
    sorted_b = b[order]
    after = np.searchsorted(sorted_b, a)
    left = np.clip(after - 1, 0, len(b) - 1)
    right = np.clip(after, 0, len(b) - 1)
    nearest = np.where(np.abs(a - sorted_b[left]) <= np.abs(sorted_b[right] - a), left, right)
    diff = np.abs(a - sorted_b[nearest])
    candidates = np.flatnonzero(diff <= max_diff_s)
    # A b stamp claimed twice goes to the closest a: sort by distance, keep first claims.
    by_distance = candidates[np.argsort(diff[candidates], kind='stable')]
    _, first_claim = np.unique(nearest[by_distance], return_index=True)
    index_a = np.sort(by_distance[first_claim])
    return index_a, order[nearest[index_a]]


def associate(gt: PoseSequence, pred: PoseSequence,
              max_time_diff_s: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Poses of the frames both trajectories have, as two [M, 4, 4] arrays.

    Frames are paired by timestamp when both have stamps (TUM files, bags), by frame index when
    both are 13-column KITTI files, and by position in the file otherwise, in which case the
    lengths must agree.

    Raises:
        InputError: lengths differ without stamps, or fewer than two frames match.
    """
    if gt.stamps_s is not None and pred.stamps_s is not None:
        index_gt, index_pred = match_stamps(gt.stamps_s, pred.stamps_s, max_time_diff_s)
        how = f'timestamps within {max_time_diff_s} s'
    elif gt.frame_ids is not None and pred.frame_ids is not None:
        _, index_gt, index_pred = np.intersect1d(gt.frame_ids, pred.frame_ids,
                                                 return_indices=True)
        how = 'frame index'
    else:
        if len(gt) != len(pred):
            raise InputError(f'ground truth {gt.source} has {len(gt)} poses but prediction '
                             f'{pred.source} has {len(pred)}; give trajectories of the same '
                             'frames, or timestamps (TUM/bag) for both')
        return gt.world_from_cam, pred.world_from_cam
    if len(index_gt) < 2:
        raise InputError(f'only {len(index_gt)} frames of {gt.source} and {pred.source} match by '
                         f'{how}; check that both cover the same time span')
    LOG.info('matched %d of %d ground-truth and %d predicted poses by %s', len(index_gt),
             len(gt), len(pred), how)
    return gt.world_from_cam[index_gt], pred.world_from_cam[index_pred]
