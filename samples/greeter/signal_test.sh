#!/usr/bin/env bash
# SIGTERM drains and stops the service with exit code 0 (and SIGINT alike).
# usage: signal_test.sh <greeter-binary>
set -euo pipefail
bin=$1
for sig in TERM INT; do
  log=$(mktemp)
  "$bin" run --graceful-timeout 5 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "started" "$log" && break; sleep 0.05; done
  grep -q "started" "$log" || { cat "$log"; echo "service did not start"; exit 1; }
  kill -"$sig" "$pid"
  rc=0; wait "$pid" || rc=$?
  grep -q "received signal" "$log" || { cat "$log"; echo "signal $sig not handled"; exit 1; }
  grep -q "greeter stopped" "$log" || { cat "$log"; echo "no clean stop after $sig"; exit 1; }
  [ "$rc" -eq 0 ] || { cat "$log"; echo "exit code $rc after $sig"; exit 1; }
  rm -f "$log"
  echo "SIG$sig: drained and stopped with exit code 0"
done
