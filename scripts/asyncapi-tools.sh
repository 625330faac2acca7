#!/bin/sh
# Installs the official AsyncAPI parser that the `asyncapi` ctest tests validate generated
# documents with (tests/asyncapi/validate.mjs), plus js-yaml for the YAML round-trip check.
#
# usage: scripts/asyncapi-tools.sh [DIR]       (default: build/asyncapi-tools)
#
# Exits 0 without touching the network when the pinned versions are already there.
set -eu

parser_version=3.6.3
yaml_version=4.1.0
dir=${1:-build/asyncapi-tools}
mods="$dir/node_modules"

# The version of an installed package, or nothing.
installed_version() {
  node -e 'try { console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version) } catch (e) {}' \
    "$1/package.json" 2>/dev/null || true
}

if [ "$(installed_version "$mods/@asyncapi/parser")" = "$parser_version" ] &&
   [ "$(installed_version "$mods/js-yaml")" = "$yaml_version" ]; then
  echo "asyncapi-tools: @asyncapi/parser@$parser_version and js-yaml@$yaml_version already in $dir"
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "asyncapi-tools: npm not found (install Node.js 18+)" >&2; exit 1; }
mkdir -p "$dir"
[ -f "$dir/package.json" ] || printf '{ "name": "brook-asyncapi-tools", "private": true }\n' > "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --save-exact \
  "@asyncapi/parser@$parser_version" "js-yaml@$yaml_version"
echo "asyncapi-tools: installed @asyncapi/parser@$parser_version and js-yaml@$yaml_version into $dir"
