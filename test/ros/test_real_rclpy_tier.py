"""The real-ROS tiers run in the isolated ROS 2 Jazzy env, or a loud skip.

Two tiers, each in its own pytest process (their rclpy contexts differ): test/ros/real_rclpy
(the node in-process, discovery off) and test/ros/real_tools (the real launch and launch_testing
libraries, real tf2, and DDS between processes inside the run's own network namespace).

The tier needs CPython 3.12 with the unofficial ROS 2 Jazzy wheels, which must never enter the
main environment. This test builds that env with `bash test/ros/rclpy_env.sh` when it is missing
(about 5 minutes and 3 GB of pinned, hashed wheels the first time; DEPTH_ROS_ROS_VENV chooses
where it lives), then runs the tier in it. If the env cannot be built the test skips with a reason
starting 'SKIPPED: real-rclpy tier'; DEPTH_ROS_REQUIRE_ROS_TIER=1 turns that into a failure and
DEPTH_ROS_SKIP_ROS_TIER=1 skips on purpose.
"""
import importlib.util
import os
from pathlib import Path
import re
import subprocess

import pytest


ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'test' / 'ros' / 'rclpy_env.sh'
# Tests each tier holds; fewer passing means some were skipped or not collected.
TIERS = {'real_rclpy': 27, 'real_tools': 9}
TIMEOUT_S = 900
BUILD_TIMEOUT_S = 1800


def _skip_or_fail(reason: str) -> None:
    if os.environ.get('DEPTH_ROS_REQUIRE_ROS_TIER') == '1':
        pytest.fail(f'{reason} (DEPTH_ROS_REQUIRE_ROS_TIER=1)')
    pytest.skip(f'SKIPPED: real-rclpy tier: {reason}')


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.parametrize('tier', sorted(TIERS))
def test_real_rclpy_tier(capsys, tier):
    if importlib.util.find_spec('rclpy') is not None:
        pytest.skip('running inside an rclpy environment: real_rclpy/ is collected directly')
    if os.environ.get('DEPTH_ROS_SKIP_ROS_TIER') == '1':
        _skip_or_fail('DEPTH_ROS_SKIP_ROS_TIER=1 is set')
    _ensure_env()
    proc = subprocess.run(
        ['bash', str(SCRIPT), '--run', f'test/ros/{tier}', '-v', '-rP'],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
    output = proc.stdout + proc.stderr
    summary = output.strip().splitlines()[-1] if output.strip() else ''
    with capsys.disabled():  # the CI log shows what the node received and published
        print('\n' + '\n'.join(f'{tier} tier | {line}' for line in _evidence(output)))
    assert proc.returncode == 0, _failures(output)
    passed = re.search(r'(\d+) passed', summary)
    assert passed and int(passed.group(1)) >= TIERS[tier], _failures(output)
    assert 'skipped' not in summary and 'failed' not in summary, summary


def _ensure_env() -> None:
    """Build the isolated env unless it is already built and current."""
    if subprocess.run(['bash', str(SCRIPT), '--check'], cwd=ROOT).returncode == 0:
        return
    try:
        proc = subprocess.run(['bash', str(SCRIPT)], cwd=ROOT, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _skip_or_fail(f'building the isolated env took over {BUILD_TIMEOUT_S} s')
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stdout + proc.stderr).strip().splitlines()
                 if ln.strip() and not ln.startswith('WARNING: Location')]  # pip's index noise
        own = [ln for ln in lines if ln.startswith('rclpy_env')]  # the script's own reason first
        tail = ' | '.join((own or lines)[-3:])
        _skip_or_fail(f'the isolated env could not be built: {tail}')


def _evidence(output: str) -> list[str]:
    """The tier's own report lines: messages received/published, drops, the summary."""
    lines = [ln for ln in output.splitlines() if ln.strip()]
    pattern = r'PASSED|received|published|processed|dropped|paired|rate|latency|passed'
    keep = [ln for ln in lines if re.search(pattern, ln)]
    # pytest's "FAILED path::test - reason" lines name what failed, however long the log.
    failed = [ln for ln in lines if re.match(r'(FAILED|ERROR) ', ln)]
    return failed + (keep[-60:] or lines[-5:])


def _failures(output: str) -> str:
    """The tier's failure reports (pytest's FAILURES section onwards), else the log's tail."""
    start = output.find('= FAILURES =')
    start = output.rfind('\n', 0, start) + 1 if start >= 0 else max(0, len(output) - 6000)
    return output[start:start + 8000]
