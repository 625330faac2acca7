#!/usr/bin/env bash
# Creates the Python virtualenv the FastStream interop tests run: ${BROOK_RUN_DIR}/venv with
# faststream[redis,nats,kafka,otel] at a pinned version, and the OpenTelemetry SDK with its OTLP/HTTP
# exporter (the tracing interop test). Idempotent: an existing venv with those versions is kept.
#
# usage: scripts/interop/setup_venv.sh
# environment: BROOK_RUN_DIR (default /tmp/brook-run), BROOK_FASTSTREAM_VERSION (default 0.7.8;
#              0.6.7 passes the same tests)
set -euo pipefail

run_dir=${BROOK_RUN_DIR:-/tmp/brook-run}
version=${BROOK_FASTSTREAM_VERSION:-0.7.8}
otel_version=1.45.2
venv=$run_dir/venv

have() {
  "$venv/bin/python" - "$version" "$otel_version" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
import faststream.redis  # noqa: F401  (fails without the redis extra)
import faststream.nats  # noqa: F401  (fails without the nats extra)
import faststream.kafka  # noqa: F401  (fails without the kafka extra)
import faststream.redis.opentelemetry  # noqa: F401  (fails without the otel extra)
import opentelemetry.exporter.otlp.proto.http.trace_exporter  # noqa: F401
sys.exit(0 if version("faststream") == sys.argv[1] and version("opentelemetry-sdk") == sys.argv[2]
         else 1)
PY
}

if [ -x "$venv/bin/python" ] && have; then
  echo "interop venv: $venv (faststream $version) already set up"
  exit 0
fi
mkdir -p "$run_dir"
python3 -m venv "$venv" || {
  echo "python3 -m venv failed; on Debian: apt-get install -y python3-venv" >&2
  exit 1
}
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "faststream[redis,nats,kafka,otel]==$version" "opentelemetry-sdk==$otel_version" \
  "opentelemetry-exporter-otlp-proto-http==$otel_version"
have || { echo "faststream $version did not install into $venv" >&2; exit 1; }
echo "interop venv: $venv (faststream $version)"
