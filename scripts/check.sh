#!/usr/bin/env bash
# What developers and CI run: the format check (clang-format, .clang-format), then
# scripts/test.sh (build with -Werror, every suite against real servers, the ASan+UBSan
# and TSan legs).
# usage: scripts/check.sh            (BROOK_SKIP_FORMAT=1 skips the format check;
#                                     test.sh's own variables apply)
#        scripts/check.sh --fix      reformats the tree in place and stops
set -euo pipefail
cd "$(dirname "$0")/.."
# Tracked and new (not ignored) files: a file not yet added is formatted too.
mapfile -t sources < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp')
if [[ "${1:-}" == --fix ]]; then
  clang-format -i "${sources[@]}"
  exit 0
fi
if [[ "${BROOK_SKIP_FORMAT:-0}" != 1 ]]; then
  if ! clang-format --dry-run --Werror "${sources[@]}"; then
    echo "check.sh: the files above are not formatted; run scripts/check.sh --fix" >&2
    exit 1
  fi
  echo "check.sh: format OK (${#sources[@]} files)"
fi
exec scripts/test.sh
