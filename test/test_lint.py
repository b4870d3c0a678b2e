"""Lint configured like ament_flake8 (99 columns, single quotes, import order), via ruff."""
from pathlib import Path
import shutil
import subprocess
import sys

import pytest


ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    ruff = shutil.which('ruff') or str(Path(sys.executable).with_name('ruff'))
    if not Path(ruff).exists():
        pytest.fail('ruff is not installed; install the dev extra (pip install -e .[dev])')
    proc = subprocess.run([ruff, 'check', '--no-cache', '.'], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
