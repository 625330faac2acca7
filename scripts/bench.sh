#!/usr/bin/env bash
# Builds (Release) and runs a broker's benchmarks; prints one JSON line per case.
# usage: scripts/bench.sh memory [N]
set -euo pipefail
cd "$(dirname "$0")/.."
broker=${1:-memory}
n=${2:-200000}
build=${BROOK_BENCH_DIR:-build-bench}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBROOK_BUILD_TESTS=OFF \
      -DBROOK_BUILD_SAMPLES=OFF >/dev/null
case "$broker" in
  memory)
    cmake --build "$build" --target memory_bench >/dev/null
    "$build/bench/memory_bench" "$n" ;;
  *) echo "bench.sh: unknown broker '$broker' (have: memory)" >&2; exit 2 ;;
esac
