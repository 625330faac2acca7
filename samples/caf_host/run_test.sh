#!/usr/bin/env bash
# Runs the sample against the real server: start the host, push reservations onto the
# Redis list with redis-cli, check the stock actor's answers on the stream, stop with
# SIGTERM (graceful drain, exit 0).
# usage: run_test.sh <caf_host-binary>     environment: BROOK_REDIS_URL (default port 6390)
set -euo pipefail
bin=$1
port=${BROOK_REDIS_PORT:-6390}
cli() { timeout 5 redis-cli -h 127.0.0.1 -p "$port" "$@"; }
cli DEL reservations reservations.done >/dev/null
log=$(mktemp)
BROOK_REDIS_URL=redis://127.0.0.1:$port "$bin" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "started" "$log" && break; sleep 0.05; done
cli RPUSH reservations '{"order_id":"o1","sku":"apple","qty":4}' '{"order_id":"o2","sku":"apple","qty":7}' >/dev/null
for _ in $(seq 100); do [ "$(cli XLEN reservations.done)" = 2 ] && break; sleep 0.05; done
out=$(cli XRANGE reservations.done - + | tr -d '\0')
grep -q '"order_id":"o1","sku":"apple","accepted":true,"left":6' <<<"$out" || { echo "$out"; cat "$log"; exit 1; }
grep -q '"order_id":"o2","sku":"apple","accepted":false,"left":6' <<<"$out" || { echo "$out"; cat "$log"; exit 1; }
kill -TERM "$pid"
wait "$pid"
grep -q "caf_host stopped" "$log" || { cat "$log"; exit 1; }
echo "caf_host: the host's stock actor served brook's Redis subscriber"
