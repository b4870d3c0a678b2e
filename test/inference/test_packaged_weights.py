"""The weights shipped inside the package, chosen by name ('default', 'real_640x192',
'synthetic')."""
from __future__ import annotations

import numpy as np
import pytest

from depth_ros.errors import WeightsError
from depth_ros.inference import Predictor
from depth_ros.inference.predictor import default_weights_path
from depth_ros.models.checkpoint import read_meta


SYNTHETIC_SEQUENCES = {'00', '01', '02', '03', '04', '05'}  # what depth-ros synth wrote


def test_synthetic_weights_saw_only_the_synthetic_world():
    path = default_weights_path('synthetic')
    if path is None:
        pytest.skip('this build ships no synthetic weights')
    data = read_meta(path).training_config['data']
    # Licence-relevant: trained on the package's own rendered sequences, nothing real.
    assert data['path'] == 'runs/synth_train'
    assert set(data['sequences']) <= SYNTHETIC_SEQUENCES


def test_real_640x192_weights_never_saw_the_dev_drive():
    path = default_weights_path('real_640x192')
    if path is None:
        pytest.skip('this build ships no real_640x192 weights')
    meta = read_meta(path)
    assert (meta.width, meta.height) == (640, 192)
    data = meta.training_config['data']
    # Its dev-drive figures are held out: the GPU run had no dev drive, not even for validation.
    assert (data['width'], data['height']) == (640, 192)
    assert not any('dev' in s for s in data['sequences']) and not data['val_sequences']
    assert path.stat().st_size <= 20e6  # the size limit


@pytest.mark.parametrize('name', ['synthetic', 'real_640x192'])
def test_weights_by_name_load_the_packaged_file(name):
    path = default_weights_path(name)
    if path is None:
        pytest.skip(f'this build ships no {name} weights')
    by_name = Predictor.from_checkpoint(name)
    by_path = Predictor.from_checkpoint(path)
    image = np.random.default_rng(0).integers(0, 255, (96, 320, 3), np.uint8)
    np.testing.assert_array_equal(by_name.predict(image).depth_m, by_path.predict(image).depth_m)


def test_unknown_packaged_name_is_a_file_path(tmp_path):
    with pytest.raises(WeightsError):
        Predictor.from_checkpoint(str(tmp_path / 'nonexistent.safetensors'))
