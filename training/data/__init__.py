"""Training data: frame tuples from image sequences with intrinsics, augmented and multi-scale.

Modules:
    sample: the `Sample` dataclass (one example or a batch) and its collate function.
    records: `FrameRecord`, the file-level description of one example.
    images: image and depth loading, cropping, resizing and the area-averaged pyramid.
    augmentation: colour jitter (one draw per tuple) and horizontal flip with intrinsics.
    static_filter: dropping examples whose neighbouring frames are nearly identical.
    kitti_raw, kitti_odometry, video_folder: records from each on-disk layout.
    intrinsics_file: YAML/JSON camera intrinsics for custom data.
    dataset: `FrameTupleDataset`, records -> samples.
    factory: `DataConfig` and `build_dataset`.
    rgbd: RGB-D sets with depth labels (NYU Depth v2 .mat, colour + depth folders).
"""
