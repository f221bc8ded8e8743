#!/usr/bin/env bash
# Runs test files (default: the service's e2e contract and durability suites) on Node.js 24 from
# the npm registry, next to the machine's own Node. The tests run in a copy of the checkout whose
# better-sqlite3 is rebuilt for Node 24's ABI, so the working tree's node_modules stay as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
files=("$@")
[[ ${#files[@]} -gt 0 ]] || files=(test/e2e/webhook-contract.test.ts test/e2e/durability.test.ts)

node_dir=$(scripts/node24.sh)
work=$(mktemp -d "${TMPDIR:-/tmp}/tw-node24.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar --exclude=./node_modules --exclude=./dist --exclude=./.git --exclude=./.infra -cf - . | tar -xf - -C "$work"
cp -a node_modules "$work/"
cd "$work"
export PATH="$node_dir/bin:$PATH"
echo "node24-test: $(node --version) from $node_dir" >&2
# The addon for Node 24's ABI is compiled once per better-sqlite3 and Node version (minutes on two
# cores), against the headers that come with that Node (nothing fetched from nodejs.org), then cached.
addon_version=$(node -p 'require("./node_modules/better-sqlite3/package.json").version')
addon_cache=${XDG_CACHE_HOME:-$HOME/.cache}/tw-webhooks/better-sqlite3-${addon_version}-node-abi$(node -p process.versions.modules)
addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
if [[ -f $addon_cache/better_sqlite3.node ]]; then
  rm -rf node_modules/better-sqlite3/build && mkdir -p "$(dirname "$addon")"
  cp "$addon_cache/better_sqlite3.node" "$addon"
else
  started=$SECONDS
  npm_config_nodedir="$node_dir" npm_config_build_from_source=true npm rebuild better-sqlite3 >&2
  echo "node24-test: better-sqlite3 rebuilt in $((SECONDS - started)) s" >&2
  mkdir -p "$addon_cache" && cp "$addon" "$addon_cache/better_sqlite3.node.partial" && mv "$addon_cache/better_sqlite3.node.partial" "$addon_cache/better_sqlite3.node"
fi
npm test -- "${files[@]}"
