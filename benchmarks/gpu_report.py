"""The markdown report of benchmarks/gpu_check.py: machine and command, steps, the speed goals
of issue 16 against what was measured, inference and training tables."""
from __future__ import annotations


# Issue 16's goals (H200, fp16, batch 1, 192x640, CUDA graphs) and FA-Depth's published RTX 4090
# figures (batch 1) the measured ones are compared with.
GOAL_VARIANT = 'torch-fp16-cl-graphs'
NETWORK_GOALS = {'resnet18': (1000.0, 212.0), 'smalldepth': (2000.0, 557.0)}
END_TO_END_GOAL_MS = 3.0
TRAIN_GOAL_STEPS_PER_S = 15.0
TRAIN_GOAL_DATA_SHARE = 0.10


def goals(results: dict) -> list[dict]:
    """One entry per speed goal: what was measured (None if it was not) and whether it holds."""
    rows = results.get('steps', {}).get('bench', {}).get('rows', [])

    def row(arch: str, mode: str) -> dict | None:
        for r in rows:
            if (r['arch'], r['mode'], r['backend'], r['height'], r['width'], r['batch']) == (
                    arch, mode, GOAL_VARIANT, 192, 640, 1) and r['fps']:
                return r
        return None

    out = []
    for arch, (target, fa_depth) in NETWORK_GOALS.items():
        r = row(arch, 'network')
        fps = r['fps'] if r else None
        out.append({'goal': f'{arch} depth network >= {target:.0f} FPS', 'measured': fps,
                    'holds': None if fps is None else fps >= target,
                    'ratio_to_fa_depth': None if fps is None else fps / fa_depth})
        r = row(arch, 'end_to_end')
        ms = r['median_ms'] if r else None
        out.append({'goal': f'{arch} Predictor.predict 375x1242 <= {END_TO_END_GOAL_MS} ms',
                    'measured': ms, 'holds': None if ms is None else ms <= END_TO_END_GOAL_MS})
    train = results.get('steps', {}).get('train_monodepth2', {})
    recipe = train.get('recipe', {})
    full = (recipe.get('height'), recipe.get('width'), recipe.get('batch')) == (192, 640, 12)
    steps = train.get('steps_per_s') if full else None
    share = train.get('data_share') if full else None
    out.append({'goal': f'Monodepth2 recipe >= {TRAIN_GOAL_STEPS_PER_S:.0f} steps/s',
                'measured': steps, 'holds': None if steps is None
                else steps >= TRAIN_GOAL_STEPS_PER_S})
    out.append({'goal': f'data loading <= {TRAIN_GOAL_DATA_SHARE:.0%} of the step',
                'measured': share, 'holds': None if share is None
                else share <= TRAIN_GOAL_DATA_SHARE})
    return out


def markdown(results: dict) -> str:
    machine = results['machine']
    lines = ['# GPU check', '',
             f"{'DRY RUN (toy sizes; figures are not comparable). ' if results['dry_run'] else ''}"
             f"Started {results['started_utc']}, {results['wall_s']:.0f} s wall.", '',
             f"- command: `{results['command']}`",
             f"- machine: {machine.get('gpu') or machine.get('cpu')}, "
             f"{machine.get('cpus_available')} CPUs, {machine.get('platform')}",
             f"- torch {machine.get('torch')}, CUDA {machine.get('cuda')}, "
             f"cuDNN {machine.get('cudnn')}, driver {machine.get('driver')}, "
             f"python {machine.get('python')}, commit {machine.get('commit')}", '',
             '## Steps', '', '| step | status | s | notes |', '|---|---|---|---|']
    for name, step in results['steps'].items():
        notes = '; '.join(step.get('notes', []))
        lines.append(f"| {name} | {step['status']} | {step.get('wall_s', 0):.0f} | {notes} |")
    lines += ['', '## Speed goals', '', '| goal | measured | holds | x FA-Depth (RTX 4090) |',
              '|---|---|---|---|']
    for g in goals(results):
        ratio = g.get('ratio_to_fa_depth')
        lines.append(f"| {g['goal']} | {_num(g['measured'])} | "
                     f"{'-' if g['holds'] is None else ('yes' if g['holds'] else 'no')} | "
                     f"{'-' if ratio is None else f'{ratio:.2f}'} |")
    lines += _tests(results['steps'].get('tests', {}))
    for name in ('bench', 'compile'):
        lines += _bench(name, results['steps'].get(name, {}))
    lines += _training(results['steps'])
    return '\n'.join(lines) + '\n'


def _num(value) -> str:
    if value is None:
        return 'not measured'
    return f'{value:.3g}' if abs(value) < 1 else f'{value:.1f}'


def _tests(step: dict) -> list[str]:
    counts = ', '.join(f'{n} {k}' for k, n in sorted(step.get('counts', {}).items()))
    failed = ', '.join(step.get('failed', [])) or 'none'
    return ['', '## CUDA tests', '', f'{counts or "no results"}; failed: {failed}']


def _bench(name: str, step: dict) -> list[str]:
    """Network rows: FPS per variant; end-to-end rows: median ms per variant."""
    rows = step.get('rows', [])
    if not rows:
        return []
    variants = step['variants']
    out = ['', f'## {name}: FPS (network) and median ms (end to end, 375x1242)', '',
           '| arch | mode | size | batch | ' + ' | '.join(variants) + ' |',
           '|---|---|---|---|' + '---|' * len(variants)]
    keys = []
    for r in rows:
        key = (r['arch'], r['mode'], f"{r['height']}x{r['width']}", r['batch'])
        if key not in keys:
            keys.append(key)
    for key in keys:
        cells = []
        for v in variants:
            match = [r for r in rows if (r['arch'], r['mode'], f"{r['height']}x{r['width']}",
                                         r['batch']) == key and r['backend'] == v]
            cells.append(_cell(match[0] if match else None))
        out.append(f'| {key[0]} | {key[1]} | {key[2]} | {key[3]} | ' + ' | '.join(cells) + ' |')
    return out


def _cell(row: dict | None) -> str:
    if row is None:
        return '-'
    if row['error']:
        return 'failed'
    return f"{row['fps']:.0f}" if row['mode'] == 'network' else f"{row['median_ms']:.2f} ms"


def _training(steps: dict) -> list[str]:
    out = ['', '## Training throughput (mixed precision)', '',
           '| recipe | archs | size | batch | steps/s | images/s | data ms | compute ms | '
           'data share | timed steps |', '|---|---|---|---|---|---|---|---|---|---|']
    for name in ('train_monodepth2', 'train_default'):
        t = steps.get(name, {})
        r = t.get('recipe')
        if not r or 'steps_per_s' not in t:
            out.append(f'| {name} | {t.get("status", "not run")} | | | | | | | | |')
            continue
        out.append(f"| {r['name']} | {r['depth_arch']} + {r['pose_arch']} | "
                   f"{r['height']}x{r['width']} | {r['batch']} | {t['steps_per_s']:.2f} | "
                   f"{t['images_per_s']:.1f} | {t['data_ms']:.1f} | {t['compute_ms']:.1f} | "
                   f"{t['data_share']:.1%} | {t['timed_steps']} |")
    real = steps.get('train_real')
    if real:
        out += ['', f"Real-world recipe: {real['status']}; "
                    f"{'; '.join(real.get('notes', []))}; weights: {real.get('weights')}"]
    return out
