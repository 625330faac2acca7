#!/usr/bin/env bash
# Builds the OpenTelemetry Collector the tracing tests export to (scripts/otel/manifest.yaml)
# from the Go module proxy with the collector's own builder; ~1.5 min on 2 cores, 38 MB.
# `go install .../cmd/otelcorecol` does not work (not a module at that path); the builder does.
# usage: scripts/otel/build-collector.sh OUTDIR   (then OUTDIR/dist/otelcol-brook exists)
set -euo pipefail
out=${1:?usage: build-collector.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
# The builder needs a recent Go (Debian 12's 1.19 is too old): the machine's own, e.g. /usr/local/go.
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "build-collector.sh: go not found (https://go.dev/dl)" >&2; exit 1; }
version=$(sed -n 's:.*otlpreceiver \(v[0-9.]*\).*:\1:p' "$here/manifest.yaml")
mkdir -p "$out"
cd "$out"
GOBIN="$out/bin" go install "go.opentelemetry.io/collector/cmd/builder@$version"
sed "s#output_path: ./dist#output_path: $out/dist#" "$here/manifest.yaml" >manifest.yaml
"$out/bin/builder" --config manifest.yaml >builder.log 2>&1 || { tail -n 20 builder.log >&2; exit 1; }
test -x "$out/dist/otelcol-brook"
echo "$out/dist/otelcol-brook"
