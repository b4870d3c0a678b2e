"""Fixtures for training tests (helpers in toy_corridor.py: a uniquely named module, because
several conftest.py files in the test tree share the module name `conftest`)."""
from __future__ import annotations

from pathlib import Path

import pytest
from toy_corridor import write_toy_sequence


@pytest.fixture(scope='session')
def toy_odometry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A KITTI-odometry-layout root with sequence 00 (8 frames, 320x96, with depth_2)."""
    return write_toy_sequence(tmp_path_factory.mktemp('toy_odometry'))


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 frames -> 2 examples -> one batch of 2 per epoch: every step sees the same examples."""
    return write_toy_sequence(tmp_path_factory.mktemp('tiny'), frames=4, width=256, height=96)


@pytest.fixture
def logged_scalar_tags(monkeypatch: pytest.MonkeyPatch) -> set:
    """The names of every scalar the trainer logs from now on (TensorBoard files still
    written, not read back)."""
    from training import trainer

    tags: set = set()

    class RecordingMonitor(trainer.Monitor):
        def scalars(self, values, step):
            tags.update(values)
            super().scalars(values, step)

    monkeypatch.setattr(trainer, 'Monitor', RecordingMonitor)
    return tags
