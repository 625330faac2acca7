#!/usr/bin/env bash
# One trace across Python FastStream and brook, both ways, on a real Redis and a real
# OpenTelemetry Collector: FastStream (its RedisTelemetryMiddleware, OTLP/HTTP exporter)
# publishes to a list, a brook service (tracing_worker) answers on another, FastStream consumes
# the answer. The collector's log must hold, per message, one trace whose spans chain
#   faststream `there create` -> brook `there process` -> brook `back create` -> brook
#   `back publish`, and brook `back create` -> faststream `back process`,
# with the baggage FastStream sent coming back on brook's answer.
# usage: tracing_test.sh <tracing_worker-binary> <source-dir>
set -euo pipefail
bin=$1
src=$2
run_dir=${BROOK_RUN_DIR:-/tmp/brook-run}
py=$run_dir/venv/bin/python
otel_port=${BROOK_OTEL_PORT:-4328}
collector_log=$run_dir/otel-$otel_port/collector.log
export BROOK_REDIS_URL=${BROOK_REDIS_URL:-redis://127.0.0.1:6390}
export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:$otel_port/v1/traces
export BROOK_INTEROP_PREFIX="brook-test:otel:$$:$RANDOM"
http_port=${BROOK_TEST_TRACING_HTTP_PORT:-18383}
total=5
log=$(mktemp)
out=$(mktemp)
skip_or_fail() {
  if [ "${BROOK_REQUIRE_INTEROP:-0}" = 1 ]; then
    echo "FAIL: $*"
    exit 1
  fi
  echo "SKIP: $*"
  exit 0
}
[ -x "$py" ] || skip_or_fail "no interop venv at $run_dir/venv (scripts/interop/setup_venv.sh)"
[ -f "$collector_log" ] || skip_or_fail "no collector on $otel_port (scripts/services.sh start otel)"
cleanup() {
  [ -n "${worker:-}" ] && kill -KILL "$worker" 2>/dev/null || true
  rm -f "$log" "$out"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- brook log"; cat "$log"; exit 1; }

"$bin" run --http-port "$http_port" --http-host 127.0.0.1 >"$log" 2>&1 &
worker=$!
ready=""
for _ in $(seq 200); do
  ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/ready" || true)
  [ "$ready" = 200 ] && break
  sleep 0.05
done
[ "$ready" = 200 ] || fail "the brook service never became ready"

"$py" "$src/scripts/interop/faststream_otel.py" "$total" >"$out" 2>/dev/null ||
  fail "the FastStream peer failed"
kill -TERM "$worker"  # its stop exports the spans still queued
wait "$worker" || fail "the brook service exited with $?"
worker=""

PYTHONPATH="$src/scripts/interop" "$py" - "$collector_log" "$out" "$BROOK_INTEROP_PREFIX" "$total" <<'PY'
import json, sys, time
from otel_spans import spans

log_path, out_path, prefix, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
answers = json.loads(open(out_path).read().strip().splitlines()[-1])["answers"]
if len(answers) != total:
    sys.exit(f"FAIL: FastStream got {len(answers)} answers of {total}")

def find(all_spans, trace, service, name):
    found = [s for s in all_spans
             if s.get("Trace ID") == trace and s["service"] == service and s.get("Name") == name]
    return found[0] if len(found) == 1 else None

deadline = time.time() + 15
while True:
    all_spans = spans(log_path)
    missing = []
    for a in answers:
        t = a["trace_id"]
        for svc, name in [("faststream-peer", "there create"), ("brook-peer", "there process"),
                          ("brook-peer", "back create"), ("brook-peer", "back publish"),
                          ("faststream-peer", "back process")]:
            if not find(all_spans, t, svc, f"{prefix}.{name}"):
                missing.append(f"{svc} {name} in {t}")
    if not missing or time.time() > deadline:
        break
    time.sleep(0.2)
if missing:
    sys.exit("FAIL: the collector has no (single) span for: " + "; ".join(missing[:6]))

for a in answers:
    t = a["trace_id"]
    py_create = find(all_spans, t, "faststream-peer", f"{prefix}.there create")
    process = find(all_spans, t, "brook-peer", f"{prefix}.there process")
    back_create = find(all_spans, t, "brook-peer", f"{prefix}.back create")
    back_publish = find(all_spans, t, "brook-peer", f"{prefix}.back publish")
    py_process = find(all_spans, t, "faststream-peer", f"{prefix}.back process")
    checks = [
        (process["Parent ID"] == py_create["ID"], "brook's process is FastStream's create's child"),
        (process["Kind"] == "Consumer", "process is a consumer span"),
        (process["attrs"].get("messaging.system") == "redis", "messaging.system"),
        (process["attrs"].get("messaging.destination_publish.name") == f"{prefix}.there",
         "messaging.destination_publish.name"),
        (process["attrs"].get("messaging.operation") == "process", "messaging.operation"),
        (back_create["Parent ID"] == process["ID"], "the answer is the delivery's child"),
        (back_publish["Parent ID"] == back_create["ID"], "publish is create's child"),
        (py_process["Parent ID"] == back_create["ID"], "FastStream's process is brook's create's child"),
        (a["traceparent"] == f"00-{t}-{back_create['ID']}-01", "the answer's traceparent"),
        (a["baggage"] == "peer=py,n=" + a["body"].split()[0][1:], "baggage came back"),
    ]
    for ok, what in checks:
        if not ok:
            sys.exit(f"FAIL: {what} (trace {t}): {json.dumps([process, back_create, py_process])}")
print(f"tracing: {total} traces cross FastStream -> brook -> FastStream, 5 spans each chained, "
      "baggage carried back")
PY
