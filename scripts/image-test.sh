#!/usr/bin/env bash
# Builds the container image with podman against the local stand-in base (scripts/image-base.sh)
# and runs test/image/image.test.ts against it: the spec's signed event, SIGTERM during a burst.
# Needs root, podman and runc (`apt-get install -y podman runc debootstrap`). crun fails on these
# machines' hybrid cgroups and on raising limits, hence runc and fixed ulimits.
set -euo pipefail
cd "$(dirname "$0")/.."

podman=(podman --runtime runc)
limits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
image=${TW_IMAGE_TAG:-localhost/tw-webhooks:test}
# The host's trust store reaches the build as a secret, for registries behind a TLS-inspecting proxy.
ca_bundle=${TW_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

base=$(scripts/image-base.sh)
started=$SECONDS
secret=()
[[ -s $ca_bundle ]] && secret=(--secret "id=ca,src=$ca_bundle")
"${podman[@]}" build --network host "${limits[@]}" "${secret[@]}" --build-arg "NODE_IMAGE=$base" -t "$image" . >&2
echo "image-test: built $image in $((SECONDS - started)) s ($("${podman[@]}" image inspect "$image" --format '{{.Size}}') bytes)" >&2

TW_IMAGE=$image node --import tsx --test test/image/image.test.ts
