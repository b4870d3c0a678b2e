"""benchmarks/scale_gate.py replays recorded frames through the node's own filter and gate:
constructed drives with a known outcome (a flat road of exact factor, a queue of weak
disagreeing planes), and the script end to end on a few synthetic frames."""
import json
from pathlib import Path
import sys
from types import SimpleNamespace

import numpy as np
import pytest


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'benchmarks'))

import scale_gate as sg  # noqa: E402


def road(n: int, factor: float = 2.0) -> list[dict]:
    """Frames showing a clean road: full plane support, the true factor."""
    return [{'factor': factor, 'plane': SimpleNamespace(inlier_ratio=1.0, tilt_deg=1.0),
             'truth': factor} for _ in range(n)]


def queue(n: int, truth: float = 2.0, tilt: float = 1.0) -> list[dict]:
    """Frames whose plane is the cars ahead: weak support, factors 1.4x or 1.8x the truth."""
    return [{'factor': truth * (1.4 if i % 2 else 1.8),
             'plane': SimpleNamespace(inlier_ratio=0.3, tilt_deg=tilt), 'truth': truth}
            for i in range(n)]


def test_a_clean_road_is_trusted_from_the_fifth_frame_with_no_error():
    r = sg.replay_starts(road(30), 0.4)
    assert r['untrusted_after_settling'] == 0.0
    assert r['worst_applied_error'] == pytest.approx(0.0, abs=1e-12)
    assert r['highest_confidence'] == pytest.approx(1.0)
    assert r['lowest_settled_confidence'] == pytest.approx(1.0)  # from the fifth frame on
    # The filter's count term: frames / 5, so 0.4 is reached on the second frame.
    applied = sg.replay(road(3), 0.4)
    assert [a.from_ground for a in applied] == [False, True, True]


def test_a_queue_is_never_applied_with_the_gate_and_always_without():
    gated = sg.replay_starts(queue(30), 0.4)
    assert gated['untrusted_after_settling'] == 1.0
    assert gated['worst_applied_error'] == pytest.approx(0.5)  # `scale` 1.0 against 2.0
    ungated = sg.replay_starts(queue(30), 0.0)
    assert ungated['untrusted_after_settling'] == 0.0
    assert ungated['worst_applied_error'] == pytest.approx(0.8)  # the 1.8x planes
    assert gated['highest_confidence'] < 0.4


def test_strongly_tilted_queue_planes_are_left_out():
    # Support 0.9 and one factor: trusted when level, never when tilted past TILT_ZERO_DEG.
    level = [{**row, 'factor': 2.8, 'plane': SimpleNamespace(inlier_ratio=0.9, tilt_deg=1.0)}
             for row in queue(30)]
    tilted = [{**row, 'plane': SimpleNamespace(inlier_ratio=0.9, tilt_deg=14.0)} for row in level]
    assert sg.replay_starts(level, 0.4)['untrusted_after_settling'] == 0.0
    gated = sg.replay_starts(tilted, 0.0)
    assert gated['highest_confidence'] == 0.0 and gated['untrusted_after_settling'] == 1.0


def test_after_open_road_the_queue_keeps_the_roads_factor():
    r = sg.road_then_queue(road(30), queue(30), 0.4)
    assert (r['median'], r['max']) == (pytest.approx(1.0), pytest.approx(1.0))
    ungated = sg.road_then_queue(road(30), queue(30), 0.0)
    assert ungated['max'] > 1.3  # the cars' planes take over the window


def with_gaps(rows: list[dict], start: float = 14.0, end: float = 2.5) -> list[dict]:
    return [{**row, 'gap_m': gap} for row, gap in zip(rows, np.linspace(start, end, len(rows)))]


def test_a_synthetic_queue_is_reported_by_gap():
    rows = with_gaps(queue(40))
    alone = sg.synthetic_queue([], rows, 0.4)
    assert set(alone) == {'alone'}
    bins = alone['alone']
    assert [b['gap_m'] for b in bins] == [list(g) for g in sg.GAP_BINS_M]
    assert sum(b['frames'] for b in bins) == 40  # the bins cover 14 m to 2.5 m
    assert all(b['trusted'] == 0 for b in bins)  # weak planes never trusted
    assert all(b['applied_error_max'] == pytest.approx(0.5) for b in bins)  # `scale` 1.0 vs 2.0
    assert all(b['fit_error_median'] == pytest.approx(0.6) for b in bins)  # 1.4x and 1.8x
    after = sg.synthetic_queue(road(30), rows, 0.4)['after_road']
    assert all(b['applied_error_max'] == pytest.approx(0.0, abs=1e-12) for b in after)
    ungated = sg.synthetic_queue(road(30), rows, 0.0)['after_road']
    assert max(b['applied_error_max'] for b in ungated) > 0.3


def test_the_script_writes_its_tables_and_picture(tmp_path):
    pytest.importorskip('matplotlib')
    out = tmp_path / 'gate'
    assert sg.main(['--sets', 'seed_5', 'synthqueue_5', '--frames', '6', '--out',
                    str(out)]) == 0
    results = json.loads((out / 'scale_gate.json').read_text())
    assert set(results['thresholds']) == {f'{m:g}' for m in sg.THRESHOLDS}
    assert {'seed_5', 'synthqueue_5'} <= set(results['thresholds']['0.4'])
    queue_bins = results['synthetic_queues']['synthqueue_5']['0.4']
    assert set(queue_bins) == {'alone', 'after_road'}
    assert sum(b['frames'] for b in queue_bins['alone']) == 6
    assert (out / 'scale_gate.png').stat().st_size > 0
    assert '| 0.4 |' in (out / 'scale_gate.md').read_text()
