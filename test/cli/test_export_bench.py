"""`depth-ros export` and `depth-ros bench`: the documented flows, JSON contents, FLOP counts
against an independent count, and one-line errors."""
import json
from pathlib import Path
import sys

import pytest
import torch
from torch import nn

from depth_ros.bench import depth_net_gflops, measure, parameter_count, runner
from depth_ros.bench.timing import compare
from depth_ros.bench.variants import select_variants
from depth_ros.cli import main
from depth_ros.errors import BackendError, ConfigError
from depth_ros.export import read_graph_info
from depth_ros.models import build_depth_net


@pytest.fixture(scope='module')
def weights(tiny_checkpoint):
    return tiny_checkpoint


def _one_line_error(capsys, fragment):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'Traceback' not in err[0], err
    assert fragment in err[0], err[0]


def test_export_writes_verified_graphs(weights, tmp_path, capsys):
    assert main(['export', '--weights', str(weights), '--out', str(tmp_path),
                 '--dynamic-batch', '--opset', '18']) == 0
    out = capsys.readouterr().out
    base = tmp_path / f'{weights.stem}.64x192.fp32'
    depth, pose = Path(f'{base}.depth.onnx'), Path(f'{base}.pose.onnx')
    assert str(depth) in out and str(pose) in out and out.count('max diff to torch') == 2
    info = read_graph_info(depth)
    assert info.dynamic_batch and info.meta.height == 64


def test_export_errors_are_one_line(weights, tmp_path, capsys, monkeypatch):
    assert main(['export', '--weights', str(weights), '--height', '70']) == 2
    _one_line_error(capsys, 'multiples of 32')
    assert main(['export', '--weights', str(tmp_path / 'missing.safetensors')]) == 2
    _one_line_error(capsys, 'not found')
    monkeypatch.setitem(sys.modules, 'tensorrt', None)
    assert main(['export', '--weights', str(weights), '--format', 'tensorrt']) == 2
    _one_line_error(capsys, 'TensorRT is not installed')
    assert not list(tmp_path.iterdir())


def test_bench_table_and_json(tmp_path, capsys):
    out = tmp_path / 'bench.json'
    # No --batch: the CPU default, batch 1 and 2.
    assert main(['bench', '--archs', 'resnet18', '--sizes', '64x192', '--device', 'cpu',
                 '--reps', '2', '--min-reps', '1', '--warmup', '1',
                 '--budget', '0.01', '--json', str(out)]) == 0
    table = capsys.readouterr().out
    report = json.loads(out.read_text())
    rows = report['rows']
    assert {r['backend'] for r in rows} == {'torch', 'onnxruntime'}
    assert sorted((r['backend'], r['mode'], r['batch']) for r in rows) == sorted(
        (b, m, n) for b in ('torch', 'onnxruntime')
        for m, n in (('network', 1), ('network', 2), ('end_to_end', 1)))
    for r in rows:
        assert not r['error'] and r['median_ms'] > 0 and 1 <= r['reps'] <= 2
        assert r['fps'] == pytest.approx(1e3 * r['batch'] / r['median_ms'])
        assert r['params_m'] == pytest.approx(14.329236)
    assert report['machine']['cpus_available'] >= 1 and report['machine']['cpu']
    assert report['config']['batches'] == [1, 2]
    assert 'resnet18' in table and 'end_to_end' in table and 'median ms' in table


def test_bench_argument_errors_are_one_line(capsys):
    assert main(['bench', '--archs', 'resnet99', '--device', 'cpu']) == 2
    _one_line_error(capsys, "unknown architecture(s) ['resnet99']")
    assert main(['bench', '--sizes', '64by192']) == 2
    _one_line_error(capsys, 'not HxW')
    assert main(['bench', '--batch', '0']) == 2
    _one_line_error(capsys, 'positive integer')
    assert main(['bench', '--device', 'cpu', '--backends', 'tensorrt']) == 2
    _one_line_error(capsys, "unknown backend(s) ['tensorrt'] on cpu")


def _conv_linear_gflops(net: nn.Module, height: int, width: int) -> float:
    """Independent count: forward hooks, 2 x MACs of every Conv2d and Linear."""
    macs = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs.append(output.numel() * module.in_channels // module.groups * k)
        elif isinstance(module, nn.Linear):
            macs.append(output.numel() * module.in_features)

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    with torch.no_grad():
        net(torch.rand(1, 3, height, width))
    for h in handles:
        h.remove()
    return 2 * sum(macs) / 1e9


@pytest.mark.parametrize('arch', ['resnet18', 'resnet50'])
def test_gflops_match_a_hook_count(arch):
    net = build_depth_net(arch).eval()
    assert depth_net_gflops(arch, 64, 192) == pytest.approx(_conv_linear_gflops(net, 64, 192),
                                                            rel=1e-9)
    # Convolution cost grows with the pixel count.
    assert depth_net_gflops(arch, 128, 384) == pytest.approx(4 * depth_net_gflops(arch, 64, 192))
    assert parameter_count(net) == sum(p.numel() for p in net.parameters())


def test_measure_counts_and_orders_timings():
    calls = []
    timing = measure(lambda: calls.append(1), torch.device('cpu'), warmup=2, reps=5, min_reps=2,
                     budget_s=10.0)
    assert timing.reps == 5 and len(calls) == 7
    assert timing.min_ms <= timing.median_ms <= timing.p90_ms


def test_cpu_variants():
    labels = [v.label for v in select_variants(torch.device('cpu'))]
    assert labels == ['torch', 'onnxruntime']
    with pytest.raises(ConfigError):
        select_variants(torch.device('cpu'), ('torch-fp16-cl',))


def test_compare_interleaves_and_counts():
    order = []
    timings = compare({'a': lambda: order.append('a'), 'b': lambda: order.append('b')},
                      torch.device('cpu'), rounds=2, reps=3, warmup=1)
    assert order == ['a', 'b'] + ['a'] * 3 + ['b'] * 3 + ['a'] * 3 + ['b'] * 3
    assert {n: t.reps for n, t in timings.items()} == {'a': 6, 'b': 6}


def test_failing_backend_gives_error_rows_not_a_crash(monkeypatch, capsys, tmp_path):
    def broken(*args, **kwargs):
        raise BackendError('simulated failure')

    monkeypatch.setattr(runner, 'make_backend', broken)
    out = tmp_path / 'b.json'
    assert main(['bench', '--archs', 'resnet18', '--sizes', '64x192', '--device', 'cpu',
                 '--backends', 'onnxruntime', '--batch', '1', '--json', str(out)]) == 0
    assert 'failed: BackendError: simulated failure' in capsys.readouterr().out
    (row,) = json.loads(out.read_text())['rows']
    assert row['median_ms'] is None and row['error'] == 'BackendError: simulated failure'
