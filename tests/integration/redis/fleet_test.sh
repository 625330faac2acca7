#!/usr/bin/env bash
# A supervised fleet on a real Redis: `run --workers 3` on one stream group, one worker
# SIGKILLed mid-stream. Every message is handled at least once, the worker comes back, the
# ledger holds (published = handled + still pending + counted drops), the parent's /metrics
# covers the whole fleet, and SIGTERM drains every worker with exit code 0.
# usage: fleet_test.sh <fleet_worker-binary>
set -euo pipefail
bin=$1
export BROOK_REDIS_URL=${BROOK_REDIS_URL:-redis://127.0.0.1:6390}
hostport=${BROOK_REDIS_URL#redis://}
host=${hostport%%:*}
port=${hostport##*:}
port=${port%%/*}
rc() { redis-cli -h "$host" -p "$port" "$@"; }
export FLEET_STREAM="brook-test:fleet:$$:$RANDOM"
http_port=${BROOK_TEST_FLEET_HTTP_PORT:-18282}
total=600
log=$(mktemp)
cleanup() {
  kill -KILL "$parent" 2>/dev/null || true
  pkill -KILL -P "$parent" 2>/dev/null || true
  rc DEL "$FLEET_STREAM" "$FLEET_STREAM:handled" >/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- fleet log"; cat "$log"; exit 1; }

"$bin" run --workers 3 --http-port "$http_port" --http-host 127.0.0.1 --graceful-timeout 5 \
  >"$log" 2>&1 &
parent=$!
ready=""
for _ in $(seq 200); do
  ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/ready" || true)
  [ "$ready" = 200 ] && break
  sleep 0.05
done
[ "$ready" = 200 ] || fail "the fleet never became ready"
[ "$(pgrep -P "$parent" | wc -l)" = 3 ] || fail "expected 3 worker processes"

"$bin" produce "$total" || fail "producing failed"
for _ in $(seq 200); do
  [ "$(rc LLEN "$FLEET_STREAM:handled")" -ge 100 ] && break
  sleep 0.02
done
victim=$(pgrep -P "$parent" | head -1)
kill -KILL "$victim"
echo "killed worker pid $victim after $(rc LLEN "$FLEET_STREAM:handled") handled"

# The list holds FastStream envelopes (headers, then the body): count the ids at their end.
ids() { rc LRANGE "$FLEET_STREAM:handled" 0 -1 | grep -ao 'text/plainm[0-9]*' | sort -u | wc -l; }
distinct=0
for _ in $(seq 600); do
  distinct=$(ids)
  [ "$distinct" -ge "$total" ] && break
  sleep 0.1
done
[ "$distinct" = "$total" ] || fail "handled $distinct distinct of $total"
handled=$(rc LLEN "$FLEET_STREAM:handled")
pending=$(rc XPENDING "$FLEET_STREAM" fleet | head -1)
for _ in $(seq 100); do
  [ "$pending" = 0 ] && break
  sleep 0.05
  pending=$(rc XPENDING "$FLEET_STREAM" fleet | head -1)
done
[ "$pending" = 0 ] || fail "$pending entries still pending after all were handled"
grep -q "died: signal 9" "$log" || fail "the parent did not see the worker die"
for _ in $(seq 100); do
  [ "$(pgrep -P "$parent" | wc -l)" = 3 ] && break
  sleep 0.05
done
[ "$(pgrep -P "$parent" | wc -l)" = 3 ] || fail "the killed worker did not come back"
grep -qx "$victim" <<<"$(pgrep -P "$parent")" && fail "the victim's pid is still a worker"
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/ready")" = 200 ] && break
  sleep 0.05
done

# The fleet's metrics at one address: every worker's families with a worker label. The killed
# worker's counters died with it; the restart is counted by the parent. A worker's message
# counters appear with its first message, so each worker is looked for by its subscriber's
# readiness gauge, which every worker has from the start (the restarted one once it is ready).
# (grep -q reads a here-string, not a pipe: under pipefail, `echo | grep -q` fails whenever
# grep exits on its match before echo has written everything, and echo dies of SIGPIPE.)
covers_fleet() {
  for w in 0 1 2; do
    grep -q "^brook_subscriber_ready{worker=\"$w\",.*} 1$" <<<"$metrics" || return 1
  done
}
for _ in $(seq 50); do
  metrics=$(curl -s "http://127.0.0.1:$http_port/metrics")
  covers_fleet && break
  sleep 0.1
done
covers_fleet || fail "not every worker is in /metrics: $(echo "$metrics" | grep subscriber_ready)"
grep -q '^brook_fleet_restarts_total{app_name="fleet_worker",worker="[0-2]"} 1$' <<<"$metrics" ||
  fail "no restart counted: $(echo "$metrics" | grep fleet_restarts)"
grep -q '^brook_fleet_workers_up{app_name="fleet_worker"} 3$' <<<"$metrics" || fail "workers_up"
[ "$(echo "$metrics" | grep -c '^# TYPE faststream_received_messages_total counter$')" = 1 ] ||
  fail "families are not merged"
grep -q '^faststream_received_messages_total{worker="[0-2]",' <<<"$metrics" ||
  fail "no worker's message counters in /metrics"
dropped=$(echo "$metrics" | awk '/^brook_messages_dropped_total/ {s += $2} END {print s + 0}')
[ "$dropped" = 0 ] || fail "dropped $dropped"

# Ledger: published = handled + still pending + counted drops; duplicates only from the
# worker that died holding messages (at-least-once).
echo "ledger: published $total = handled $distinct + pending $pending + dropped $dropped;" \
     "$((handled - distinct)) duplicate(s) from the killed worker's in-flight messages"
[ "$total" = "$((distinct + pending + dropped))" ] || fail "ledger"
[ "$((handled - distinct))" -le 16 ] || fail "more duplicates than the killed worker could hold"

kill -TERM "$parent"
set +e
wait "$parent"
code=$?
set -e
[ "$code" = 0 ] || fail "the parent exited with $code after SIGTERM"
grep -q "fleet_worker stopped (3 workers)" "$log" || fail "no drain message"
[ "$(grep -c 'fleet_worker stopped$' "$log")" = 3 ] || fail "not every worker drained"
echo "fleet: 3 workers, one SIGKILLed and restarted, $total handled at least once, drained"
