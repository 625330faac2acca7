#!/usr/bin/env bash
# Fetches the jars of the single-node Kafka broker that scripts/services.sh runs for brook's
# integration tests (kafka_2.13 and a log4j2 binding, see scripts/kafka/pom.xml) from Maven
# Central into a cache dir, and prints where. Idempotent: a complete dir is left alone.
#
# usage: scripts/kafka-jars.sh [DIR]
#   DIR  default ${BROOK_CACHE_DIR:-$HOME/.cache/brook}/kafka-<kafka.version in the pom>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pom=$here/kafka/pom.xml
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
[ -n "$version" ] || { echo "kafka-jars.sh: no kafka.version in $pom" >&2; exit 1; }
dir=${1:-${BROOK_CACHE_DIR:-$HOME/.cache/brook}/kafka-$version}
# The stamp holds the jar count and the POM it came from: a dir from another POM, or one a
# crash left half copied, is fetched again.
stamp_of() { echo "$(find "$1" -maxdepth 1 -name '*.jar' | wc -l) $(sha256sum <"$pom" | cut -d' ' -f1)"; }

if [ -f "$dir/kafka_2.13-$version.jar" ] && [ -f "$dir/.complete" ] &&
   [ "$(cat "$dir/.complete")" = "$(stamp_of "$dir")" ]; then
  echo "kafka jars: $(find "$dir" -maxdepth 1 -name '*.jar' | wc -l) jars already in $dir"
  exit 0
fi
command -v mvn >/dev/null || { echo "kafka-jars.sh: mvn not found (apt-get install -y maven)" >&2; exit 1; }
mkdir -p "$(dirname "$dir")"
# Fetch into a temporary dir and move it into place whole, so DIR is complete or absent.
tmp=$(mktemp -d "$dir.tmp.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
# Maven 3.8 writes colour resets (ESC[0m) even with -B -q: keep its output for a failure only.
if ! mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DoutputDirectory="$tmp" \
    >"$tmp/mvn.log" 2>&1; then
  sed 's/\x1b\[[0-9;]*m//g' "$tmp/mvn.log" >&2
  echo "kafka-jars.sh: mvn dependency:copy-dependencies failed" >&2
  exit 1
fi
rm -f "$tmp/mvn.log"
[ -f "$tmp/kafka_2.13-$version.jar" ] || { echo "kafka-jars.sh: mvn fetched no kafka_2.13-$version.jar" >&2; exit 1; }
stamp_of "$tmp" >"$tmp/.complete"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "kafka jars: $(find "$dir" -maxdepth 1 -name '*.jar' | wc -l) jars, $(du -sh "$dir" | cut -f1) in $dir"
