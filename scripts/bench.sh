#!/usr/bin/env bash
# Builds (Release) and runs a broker's benchmarks; prints one JSON line per case.
# usage: scripts/bench.sh memory|redis [N]
#   redis: starts redis-server on 127.0.0.1 (scripts/services.sh) and runs, in one
#   invocation, the raw hiredis baseline and brook on the same workload.
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
  redis)
    cmake --build "$build" --target redis_raw redis_bench >/dev/null
    scripts/services.sh start redis >/dev/null
    export BROOK_REDIS_URL=${BROOK_REDIS_URL:-redis://127.0.0.1:6390} N=$n NPING=${NPING:-20000}
    "$build/bench/redis_raw" throughput
    "$build/bench/redis_bench" throughput
    "$build/bench/redis_raw" pingpong
    "$build/bench/redis_bench" pingpong ;;
  *) echo "bench.sh: unknown broker '$broker' (have: memory, redis)" >&2; exit 2 ;;
esac
