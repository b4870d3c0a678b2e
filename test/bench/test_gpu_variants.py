"""What `depth-ros bench` measures on a GPU (decided without one), and warm-up that does not
let a slow first call (autotuning, graph capture, compilation) cut the timed repetitions."""
import time

import torch

from depth_ros.bench.timing import measure
from depth_ros.bench.variants import candidate_variants, select_variants


def test_gpu_variants_cover_every_precision_eager_and_graphs():
    variants = {v.label: v for v in candidate_variants(torch.device('cuda'))}
    for precision in ('fp32', 'fp16', 'bf16'):
        label = 'torch' if precision == 'fp32' else f'torch-{precision}-cl'
        eager, graphs = variants[label], variants[f'{label}-graphs']
        assert eager.options.get('precision', 'fp32') == precision
        assert graphs.options == {**eager.options, 'cuda_graphs': True}
        assert eager.default and graphs.default
    compiled = [v for v in variants.values() if 'compile' in v.options]
    assert {v.label for v in compiled} == {'torch-fp16-cl-compile',
                                           'torch-fp16-cl-compile-graphs'}
    assert not any(v.default for v in compiled)


def test_compile_variants_run_only_when_named():
    cpu = torch.device('cpu')
    assert 'torch-compile' not in [v.label for v in select_variants(cpu)]
    named = select_variants(cpu, ('torch-compile',))
    assert [(v.label, v.options) for v in named] == [('torch-compile', {'compile': 'inductor'})]


def test_slow_first_call_does_not_cut_the_repetitions():
    calls = []

    def first_call_slow():
        if not calls:
            time.sleep(0.3)  # e.g. compilation, far beyond the budget
        calls.append(1)

    timing = measure(first_call_slow, torch.device('cpu'), warmup=2, reps=5, min_reps=1,
                     budget_s=0.2)
    assert timing.reps == 5 and len(calls) == 7
    assert timing.median_ms < 100
