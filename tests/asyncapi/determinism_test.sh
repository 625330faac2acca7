#!/bin/sh
# Documents must be byte-identical from run to run (stable key order), so users can commit them
# and review diffs. Runs `SERVICE docs gen` twice per version and format, once to stdout and once
# with --out, in separate processes, and compares the bytes. Keeps the documents in OUT_DIR.
#
# usage: determinism_test.sh SERVICE OUT_DIR
set -eu

service=$1
out=$2
mkdir -p "$out"
failed=0
for version in 3.0.0 2.6.0; do
  for format in json yaml; do
    a="$out/asyncapi-$version.$format"
    b="$out/asyncapi-$version.again.$format"
    rm -f "$a" "$b"
    "$service" docs gen --asyncapi "$version" --format "$format" >"$a"
    "$service" docs gen --asyncapi "$version" --format "$format" --out "$b"
    # An empty document would compare equal to another empty one.
    if [ ! -s "$a" ]; then
      echo "FAIL $version $format: empty document" >&2
      failed=1
    elif cmp "$a" "$b"; then
      echo "ok   $version $format: $(wc -c <"$a") bytes, identical"
    else
      diff -u "$a" "$b" | head -n 40 >&2 || true
      echo "FAIL $version $format: two runs differ" >&2
      failed=1
    fi
  done
done
# No flags means 3.0.0 JSON, the documented default.
"$service" docs gen >"$out/asyncapi-default.json"
if cmp "$out/asyncapi-default.json" "$out/asyncapi-3.0.0.json"; then
  echo "ok   defaults: same as --asyncapi 3.0.0 --format json"
else
  echo "FAIL defaults: 'docs gen' differs from 'docs gen --asyncapi 3.0.0 --format json'" >&2
  failed=1
fi
exit "$failed"
