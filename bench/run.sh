#!/usr/bin/env bash
# bench/run.sh NAME...: installs the benchmark tools when needed, then runs bench/NAME.ts for each
# NAME (floor, overhead, peers, kafka, slow, sink; `all` = floor, overhead (peers included), kafka, slow, sink),
# then regenerates the report. The first benchmark waits up to BENCH_MAX_LOAD_WAIT_MS (default 15
# minutes) for the 1-minute load average to fall below BENCH_MAX_LOAD (1.5); later ones do not wait
# (their own load would keep the average up), and every result records the load at start and end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error
bash bench/setup.sh
names=("$@")
[ "${names[0]:-}" = all ] && names=(floor overhead kafka slow sink)
wait_ms="${BENCH_MAX_LOAD_WAIT_MS:-900000}"
for name in "${names[@]}"; do
  echo "[bench] ===== $name ====="
  BENCH_MAX_LOAD_WAIT_MS="$wait_ms" node --import tsx "bench/$name.ts"
  wait_ms=0
done
node --import tsx bench/report.ts
