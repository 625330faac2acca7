#!/bin/sh
# Serves a sample service's docs with its own CLI (`SERVICE docs serve --port 0`), renders the
# page in headless Chromium, and checks that the expected names appear in the rendered DOM. Both
# versions are rendered: the 3.0.0 page (the default) shows messages and schemas but lists
# channels by address, the 2.6.0 page shows the channel names themselves. Keeps the DOM and a
# screenshot of each in OUT_DIR: NAME.{html,png} (3.0.0) and NAME-2.6.0.{html,png}.
#
# usage: sample_browser_test.sh SERVICE ASSETS_DIR OUT_DIR [EXPECT...]
#   SERVICE     a brook service program, e.g. the greeter sample
#   ASSETS_DIR  directory prepared by scripts/asyncapi-assets.sh
#   EXPECT      --channel NAME, --message NAME, --payload NAME (repeatable), named as in 3.0.0,
#               like validate.mjs: --channel is checked on the 2.6.0 page, --message on both (as
#               {channel}:Message on 2.6.0), --payload on both
# Exit codes: 0 pass, 1 fail, 77 skipped (chromium or assets missing and
# BROOK_ASYNCAPI_REQUIRE_TOOLS unset).
set -eu

service=$1
assets=$2
out=$3
shift 3
# Options come in pairs; say so now rather than after two renders.
[ $(($# % 2)) -eq 0 ] || { echo "sample_browser_test.sh: an EXPECT option lacks its value" >&2; exit 2; }
name=$(basename "$service")
. "$(dirname "$0")/chromium.sh"

skip() {
  echo "asyncapi_browser($name): $*" >&2
  [ "${BROOK_ASYNCAPI_REQUIRE_TOOLS:-}" = 1 ] && exit 1
  exit 77
}

browser=$(find_chromium)
[ -n "$browser" ] || skip "chromium not found (Debian: apt-get install chromium)"
[ -f "$assets/node_modules/@asyncapi/react-component/browser/standalone/index.js" ] ||
  skip "AsyncAPI web component missing; run scripts/asyncapi-assets.sh $assets"

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/brook-asyncapi-sample.XXXXXX")
server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

failed=0
# check PAGE NAME: NAME is an exact text node (">name<") of PAGE, so "greetings" is not satisfied
# by "greetings:Publisher".
check() {
  if grep -F -q -- ">$2<" "$1"; then
    echo "  found in $(basename "$1"): $2"
  else
    echo "  MISSING in rendered page $(basename "$1"): $2" >&2
    failed=1
  fi
}

# render VERSION FILE_STEM: serves the VERSION document on a free port (the service prints the
# one it got) and writes FILE_STEM.html and FILE_STEM.png.
render() {
  rm -f "$2.html" "$2.png"  # a stale screenshot must not pass the check below
  log="$work/server-$1.log"
  "$service" docs serve --port 0 --host 127.0.0.1 --assets "$assets" --asyncapi "$1" \
    >"$log" 2>&1 &
  server_pid=$!
  tries=0
  until port=$(sed -n 's|^serving AsyncAPI docs on http://127\.0\.0\.1:\([0-9][0-9]*\)/$|\1|p' "$log")
        [ -n "$port" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ] || ! kill -0 "$server_pid" 2>/dev/null; then
      cat "$log" >&2
      echo "asyncapi_browser($name): '$service docs serve' did not start" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "asyncapi_browser($name): $1 page at http://127.0.0.1:$port/"
  # One run gives both the DOM (stdout) and the screenshot.
  run_chromium "http://127.0.0.1:$port/" --dump-dom --window-size=1280,2400 --hide-scrollbars \
    --screenshot="$2.png" >"$2.html"
  stop_server
  [ -s "$2.png" ] || { echo "  no screenshot written for $1" >&2; failed=1; }
}

render 3.0.0 "$out/$name"
render 2.6.0 "$out/$name-2.6.0"

echo "asyncapi_browser($name): checking the rendered DOMs"
while [ $# -ge 2 ]; do
  case $1 in
    --channel) check "$out/$name-2.6.0.html" "$2" ;;
    --message)
      check "$out/$name.html" "$2"
      case $2 in
        *:SubscribeMessage) check "$out/$name-2.6.0.html" "${2%:SubscribeMessage}:Message" ;;
        *) check "$out/$name-2.6.0.html" "$2" ;;
      esac ;;
    --payload)
      check "$out/$name.html" "$2"
      check "$out/$name-2.6.0.html" "$2" ;;
    *) echo "asyncapi_browser($name): unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

if [ "$failed" -ne 0 ]; then
  echo "asyncapi_browser($name): FAILED; chromium log:" >&2
  tail -n 20 "$work/chromium.log" >&2
  exit 1
fi
echo "asyncapi_browser($name): passed; screenshots $out/$name.png, $out/$name-2.6.0.png"
