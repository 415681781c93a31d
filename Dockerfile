# syntax=docker/dockerfile:1
# CDF promotion worker: Node 20 (Temporal TypeScript SDK, glibc build of the native core) + the Cognite Toolkit
# (`cdf`) in a Python virtualenv + git. Build:  docker build -t cdf-promotion-worker .
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript, bundle the workflows, drop dev dependencies -----------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# Production code only: the fake CDF (fakes/), scripts/, tests and examples never enter the image.
COPY contracts ./contracts
COPY config/*.ts ./config/
COPY artifacts ./artifacts
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
# tsc -> dist/, then dist/workflow-bundle.js so the worker starts without webpack.
RUN npm run build && npm prune --omit=dev

# ---- runtime ------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# The prebuilt Toolkit versions: the same list as scripts/versions.env (test/static/docker-compose.test.ts keeps
# them equal). Repositories pin theirs in cdf.toml; other versions are installed on demand into the cache volume.
ARG COGNITE_TOOLKIT_VERSIONS="0.8.271 0.9.28"
# 0.8.x imports authlib without declaring it; pinned beside it as in scripts/versions.env.
ARG AUTHLIB_VERSION=1.9.10

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv git openssh-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

# One virtualenv per version: /opt/toolkits/<version>/bin/cdf (deploy/config/promotion.yaml lists them).
RUN set -e; for v in ${COGNITE_TOOLKIT_VERSIONS}; do \
      python3 -m venv "/opt/toolkits/$v"; \
      extra=""; case "$v" in 0.8.*) extra="authlib==${AUTHLIB_VERSION}";; esac; \
      "/opt/toolkits/$v/bin/pip" install --no-cache-dir --disable-pip-version-check "cognite-toolkit==$v" $extra; \
      "/opt/toolkits/$v/bin/cdf" --version | grep -q "version: $v"; \
    done

WORKDIR /app
COPY --from=build --chown=root:root /app/package.json /app/package-lock.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist

# Data dir (checkouts, build dirs, stored plans) belongs to the non-root user; a new named volume mounted there
# inherits this ownership. The config file is mounted read-only into /etc/cdf-promotion.
RUN mkdir -p /var/lib/cdf-promotion/toolkits /etc/cdf-promotion \
 && chown -R node:node /var/lib/cdf-promotion

# MALLOC_ARENA_MAX and NODE_OPTIONS: see WORKER_PROCESS_ENV in config/defaults.ts (two malloc arenas and a small
# young generation: a worker with parked runs holds far less memory).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    NODE_OPTIONS=--max-semi-space-size=2 \
    CDF_PROMOTION_CONFIG=/etc/cdf-promotion/promotion.yaml \
    HOME=/home/node
# The official node image's unprivileged user (uid/gid 1000).
USER node
VOLUME ["/var/lib/cdf-promotion"]

# tini forwards SIGTERM so the worker shuts down gracefully (in-flight activities are retried by the next worker).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/worker/main.js"]
