"""`DataConfig` and `build_dataset`: from configuration to a `FrameTupleDataset`.

Relative paths are taken from the current working directory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import logging
from pathlib import Path

from depth_ros.errors import ConfigError
from training.data.augmentation import AugmentationConfig
from training.data.dataset import FrameTupleDataset
from training.data.images import CROP_MODES
from training.data.kitti_odometry import kitti_odometry_records
from training.data.kitti_raw import kitti_raw_records
from training.data.records import FrameRecord, require_files
from training.data.static_filter import drop_static
from training.data.video_folder import video_folder_records


logger = logging.getLogger(__name__)

DATASET_KINDS = ('kitti_raw', 'kitti_odometry', 'video_folder')
SPLITS = ('train', 'val')


@dataclass(frozen=True)
class DataConfig:
    """Where the frames are and how examples are made from them.

    Attributes:
        kind: 'kitti_raw' (split files), 'kitti_odometry' (sequences or split files; also
            depth_ros.synth output) or 'video_folder' (frames + intrinsics file).
        path: dataset root (kitti_*) or frame folder (video_folder).
        split_file, val_split_file: Monodepth2 split files ("folder frame l|r"); required for
            kitti_raw training, optional for kitti_odometry.
        sequences, val_sequences: kitti_odometry sequence names such as '00' (when no split file).
        val_path: video_folder validation frame folder.
        camera: kitti_odometry camera without a split file (2 colour left, 0 grey left).
        image_ext: kitti_raw image extension ('png', or 'jpg' for Monodepth2's converted set).
        intrinsics_file: video_folder intrinsics (default: intrinsics.yaml/.yml/.json inside).
        height, width: network input size, multiples of 32.
        frame_offsets: target first, then the source frames, e.g. [0, -1, 1].
        crop: crop to the network aspect ratio before resizing: 'none', 'center' or 'bottom'.
        static_threshold: drop examples whose neighbour differs from the target by less than
            this mean absolute grey level (0..1); 0 keeps everything.
        augmentation: flip and colour jitter (training split only).
    """

    kind: str = 'kitti_raw'
    path: str = ''
    split_file: str = ''
    val_split_file: str = ''
    sequences: tuple[str, ...] = ()
    val_sequences: tuple[str, ...] = ()
    val_path: str = ''
    camera: int = 2
    image_ext: str = 'png'
    intrinsics_file: str = ''
    height: int = 192
    width: int = 640
    frame_offsets: tuple[int, ...] = (0, -1, 1)
    crop: str = 'none'
    static_threshold: float = 0.0
    augmentation: AugmentationConfig = field(default_factory=AugmentationConfig)

    def validate(self) -> None:
        """Raise ConfigError for values that cannot work (files are checked when building)."""
        if self.kind not in DATASET_KINDS:
            raise ConfigError(f'data.kind {self.kind!r} is unknown; use one of '
                              f'{", ".join(DATASET_KINDS)}')
        if not self.path:
            raise ConfigError('data.path is empty: set it to the dataset folder')
        if self.kind == 'kitti_raw' and not self.split_file:
            raise ConfigError('data.split_file is required for kind kitti_raw')
        if self.kind == 'kitti_odometry' and not (self.split_file or self.sequences):
            raise ConfigError('kind kitti_odometry needs data.sequences or data.split_file')
        if self.height <= 0 or self.width <= 0 or self.height % 32 or self.width % 32:
            raise ConfigError(f'data.height and data.width must be positive multiples of 32, '
                              f'got {self.height}x{self.width}')
        offsets = self.frame_offsets
        if len(offsets) < 2 or offsets[0] != 0 or len(set(offsets)) != len(offsets):
            raise ConfigError(f'data.frame_offsets must start with 0 and list at least one '
                              f'distinct source frame, got {list(offsets)}')
        if self.camera not in (0, 1, 2, 3):
            raise ConfigError(f'data.camera must be 0..3, got {self.camera}')
        if self.crop not in CROP_MODES:
            raise ConfigError(f'data.crop {self.crop!r} is unknown; use one of '
                              f'{", ".join(CROP_MODES)}')
        if not 0 <= self.static_threshold < 1:
            raise ConfigError(f'data.static_threshold must be in [0, 1), got '
                              f'{self.static_threshold}')
        self.augmentation.validate('data.augmentation')

    def has_validation(self) -> bool:
        return bool(self.val_split_file or self.val_sequences or self.val_path)


def _records(config: DataConfig, split: str) -> list[FrameRecord]:
    train = split == 'train'
    offsets = config.frame_offsets
    if config.kind == 'kitti_raw':
        split_file = config.split_file if train else config.val_split_file
        return kitti_raw_records(Path(config.path), Path(split_file), offsets, config.image_ext)
    if config.kind == 'kitti_odometry':
        split_file = config.split_file if train else config.val_split_file
        return kitti_odometry_records(
            Path(config.path), offsets, config.sequences if train else config.val_sequences,
            config.camera, Path(split_file) if split_file else None)
    folder = Path(config.path if train else config.val_path)
    return video_folder_records(folder, offsets, Path(config.intrinsics_file)
                                if config.intrinsics_file else None)


def build_dataset(config: DataConfig, split: str = 'train',
                  num_scales: int = 4) -> FrameTupleDataset | None:
    """The training or validation dataset (None for 'val' when none is configured).

    Training examples are augmented and static-filtered; validation examples are neither.
    Raises InputError when files are missing or malformed.
    """
    if split not in SPLITS:
        raise ConfigError(f'split must be one of {SPLITS}, got {split!r}')
    if split == 'val' and not config.has_validation():
        return None
    records = _records(config, split)
    require_files(records, f'{split} data ({config.kind} at {config.path})')
    if split == 'train':
        records = drop_static(records, config.static_threshold)
    logger.info('%s data: %d examples (%s at %s)', split, len(records), config.kind, config.path)
    return FrameTupleDataset(records, config.frame_offsets, config.height, config.width,
                             num_scales, config.crop,
                             config.augmentation if split == 'train' else None)
