#!/usr/bin/env bash
# Installs the build tree into a scratch prefix and builds + runs a consumer
# project with find_package(brook COMPONENTS core memory).
# usage: run.sh <build-dir> <source-dir>
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/consumer/project" -B "$work/b" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/b" >/dev/null
"$work/b/consumer"
