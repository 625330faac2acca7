#!/usr/bin/env bash
# Installs everything brook's build and tests need on a fresh Debian 12 machine:
# compilers and C++ libraries from Debian, the brokers' servers (Kafka's jars from Maven
# Central), an OpenTelemetry Collector (built from the Go module proxy), Node tools for the
# AsyncAPI checks and Chromium for the page test. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
pkgs=(g++ cmake ninja-build pkg-config clang-format
      libcaf-dev libboost1.81-dev libboost-json1.81-dev libspdlog-dev libfmt-dev libcli11-dev
      libgtest-dev libgmock-dev
      libhiredis-dev libevent-dev redis-server
      libnats-dev nats-server curl openssl
      librdkafka-dev kcat
      prometheus-cpp-dev prometheus
      chromium python3-venv python3-yaml)
# Node: the machine image may bring its own; take Debian's only when none is there.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
# Java and Maven run the Kafka broker and fetch its jars; the same: Debian's only when none is there.
command -v java >/dev/null 2>&1 || pkgs+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
scripts/asyncapi-tools.sh "${BROOK_BUILD_DIR:-build}/asyncapi-tools"
scripts/asyncapi-assets.sh "${BROOK_BUILD_DIR:-build}/asyncapi-assets"
scripts/kafka-jars.sh
# The collector the tracing tests export to (services.sh would build it on first start too).
scripts/services.sh status otel >/dev/null 2>&1 || BROOK_OTEL_BUILD_ONLY=1 scripts/services.sh start otel
