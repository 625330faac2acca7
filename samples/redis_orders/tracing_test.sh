#!/usr/bin/env bash
# The sample with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set) against a real Redis and a real
# OpenTelemetry Collector: a request to `orders` becomes one trace in the collector, the
# `orders process` span (service redis_orders) parenting the `receipts create` span of the
# receipt it publishes, which parents the audit consumer's `receipts process`.
# usage: tracing_test.sh <redis_orders-binary> <source-dir>
set -euo pipefail
bin=$1
src=$2
run_dir=${BROOK_RUN_DIR:-/tmp/brook-run}
otel_port=${BROOK_OTEL_PORT:-4328}
collector_log=$run_dir/otel-$otel_port/collector.log
py=$(command -v python3)
if [ ! -f "$collector_log" ]; then
  [ "${BROOK_REQUIRE_INTEROP:-0}" = 1 ] && { echo "FAIL: no collector (services.sh start otel)"; exit 1; }
  echo "SKIP: no collector on $otel_port (scripts/services.sh start otel)"
  exit 0
fi
before=$(wc -l <"$collector_log")  # spans of earlier runs are not this run's
log=$(mktemp)
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$otel_port "$bin" run >"$log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "started" "$log" && break; sleep 0.05; done
id="o-trace-$$-$RANDOM"
reply=$("$bin" publish orders '{"id":"'"$id"'","items":[{"sku":"a","qty":1}],"prio":"express"}' --request --log-level warn)
[ "$reply" = '{"order_id":"'"$id"'","units":1}' ] || { cat "$log"; echo "FAIL: reply $reply"; exit 1; }
for _ in $(seq 100); do grep -q "audited $id" "$log" && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"  # the stop exports the queued spans
PYTHONPATH="$src/scripts/interop" "$py" - "$collector_log" "$before" <<'PY'
import sys, time
from otel_spans import spans

deadline = time.time() + 10
while True:
    mine = [s for s in spans(sys.argv[1], int(sys.argv[2])) if s["service"] == "redis_orders"]
    by_id = {s["ID"]: s for s in mine}
    chains = []
    for audit in (s for s in mine if s.get("Name") == "receipts process"):
        create = by_id.get(audit["Parent ID"])
        order = by_id.get(create["Parent ID"]) if create else None
        if create and create.get("Name") == "receipts create" and order and \
                order.get("Name") == "orders process" and \
                order["Trace ID"] == audit["Trace ID"] == create["Trace ID"]:
            chains.append(order["Trace ID"])
    if chains or time.time() > deadline:
        break
    time.sleep(0.2)
if not chains:
    sys.exit("FAIL: no trace chains orders process -> receipts create -> receipts process "
             f"among {len(mine)} redis_orders spans")
print(f"redis_orders tracing: {len(chains)} trace(s) orders process -> receipts create -> "
      "receipts process in the collector")
PY
