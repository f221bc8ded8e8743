#!/usr/bin/env bash
# Builds the container image with podman against the local stand-in base (scripts/image-base.sh),
# and the previous release's image from its commit, then runs test/image/ against them with the test
# API server: the image itself (the signed event, SIGTERM during a burst, nothing in it but node), the
# chart's pod under `podman kube play`, and `helm upgrade` from the previous release with data in place.
# Needs root, podman, runc and catatonit (`apt-get install -y podman runc catatonit debootstrap`).
# crun fails on these machines' hybrid cgroups and on raising limits, hence runc and fixed ulimits.
set -euo pipefail
cd "$(dirname "$0")/.."

podman=(podman --runtime runc)
limits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
image=${TW_IMAGE_TAG:-localhost/tw-webhooks:test}
# The release the upgrade test starts from: its chart and its image come from this commit.
previous=${TW_PREVIOUS_RELEASE:-9aeae15}
# The host's trust store reaches the build as a secret, for registries behind a TLS-inspecting proxy.
ca_bundle=${TW_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

base=$(scripts/image-base.sh)
secret=()
[[ -s $ca_bundle ]] && secret=(--secret "id=ca,src=$ca_bundle")
build() { # <tag> <context dir>
  local started=$SECONDS
  "${podman[@]}" build --network host "${limits[@]}" "${secret[@]}" --build-arg "NODE_IMAGE=$base" -t "$1" "$2" >&2
  echo "image-test: built $1 in $((SECONDS - started)) s ($("${podman[@]}" image inspect "$1" --format '{{.Size}}') bytes)" >&2
}
build "$image" .

# A shallow clone lacks it: fetch the history once, then say so if it is still missing.
has_previous() { git rev-parse --verify --quiet "${previous}^{commit}" >/dev/null; }
has_previous || { git fetch --quiet --unshallow 2>/dev/null || git fetch --quiet origin "$previous" 2>/dev/null || true; }
has_previous ||
  { echo "image-test: commit $previous (the previous release) is not in this clone; fetch its history (git fetch --unshallow)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tw-image-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
git archive "$previous" | tar -x -C "$work"
previous_image=localhost/tw-webhooks:$(git rev-parse --short=12 "$previous")
# Built once per commit and kept: the previous release does not change.
"${podman[@]}" image exists "$previous_image" || build "$previous_image" "$work"

TW_IMAGE=$image TW_PREVIOUS_IMAGE=$previous_image TW_PREVIOUS_CHART=$work/helm/tw-webhooks \
  node --import tsx test/run.ts test/image/image.test.ts test/image/pod.test.ts test/image/upgrade.test.ts
