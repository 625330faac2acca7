#!/bin/sh
# Installs the AsyncAPI web component that the docs page renders with, so the page works
# offline: brook serves its standalone bundle itself instead of loading it from a CDN.
#
# usage: scripts/asyncapi-assets.sh [DIR]      (default: build/asyncapi-assets)
#
# The docs server (brook::asyncapi::docs_server, BROOK_ASYNCAPI_ASSETS) reads two files:
#   DIR/node_modules/@asyncapi/react-component/browser/standalone/index.js
#   DIR/node_modules/@asyncapi/react-component/styles/default.min.css
# Exits 0 without touching the network when the pinned version is already there.
set -eu

version=3.2.1
dir=${1:-build/asyncapi-assets}
pkg="$dir/node_modules/@asyncapi/react-component"

# The version of an installed package, or nothing.
installed_version() {
  node -e 'try { console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version) } catch (e) {}' \
    "$1/package.json" 2>/dev/null || true
}

if [ -f "$pkg/browser/standalone/index.js" ] && [ -f "$pkg/styles/default.min.css" ] &&
   [ "$(installed_version "$pkg")" = "$version" ]; then
  echo "asyncapi-assets: @asyncapi/react-component@$version already in $dir"
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "asyncapi-assets: npm not found (install Node.js 18+)" >&2; exit 1; }
mkdir -p "$dir"
# A private package.json keeps npm from walking up into an unrelated project.
[ -f "$dir/package.json" ] || printf '{ "name": "brook-asyncapi-assets", "private": true }\n' > "$dir/package.json"
# Peers (react, react-dom) are bundled into the standalone build, and no install scripts are
# needed to serve two static files.
npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --omit=peer --save-exact \
  "@asyncapi/react-component@$version"
test -f "$pkg/browser/standalone/index.js"
test -f "$pkg/styles/default.min.css"
echo "asyncapi-assets: installed @asyncapi/react-component@$version into $dir"
