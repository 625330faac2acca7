#!/usr/bin/env bash
# A real Prometheus server (Debian's `prometheus`) scrapes the running sample's /metrics and is
# queried through its HTTP API: the FastStream families arrive with the values the requests
# made, and /health and /ready answer 200 while Redis is up.
# usage: prometheus_test.sh <redis_orders-binary>
set -euo pipefail
bin=$1
command -v prometheus >/dev/null || { echo "prometheus not found (apt-get install -y prometheus)" >&2; exit 1; }
http_port=${BROOK_TEST_HTTP_PORT:-18181}
prom_port=${BROOK_TEST_PROMETHEUS_PORT:-19190}
dir=$(mktemp -d)
cleanup() {
  kill "$svc" "$prom" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
"$bin" run --http-port "$http_port" --http-host 127.0.0.1 >"$dir/svc.log" 2>&1 &
svc=$!
for _ in $(seq 200); do grep -q "HTTP endpoint" "$dir/svc.log" && break; sleep 0.05; done
grep -q "HTTP endpoint" "$dir/svc.log" || { cat "$dir/svc.log"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/health")" = 200 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/ready")" = 200 ]

cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: redis_orders
    static_configs:
      - targets: ["127.0.0.1:$http_port"]
YAML
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$dir/prom.log" 2>&1 &
prom=$!

for i in 1 2 3; do
  reply=$("$bin" publish orders "{\"id\":\"p$i\",\"items\":[{\"sku\":\"a\",\"qty\":$i}],\"prio\":\"express\"}" --request --log-level warn)
  [ "$reply" = "{\"order_id\":\"p$i\",\"units\":$i}" ] || { echo "reply: $reply"; cat "$dir/svc.log"; exit 1; }
done
"$bin" publish orders '{"id":"bad","items":"not a list","prio":"express"}' --log-level warn

# Asks Prometheus for one series' value; prints it, or nothing yet.
query() {
  curl -s -G "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}
expect() {  # expect <promql> <value>
  local got=""
  for _ in $(seq 120); do
    got=$(query "$1")
    [ "$got" = "$2" ] && { echo "ok: $1 = $got"; return 0; }
    sleep 0.25
  done
  echo "FAIL: $1 = '$got', expected $2"
  echo "--- /metrics"; curl -s "http://127.0.0.1:$http_port/metrics" | grep -v '^#' | head -60
  echo "--- prometheus log"; tail -20 "$dir/prom.log"
  exit 1
}
app='app_name="redis_orders",broker="redis"'
expect "faststream_received_messages_total{$app,handler=\"orders\"}" 4
expect "faststream_received_processed_messages_total{$app,handler=\"orders\",status=\"acked\"}" 3
expect "faststream_received_processed_messages_total{$app,handler=\"orders\",status=\"rejected\"}" 0
expect "faststream_received_processed_messages_total{$app,handler=\"orders\",status=\"error\"}" 1
expect "faststream_received_processed_messages_exceptions_total{$app,handler=\"orders\",exception_type=\"decode_failure\"}" 1
expect "faststream_published_messages_total{$app,destination=\"receipts\",status=\"success\"}" 3
expect "faststream_received_processed_messages_total{$app,handler=\"receipts\",status=\"acked\"}" 3
expect "brook_connection_up{$app}" 1
expect "brook_subscriber_ready{$app,handler=\"orders\"}" 1
expect "up{job=\"redis_orders\"}" 1
kill -TERM "$svc"
wait "$svc"
grep -q "redis_orders stopped" "$dir/svc.log"
echo "redis_orders: scraped by Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}')"
