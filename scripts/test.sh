#!/usr/bin/env bash
# Starts Redis, NATS, Kafka and an OpenTelemetry Collector on 127.0.0.1 (scripts/services.sh), builds brook with
# warnings as errors and runs every test suite; then the
# unit, conformance and integration suites again under ASan+UBSan; then under
# TSan every suite that does not run CAF actors (the transport conformance
# suite of every driver, the Redis driver's own tests, codec, envelopes, commit
# tracker; librdkafka's C11 threads reach TSan through
# tests/support/tsan_c11_threads.cpp, tests/tsan.supp says what is ignored): Debian's
# libcaf_core is not instrumented, so TSan cannot see the happens-before of a
# CAF mailbox and reports every message hand-over as a race.
# usage: scripts/test.sh            (BROOK_SKIP_SANITIZERS=1 skips both sanitizer legs)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BROOK_BUILD_DIR:-build}
export BROOK_ASYNCAPI_REQUIRE_TOOLS=1 BROOK_REQUIRE_INTEROP=1
export BROOK_REDIS_URL=${BROOK_REDIS_URL:-redis://127.0.0.1:6390}
export BROOK_NATS_URL=${BROOK_NATS_URL:-nats://127.0.0.1:4232}
export BROOK_KAFKA_BOOTSTRAP=${BROOK_KAFKA_BOOTSTRAP:-127.0.0.1:9392}

# Real servers on 127.0.0.1 for the integration suites, and FastStream for interop.
scripts/services.sh start redis nats kafka otel
trap 'scripts/services.sh stop redis nats kafka otel >/dev/null 2>&1 || true' EXIT
scripts/interop/setup_venv.sh

cmake -S . -B "$build" -G Ninja -DBROOK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure --no-tests=error -j2

if [[ "${BROOK_SKIP_SANITIZERS:-0}" != 1 ]]; then
  san="$build-asan"
  cmake -S . -B "$san" -G Ninja -DBROOK_WERROR=ON -DBROOK_SANITIZERS=ON -DCMAKE_BUILD_TYPE=Debug \
        -DBROOK_BUILD_BENCH=OFF -DBROOK_ASYNCAPI_ASSETS="$PWD/$build/asyncapi-assets" \
        -DBROOK_ASYNCAPI_TOOLS="$PWD/$build/asyncapi-tools" >/dev/null
  cmake --build "$san" -j2
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$san" --output-on-failure --no-tests=error -L 'unit|conformance|integration' -j2

  tsan="$build-tsan"
  cmake -S . -B "$tsan" -G Ninja -DBROOK_WERROR=ON -DBROOK_TSAN=ON -DCMAKE_BUILD_TYPE=Debug \
        -DBROOK_BUILD_BENCH=OFF -DBROOK_ASYNCAPI_ASSETS="$PWD/$build/asyncapi-assets" \
        -DBROOK_ASYNCAPI_TOOLS="$PWD/$build/asyncapi-tools" >/dev/null
  cmake --build "$tsan" -j2 --target memory_conformance_test redis_conformance_test \
        redis_transport_test redis_reconnect_test redis_envelope_test codec_test commit_tracker_test \
        nats_conformance_test nats_url_test kafka_conformance_test envelope_pool_test
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
    ctest --test-dir "$tsan" --output-on-failure --no-tests=error -j2 -E 'ManyPublishesArePipelined' \
          -R '^(memory|redis|nats|kafka)/Transport(Conformance|Reconnect)|^RedisTransport|^RedisReconnect|^RedisOverflow|^RedisEnvelope|^Codec|^commit_tracker|^Nats(Url|Subjects)\.|^(headers|ids)\.|^envelope_pool\.'
fi
