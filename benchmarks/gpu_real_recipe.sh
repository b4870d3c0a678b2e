#!/usr/bin/env bash
# The real-world recipe on the lent GPU machine, at two resolutions side by side on one GPU
# (docs/learning/real_world_recipe.md, "Session 12"). Here first, once:
#   python benchmarks/pack_real_mix.py --out runs/gpu_mix        # 29 MiB; carry runs/gpu_mix
# There:  bash benchmarks/gpu_real_recipe.sh [MINUTES [DEVICE [BENCH_S]]]
# MINUTES (default 5.5) is split over the three phases as in the CPU recipe (62 : 24 : 55);
# the runs of SIZES (default "640x192 416x128": 416x128 as `default`, 640x192 with the synthetic
# world rendered at 640x192, as `real_640x192`) train at once, each with 6 loader processes
# (SIZES=640x192 gives that run the GPU alone). Their calibrated weights (float16), logs and
# phase checkpoints' names go to $OUT (else runs/gpu_real); then, with BENCH_S > 0 (default
# 40), gpu_check.py's inference benchmark for that many seconds. Evaluate the weights where
# ../shared is: python benchmarks/real_world.py --weights OUT/w640x192.safetensors
set -uo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-5.5}
DEVICE=${2:-cuda}
BENCH_S=${3:-40}
OUT=${OUT:-runs/gpu_real}
SIZES=${SIZES:-640x192 416x128}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=4
[ -d runs/gpu_mix/sequences ] || { echo 'runs/gpu_mix missing: pack and carry it' >&2; exit 2; }
read -r MAIN FINE SUP < <(python3 -c 'import sys; m = float(sys.argv[1])
print(*(round(m * s / 141, 2) for s in (62, 24, 55)))' "$MINUTES") || exit 2
echo "phases: $MAIN + $FINE + $SUP minutes on $DEVICE"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null
start=$SECONDS
pids=()
for size in $SIZES; do
  work=runs/gpu_$size
  mkdir -p "$work/real_mix"
  cp -r runs/gpu_mix/sequences "$work/real_mix/"
  (python3 benchmarks/train_real.py --device "$DEVICE" --work "$work" --synth-size "$size" \
     --override "data.width=${size%x*}" --override "data.height=${size#*x}" \
     --override num_workers=6 --no-dev --no-benchmark \
     --minutes "$MAIN" --fine-minutes "$FINE" --sup-minutes "$SUP" > "$OUT/log_$size.txt" 2>&1
   code=$?
   echo "exit $code" >> "$OUT/log_$size.txt"
   [ "$code" -eq 0 ] && cp "$work/train_real/calibrated.safetensors" "$OUT/w$size.safetensors") &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
echo "training took $((SECONDS - start)) s"
for size in $SIZES; do
  echo "== $size"; tail -n 4 "$OUT/log_$size.txt"
  ls runs/gpu_$size/train_real*/checkpoints/ 2>/dev/null | tr '\n' ' '; echo
  grep -a -h 'done:' runs/gpu_$size/train_real*/*.log "$OUT/log_$size.txt" 2>/dev/null | tail -n 3
done
if [ "$BENCH_S" -gt 0 ]; then
  python3 benchmarks/gpu_check.py --steps bench --total "$BENCH_S" --device "$DEVICE" --out "$OUT"
fi
ls -la "$OUT"
exit "$status"
