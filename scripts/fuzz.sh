#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan) and runs each on a fresh copy
# of its checked-in seed corpus (fuzz/corpus/<target>/). Not part of CI: run it by hand after
# touching the envelope or the JSON codec.
#   usage: scripts/fuzz.sh [runs]          (default 1000000 inputs per target)
#   env:   BROOK_FUZZ_DIR (build-fuzz), CXX (clang++), BROOK_FUZZ_TARGETS ("envelope json_codec")
# A crash leaves crash-<hash> in $BROOK_FUZZ_DIR; replay with
#   $BROOK_FUZZ_DIR/<target>_fuzz $BROOK_FUZZ_DIR/crash-<hash>
# and turn it into a unit test before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000000}
out=${BROOK_FUZZ_DIR:-build-fuzz}
cxx=${CXX:-clang++}
targets=${BROOK_FUZZ_TARGETS:-envelope json_codec}
command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx not found (apt-get install clang)" >&2; exit 1; }
mkdir -p "$out"

flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Wall -Wextra -Werror
       -Iactors/include -Ibrokers/redis/include -Ibrokers/redis/src)
# Each target compiles only the sources it tests (no CAF, no hiredis), plus Boost.JSON itself.
declare -A sources=(
  [envelope]="fuzz/envelope_fuzz.cpp brokers/redis/src/envelope.cpp"
  [json_codec]="fuzz/json_codec_fuzz.cpp actors/src/codec_sax.cpp"
)
[[ -f "$out/boost_json.o" ]] ||
  nice -n 10 "$cxx" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -c \
    fuzz/boost_json_src.cpp -o "$out/boost_json.o"

for t in $targets; do
  echo "== $t: build"
  # shellcheck disable=SC2086
  nice -n 10 "$cxx" "${flags[@]}" ${sources[$t]} "$out/boost_json.o" -o "$out/${t}_fuzz"
  corpus="$out/corpus-$t"
  rm -rf "$corpus" && mkdir -p "$corpus" && cp fuzz/corpus/"$t"/* "$corpus"/
  dict=()
  [[ -f fuzz/$t.dict ]] && dict=(-dict="$PWD/fuzz/$t.dict")
  echo "== $t: $runs inputs"
  (cd "$out" && UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     nice -n 10 "./${t}_fuzz" -runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 "${dict[@]}" "corpus-$t")
done
