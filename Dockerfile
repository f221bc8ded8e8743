# tw-webhooks: the receiver, controller and workers in one image.
#   podman build -t tw-webhooks .          (or docker build)
# NODE_IMAGE is any Debian-based Node.js 24 image laid out like the official one (node and npm on
# PATH, headers in /usr/local/include/node); scripts/image-base.sh makes a local stand-in for it.
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

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
 && npm prune --omit=dev \
 && mkdir -p /data

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=8080 \
    TW_DATA_DIR=/var/lib/tw-webhooks
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The embedded store's home, owned by the runtime user (mount a volume here to keep data).
COPY --from=build --chown=65532:65532 /data /var/lib/tw-webhooks
USER 65532:65532
EXPOSE 8080
# Exec form: node is PID 1 and receives SIGTERM itself; the service drains in-flight requests and exits 0.
CMD ["node", "dist/main.js"]
