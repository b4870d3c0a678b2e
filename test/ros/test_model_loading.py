"""What the node says it loaded (`depth_ros.ros.model_loading`): the diagnostics values and the
log line, for a constructed model whose backend, network input and pose network are known."""
from dataclasses import dataclass

import pytest

from depth_ros.ros.diagnostics import DiagnosticsState
from depth_ros.ros.model_loading import loaded_message, record_loaded
from depth_ros.ros.params import NodeConfig


@dataclass
class LoadedModel:
    """The `Predictor` attributes the report reads."""

    backend_name: str = 'onnxruntime'
    input_size: tuple[int, int] = (96, 256)  # height, width
    has_pose: bool = False


def test_the_diagnostics_name_the_backend_the_device_and_the_input_as_width_x_height():
    state = DiagnosticsState()
    record_loaded(state, LoadedModel(), NodeConfig(device='cuda:1'))
    assert (state.backend, state.device, state.configured) == ('onnxruntime', 'cuda:1', True)
    assert state.extra == {'network input (WxH)': '256x96'}


def test_the_log_line_says_what_runs_where():
    model = LoadedModel(backend_name='torch', input_size=(192, 640), has_pose=True)
    config = NodeConfig(device='cuda', precision='fp16', cuda_graphs=True,
                        odometry_source='posenet')
    assert loaded_message(model, config) == (
        'model loaded (torch on cuda, fp16, CUDA graphs, network input 640x192, '
        'odometry posenet)')


@pytest.mark.parametrize('values, has_pose, odometry', [
    ({'odometry_source': 'epipolar', 'motion_model': 'free'}, False, 'epipolar (free)'),
    ({'odometry_source': 'posenet'}, True, 'posenet'),
    ({'odometry_source': 'posenet'}, False, 'off'),  # no pose network: no motion to publish
    ({'odometry_source': 'epipolar', 'publish_odometry': False}, True, 'off'),
])
def test_the_log_line_names_the_odometry_source_only_when_odometry_is_published(
        values, has_pose, odometry):
    message = loaded_message(LoadedModel(has_pose=has_pose), NodeConfig(**values))
    assert message == ('model loaded (onnxruntime on cpu, fp32, network input 256x96, '
                       f'odometry {odometry})')
