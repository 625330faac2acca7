#!/usr/bin/env bash
# Runs the sample against the real server: start the service, request through its CLI
# from a second process, check the reply (with the region from the subject) and that the
# receipt went through JetStream to the audit consumer, stop cleanly.
# usage: run_test.sh <nats_orders-binary>
set -euo pipefail
bin=$1
log=$(mktemp)
"$bin" run >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "started" "$log" && break; sleep 0.05; done
reply=$("$bin" publish orders.eu '{"id":"o-ci","items":[{"sku":"a","qty":2},{"sku":"b","qty":3}]}' --request --log-level warn)
echo "reply: $reply"
[ "$reply" = '{"order_id":"o-ci","region":"eu","units":5}' ] || { cat "$log"; exit 1; }
for _ in $(seq 100); do grep -q "audited o-ci" "$log" && break; sleep 0.05; done
grep -q "audited o-ci" "$log" || { cat "$log"; echo "receipt never reached the JetStream consumer"; exit 1; }
kill -TERM "$pid"
wait "$pid"
grep -q "nats_orders stopped" "$log"
echo "nats_orders: request/reply, JetStream publish and durable consume OK"
