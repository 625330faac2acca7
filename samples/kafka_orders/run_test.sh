#!/usr/bin/env bash
# Runs the sample against the real broker: start the service, request through its CLI
# from a second process (a reply topic of its own), check the reply and that the receipt
# went through the `receipts` topic to the audit group's batch handler, stop cleanly.
# usage: run_test.sh <kafka_orders-binary>
set -euo pipefail
bin=$1
log=$(mktemp)
"$bin" run >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 200); do grep -q "started" "$log" && break; sleep 0.05; done
id="o-ci-$RANDOM$RANDOM"
reply=$("$bin" publish orders "{\"id\":\"$id\",\"customer\":\"c1\",\"items\":[{\"sku\":\"a\",\"qty\":2},{\"sku\":\"b\",\"qty\":3}]}" --request --timeout 20 --log-level warn)
echo "reply: $reply"
[ "$reply" = "{\"order_id\":\"$id\",\"units\":5}" ] || { cat "$log"; exit 1; }
for _ in $(seq 200); do grep -q "audited $id" "$log" && break; sleep 0.05; done
grep -q "audited $id" "$log" || { cat "$log"; echo "receipt never reached the audit group"; exit 1; }
kill -TERM "$pid"
wait "$pid"
grep -q "kafka_orders stopped" "$log"
echo "kafka_orders: request/reply over a reply topic, produce and batch consume OK"
