# tw-webhooks: the receiver, controller and workers in one image.
#   podman build -t tw-webhooks .          (or docker build)
# NODE_IMAGE is any Debian-based Node.js 24 image laid out like the official one (node and npm on
# PATH, headers in /usr/local/include/node); scripts/image-base.sh makes a local stand-in for it.
# The default is pinned by digest (the official node:24-bookworm-slim index of Node 24.18.0): a
# rebuild gets the same base until the digest is changed on purpose (docs/deployment.md).
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS build
# better-sqlite3's native addon is compiled here (never downloaded), against the image's own headers.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /src
COPY package.json package-lock.json ./
# An optional build secret `ca` (a PEM bundle) is trusted for the registry, for builds behind a
# TLS-inspecting proxy: `--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt`. It stays out of the image.
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export npm_config_cafile=/run/secrets/ca; fi \
 && npm ci
COPY tsconfig.json ./
COPY src ./src
# npm prune resolves the tree again and may ask the registry (an aliased optional peer), hence the CA here too.
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export npm_config_cafile=/run/secrets/ca; fi \
 && npx tsc -p tsconfig.json \
 && npm prune --omit=dev

# The runtime's whole filesystem: node, the shared libraries it and the native addons load (as ldd
# resolves them), the app, and a data directory owned by the runtime user. No shell, no npm, no
# package manager: nothing to run but node.
FROM ${NODE_IMAGE} AS rootfs
COPY --from=build /src/package.json /rootfs/app/package.json
COPY --from=build /src/node_modules /rootfs/app/node_modules
COPY --from=build /src/dist /rootfs/app/dist
RUN set -eu; \
    cp --parents /usr/local/bin/node /rootfs; \
    addons=$(find /rootfs/app/node_modules -name '*.node' -type f); \
    for lib in $(ldd /usr/local/bin/node $addons | awk '$2 == "=>" && $3 ~ /^\// { print $3 } NF == 2 && $1 ~ /^\// { print $1 }' | sort -u); do \
      cp --parents -L "$lib" /rootfs; \
    done; \
    mkdir -p /rootfs/etc /rootfs/tmp /rootfs/var/lib/tw-webhooks; \
    chmod 1777 /rootfs/tmp; \
    chown 65532:65532 /rootfs/var/lib/tw-webhooks; \
    printf 'root:x:0:0:root:/root:/nonexistent\nnonroot:x:65532:65532:nonroot:/var/lib/tw-webhooks:/nonexistent\n' >/rootfs/etc/passwd; \
    printf 'root:x:0:\nnonroot:x:65532:\n' >/rootfs/etc/group; \
    printf 'hosts: files dns\n' >/rootfs/etc/nsswitch.conf

FROM scratch
COPY --from=rootfs /rootfs /
ENV NODE_ENV=production \
    PATH=/usr/local/bin \
    PORT=8080 \
    TW_DATA_DIR=/var/lib/tw-webhooks
WORKDIR /app
USER 65532:65532
EXPOSE 8080 8081
# Exec form: node is PID 1 and receives SIGTERM itself; the service drains in-flight requests and exits 0.
# The young generation capped at 2 × 16 MB (V8 grows it to 2 × 32 MB under load on a large host): peak RSS
# 263 → 184 MB at the same CPU per request. No allocation-site pretenuring: V8 otherwise learns from the
# start-up's long-lived objects to allocate requests' short-lived ones in the old generation (10,000
# sources: 329 → 228 MB, less CPU). docs/performance.md; the same flags as `npm start`.
CMD ["node", "--max-semi-space-size=16", "--no-allocation-site-pretenuring", "dist/main.js"]
