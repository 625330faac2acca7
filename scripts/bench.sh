#!/usr/bin/env bash
# Builds (Release) and runs a broker's benchmarks; prints one JSON line per case and run,
# then one summary line per case with the medians (and, for brokers, brook/raw).
# usage: scripts/bench.sh memory|redis|nats|kafka [N]      environment: ROUNDS (default 5)
#   redis: starts redis-server on 127.0.0.1 (scripts/services.sh) and runs, in one
#   invocation, the raw hiredis baseline and brook on the same workload, alternating
#   raw and brook ROUNDS times so both see the same machine (a 2-vCPU VM's speed drifts).
#   nats: the same with nats-server (-js), the raw nats.c baseline and Python FastStream
#   (bench/faststream_nats.py, from the interop venv) on the same workloads.
#   kafka: the same with Kafka in KRaft mode, the raw librdkafka baseline (with
#   FastStream's headers, and "raw_bare" without) and Python FastStream
#   (bench/faststream_kafka.py).
set -euo pipefail
cd "$(dirname "$0")/.."
broker=${1:-memory}
n=${2:-200000}
rounds=${ROUNDS:-5}
build=${BROOK_BENCH_DIR:-build-bench}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBROOK_BUILD_TESTS=OFF \
      -DBROOK_BUILD_SAMPLES=OFF >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
case "$broker" in
  memory)
    cmake --build "$build" --target memory_bench >/dev/null
    for ((r = 0; r < rounds; r++)); do
      "$build/bench/memory_bench" "$n" | tee -a "$out"
      # The same with Prometheus metrics on (impl "brook_metrics"): telemetry's cost.
      BROOK_BENCH_METRICS=1 "$build/bench/memory_bench" "$n" | tee -a "$out"
      # ... and with metrics and tracing on (impl "brook_traced").
      BROOK_BENCH_TRACING=1 "$build/bench/memory_bench" "$n" | tee -a "$out"
    done ;;
  redis)
    cmake --build "$build" --target redis_raw redis_bench >/dev/null
    scripts/services.sh start redis >/dev/null
    export BROOK_REDIS_URL=${BROOK_REDIS_URL:-redis://127.0.0.1:6390} N=$n NPING=${NPING:-20000}
    for ((r = 0; r < rounds; r++)); do
      for bench in throughput pingpong; do
        "$build/bench/redis_raw" "$bench" | tee -a "$out"
        "$build/bench/redis_bench" "$bench" | tee -a "$out"
        BROOK_BENCH_METRICS=1 "$build/bench/redis_bench" "$bench" | tee -a "$out"
        BROOK_BENCH_TRACING=1 "$build/bench/redis_bench" "$bench" | tee -a "$out"
      done
      "$build/bench/redis_bench" pingpong_await | tee -a "$out"
    done ;;
  nats)
    cmake --build "$build" --target nats_raw nats_bench >/dev/null
    scripts/services.sh start nats >/dev/null
    export BROOK_NATS_URL=${BROOK_NATS_URL:-nats://127.0.0.1:4232} N=$n NPING=${NPING:-20000} \
           NJS=${NJS:-50000}
    # Python FastStream on the same server in the same run (fewer messages: it is slower).
    scripts/interop/setup_venv.sh >/dev/null
    py=${BROOK_RUN_DIR:-/tmp/brook-run}/venv/bin/python
    declare -A fs_n=([throughput]=${FS_N:-20000} [pingpong]=${FS_NPING:-5000}
                     [js_throughput]=${FS_NJS:-5000})
    for ((r = 0; r < rounds; r++)); do
      for bench in throughput pingpong js_throughput; do
        "$build/bench/nats_raw" "$bench" | tee -a "$out"
        "$build/bench/nats_bench" "$bench" | tee -a "$out"
        if [[ $bench == pingpong ]]; then
          # The raw client with FastStream's headers (impl "raw_headers"), and brook writing
          # each publish at once as the raw client does (settings::send_asap, "brook_asap").
          HEADERS=1 "$build/bench/nats_raw" "$bench" | tee -a "$out"
          ASAP=1 "$build/bench/nats_bench" "$bench" | tee -a "$out"
          # The latency profile: also idle scheduler threads polling longer before they sleep
          # (run_options::idle_polls, "brook_asap_polling").
          ASAP=1 IDLE_POLLS=100000 "$build/bench/nats_bench" "$bench" | tee -a "$out"
        fi
        "$py" bench/faststream_nats.py "$bench" --n "${fs_n[$bench]}" --url "$BROOK_NATS_URL" |
          tee -a "$out"
      done
    done ;;
  kafka)
    cmake --build "$build" --target kafka_raw kafka_bench >/dev/null
    scripts/services.sh start kafka >/dev/null
    export BROOK_KAFKA_BOOTSTRAP=${BROOK_KAFKA_BOOTSTRAP:-127.0.0.1:9392} N=${2:-100000} \
           NPING=${NPING:-2000}
    scripts/interop/setup_venv.sh >/dev/null
    py=${BROOK_RUN_DIR:-/tmp/brook-run}/venv/bin/python
    declare -A fs_n=([throughput]=${FS_N:-20000} [pingpong]=${FS_NPING:-1000})
    for ((r = 0; r < rounds; r++)); do
      for bench in throughput pingpong; do
        "$build/bench/kafka_raw" "$bench" | tee -a "$out"
        # The same records without FastStream's two headers (impl "raw_bare").
        RAW_BARE=1 "$build/bench/kafka_raw" "$bench" | tee -a "$out"
        "$build/bench/kafka_bench" "$bench" | tee -a "$out"
        "$py" bench/faststream_kafka.py "$bench" --n "${fs_n[$bench]}" \
          --bootstrap "$BROOK_KAFKA_BOOTSTRAP" | tee -a "$out"
      done
    done ;;
  *) echo "bench.sh: unknown broker '$broker' (have: memory, redis, nats, kafka)" >&2; exit 2 ;;
esac
python3 scripts/bench_summary.py < "$out"
