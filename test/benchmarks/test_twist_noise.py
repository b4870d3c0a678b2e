"""benchmarks/twist_noise.py on a real drive: the published twist covariance is not
overconfident about the epipolar odometry's real errors."""
from pathlib import Path
import sys

import pytest


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))
ODOMETRY_06 = ROOT.parent / 'shared' / 'data' / 'kitti_odometry' / 'sequences' / '06'

import twist_noise as benchmark  # noqa: E402


@pytest.mark.skipif(not ODOMETRY_06.is_dir(), reason='needs ../shared (KITTI odometry 06)')
def test_the_model_is_not_overconfident_on_a_real_drive():
    """KITTI 06 with the default weights, both metres: each frame's six errors lie within 2
    sigma at least as often as a calibrated Gaussian's (0.95^6 = 0.74), and the mean
    normalised squared error is at most a calibrated model's."""
    pytest.importorskip('cv2')
    torch = pytest.importorskip('torch')
    from depth_ros.inference import Predictor
    torch.set_num_threads(1)
    frames = benchmark.ev.load_set('odometry_06', Predictor.from_checkpoint())
    for metres in benchmark.MODES:
        scores = benchmark.frame_errors(frames, metres)
        assert scores['frames'] == 50
        assert scores['within_2_sigma'] >= 0.74 and scores['nees_over_6'] <= 1.0, metres
