#!/bin/sh
# Renders the served docs page in headless Chromium and checks that the example service's
# channels and messages appear in the rendered DOM; keeps the DOM and a screenshot in OUT_DIR.
#
# usage: browser_test.sh GEN_EXAMPLE ASSETS_DIR OUT_DIR
#   GEN_EXAMPLE  the asyncapi_gen_example program (serves the docs with --serve)
#   ASSETS_DIR   directory prepared by scripts/asyncapi-assets.sh
# Exit codes: 0 pass, 1 fail, 77 skipped (chromium or assets missing and
# BROOK_ASYNCAPI_REQUIRE_TOOLS unset).
set -eu

gen=$1
assets=$2
out=$3
. "$(dirname "$0")/chromium.sh"

skip() {
  echo "asyncapi_browser: $*" >&2
  [ "${BROOK_ASYNCAPI_REQUIRE_TOOLS:-}" = 1 ] && exit 1
  exit 77
}

browser=$(find_chromium)
[ -n "$browser" ] || skip "chromium not found (Debian: apt-get install chromium)"
[ -f "$assets/node_modules/@asyncapi/react-component/browser/standalone/index.js" ] ||
  skip "AsyncAPI web component missing; run scripts/asyncapi-assets.sh $assets"

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/brook-asyncapi-browser.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$gen" --serve "$assets" "$work/port" >"$work/server.log" 2>&1 &
server_pid=$!
tries=0
until [ -s "$work/port" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 100 ] || ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    echo "asyncapi_browser: the docs server did not start" >&2
    exit 1
  fi
  sleep 0.1
done
url="http://127.0.0.1:$(cat "$work/port")/"
echo "asyncapi_browser: page at $url"

run_chromium "$url" --dump-dom >"$out/asyncapi-page.html"
run_chromium "$url" --window-size=1280,2400 --hide-scrollbars --screenshot="$out/asyncapi-page.png" >/dev/null

failed=0
# Exact text nodes (">name<"), so "jobs" is not satisfied by "jobs-worker".
check() {
  if grep -F -q -- ">$1<" "$out/asyncapi-page.html"; then
    echo "  found: $1"
  else
    echo "  MISSING in rendered page: $1" >&2
    failed=1
  fi
}
echo "asyncapi_browser: checking the rendered DOM ($out/asyncapi-page.html)"
check "Order service 1.4.0"
# channel addresses, message names (3.0 titles) and payload schema names of gen_example.cpp
for name in orders.created "orders.{region}.cancelled" jobs audit/events orders.confirmed notifications \
            orders.created:HandleOrderCreated:SubscribeMessage \
            "orders.{region}.cancelled:HandleCancel:SubscribeMessage" jobs-worker:SubscribeMessage \
            audit/events:HandleAudit:SubscribeMessage orders.confirmed:Publisher:Message \
            notifications:Publisher:Message \
            OrderCreated OrderItem Money OrderStatus OrderConfirmation AuditEvent; do
  check "$name"
done
[ -s "$out/asyncapi-page.png" ] || { echo "  no screenshot written" >&2; failed=1; }

if [ "$failed" -ne 0 ]; then
  echo "asyncapi_browser: FAILED; chromium log:" >&2
  tail -n 20 "$work/chromium.log" >&2
  exit 1
fi
echo "asyncapi_browser: passed; screenshot at $out/asyncapi-page.png"
