"""Latency, throughput, parameter count and GFLOPs of the depth networks on every backend.

Attributes resolve lazily, so `depth_ros.bench.config` imports without torch.
"""
from depth_ros.lazy import lazy_exports


_EXPORTS = {
    'BenchConfig': 'config', 'depth_net_gflops': 'flops', 'parameter_count': 'flops',
    'format_table': 'report', 'write_json': 'report', 'BenchReport': 'runner',
    'BenchRow': 'runner', 'run_benchmark': 'runner', 'Timing': 'timing', 'measure': 'timing',
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
