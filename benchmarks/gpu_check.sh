#!/usr/bin/env bash
# The GPU check in one command on a CUDA machine (docs/BENCHMARKS.md, "GPU check"): installs
# any wheels carried in .whl/ into /tmp/site, then runs benchmarks/gpu_check.py with the given
# arguments (reports in $OUT, else runs/gpu_check). Exit status: gpu_check.py's.
set -uo pipefail
cd "$(dirname "$0")/.."
if compgen -G '.whl/*.whl' > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1
exec python3 benchmarks/gpu_check.py "$@"
