"""Training monitor: JSON-lines scalars always, TensorBoard events when it is installed."""
import builtins
import json
import logging

import pytest
import torch

from training.monitor import Monitor


def test_writes_scalars_and_images(tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monitor = Monitor(tmp_path)
    assert monitor.enabled
    monitor.scalars({'loss/total': 0.5}, 3)
    monitor.sigmoids('sigmoid', torch.rand(2, 1, 8, 16), 3)
    monitor.images('target', torch.rand(2, 3, 8, 16), 3)
    monitor.close()
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [s.value for s in events.Scalars('loss/total')] == [0.5]
    assert {'sigmoid', 'target'} <= set(events.Tags()['images'])


def test_without_tensorboard_logs_once_and_does_nothing(tmp_path, monkeypatch, caplog):
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith('torch.utils.tensorboard'):
            raise ImportError('No module named tensorboard')
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, '__import__', no_tensorboard)
    with caplog.at_level(logging.INFO, logger='training.monitor'):
        monitor = Monitor(tmp_path / 'tb', tmp_path / 'scalars.jsonl')
    assert not monitor.enabled
    assert any('TensorBoard logging disabled' in r.getMessage() for r in caplog.records)
    monitor.scalars({'x': 1.0}, 1)
    monitor.scalars({'x': 0.25, 'loss/y': torch.tensor(2.0)}, 2)
    monitor.sigmoids('d', torch.rand(1, 1, 4, 4), 1)
    monitor.close()
    assert not (tmp_path / 'tb').exists()
    lines = (tmp_path / 'scalars.jsonl').read_text(encoding='utf-8').splitlines()
    assert [json.loads(line) for line in lines] == [{'step': 1, 'x': 1.0},
                                                    {'step': 2, 'x': 0.25, 'loss/y': 2.0}]
