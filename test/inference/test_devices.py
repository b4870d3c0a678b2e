"""The one device check: accepted forms, refused forms, and a missing CUDA as an error that is
both a configuration error (config files) and a backend error (inference calls)."""
import pytest
import torch

from depth_ros.errors import BackendError, ConfigError, DeviceUnavailableError
from depth_ros.inference.devices import resolve_device, validate_device


@pytest.mark.parametrize('name', ['cpu', 'cuda', 'cuda:0', 'cuda:12'])
def test_accepted_forms(name):
    assert validate_device(name, require_available=False) == name


@pytest.mark.parametrize('name', ['gpu', 'cuda:', 'cuda:x', 'CPU', 'mps', '', 'cuda:0 ', 'cuda\n'])
def test_refused_forms(name):
    with pytest.raises(ConfigError, match='device must be cpu, cuda or cuda:N'):
        validate_device(name, require_available=False)


def test_resolve_gives_a_torch_device():
    assert resolve_device('cpu') == torch.device('cpu')
    assert resolve_device(torch.device('cpu')) == torch.device('cpu')


@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has CUDA')
def test_missing_cuda_is_both_a_config_and_a_backend_error():
    with pytest.raises(DeviceUnavailableError, match='CUDA is not available') as exc:
        validate_device('cuda:1')
    assert isinstance(exc.value, ConfigError) and isinstance(exc.value, BackendError)
    assert validate_device('cuda:1', require_available=False) == 'cuda:1'
