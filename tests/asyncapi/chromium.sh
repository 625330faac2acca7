# Sourced by the browser tests (browser_test.sh, sample_browser_test.sh) so they all drive
# Debian's headless chromium with the same flags.
#
#   find_chromium              prints the chromium program, or nothing
#   run_chromium URL [FLAG...] loads URL; needs $browser (from find_chromium) and $work (a
#                              scratch directory); chromium's stderr goes to $work/chromium.log

find_chromium() {
  command -v chromium || command -v chromium-browser || true
}

# Offline-friendly flags: no background fetches, updates or sync; a fresh profile per run. The
# resolver rule makes every host but 127.0.0.1 unreachable, proving the page needs no CDN. The
# virtual time budget lets the page fetch asyncapi.json and render before the dump/screenshot.
# A render takes ~4 s; the timeout only stops a hung browser before ctest's own limit does.
run_chromium() {
  chromium_url=$1
  shift
  profile=$(mktemp -d "$work/profile.XXXXXX")
  timeout 25 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
    --user-data-dir="$profile" --virtual-time-budget=15000 \
    "$@" "$chromium_url" 2>>"$work/chromium.log"
}
