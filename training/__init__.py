"""Offline self-supervised training of depth_ros networks (Monodepth2's recipe).

Lives beside the runtime package and is never imported by it: the runtime consumes the
checkpoints written here. Entry point:

    python -m training.train --config FILE [--override key=value ...]

Subpackages and modules:
    data/: datasets (KITTI raw, KITTI odometry / depth_ros.synth, video folders), augmentation,
        static-frame filtering, the `Sample` dataclass.
    losses/: SSIM, photometric error, minimum reprojection with auto-masking, smoothness, and
        the combined self-supervised loss.
    view_synthesis: warping a source image into the target view with depth, pose and K.
    step: one forward pass (depth, poses, loss) with Monodepth2's pose convention.
    config: frozen dataclass configuration, YAML overrides and validation
        (dataclass_mapping: the strict mapping <-> dataclass conversion behind it).
    trainer: the loop; checkpointing: checkpoints + resumable state; monitor: TensorBoard;
        evaluation: depth metrics on validation data; seeding: reproducibility.
    train: the command line.
"""
