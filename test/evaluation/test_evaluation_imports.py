"""The evaluation layer stays numpy-only: no torch, ROS, matplotlib, or rosbags on import."""
from __future__ import annotations

import subprocess
import sys


NUMPY_ONLY = ('alignment', 'depth_metrics', 'kitti', 'kitti_devkit', 'report', 'trajectory',
              'trajectory_io')


def test_metric_modules_import_no_heavy_dependency():
    imports = '; '.join(f'import depth_ros.evaluation.{name}' for name in NUMPY_ONLY)
    check = ("import sys; bad = [m for m in ('torch', 'rclpy', 'matplotlib', 'rosbags', 'cv2') "
             "if m in sys.modules]; print(','.join(bad))")
    done = subprocess.run([sys.executable, '-c', f'{imports}; {check}'], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ''
