"""The benchmark's outputs: a fixed-width table for the terminal and a JSON file."""
from __future__ import annotations

import json
import os
from pathlib import Path

from depth_ros.bench.runner import BenchReport
from depth_ros.errors import OutputError


_COLUMNS = (('arch', 'arch', '{}'), ('backend', 'backend', '{}'), ('mode', 'mode', '{}'),
            ('size', None, '{}'), ('batch', 'batch', '{}'), ('params M', 'params_m', '{:.1f}'),
            ('GFLOPs', 'gflops', '{:.1f}'), ('median ms', 'median_ms', '{:.1f}'),
            ('p90 ms', 'p90_ms', '{:.1f}'), ('FPS', 'fps', '{:.1f}'), ('reps', 'reps', '{}'))
_TEXT_COLUMNS = 4  # arch, backend, mode, size: left-aligned; numbers right-aligned


def format_table(report: BenchReport) -> str:
    """One line per measurement; failed ones show their error in place of the timings."""
    header = [name for name, _, _ in _COLUMNS]
    lines = [_cells(row) for row in report.rows]
    widths = [max(len(c[i]) for c in [header, *lines] if i < len(c))
              for i in range(len(header))]
    rendered = []
    for row, cells in zip([None, *report.rows], [header, *lines]):
        text = ' '.join(c.ljust(widths[i]) if i < _TEXT_COLUMNS else c.rjust(widths[i])
                        for i, c in enumerate(cells))
        rendered.append(text + (f' failed: {row.error}' if row is not None and row.error else ''))
    machine = report.machine
    title = (f"{machine.get('gpu') or machine['cpu']} ({machine['cpus_available']} CPUs), "
             f"torch {machine['torch']}, GFLOPs = 2 x GMACs per image")
    return '\n'.join([title, *rendered])


def _cells(row) -> list[str]:
    cells = []
    for _, key, fmt in _COLUMNS:
        value = f'{row.height}x{row.width}' if key is None else getattr(row, key)
        cells.append('-' if value is None else fmt.format(value))
    # A failed row keeps the columns up to GFLOPs; the error follows the table's columns.
    return cells[:7] if row.error else cells


def write_json(report: BenchReport, path: str | os.PathLike) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report.to_dict(), indent=2) + '\n', encoding='utf-8')
    except OSError as exc:
        raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from None
    return path
