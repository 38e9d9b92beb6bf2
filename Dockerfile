# syntax=docker/dockerfile:1
# The operator's image: Node 24 runs the TypeScript sources directly (type
# stripping), so there is no build step and the image ships src/ as it is in git.
# Build: docker build -t ghcr.io/wecom-syncer/wecom-syncer:0.1.0 .
# The base is pinned to the same Node as the project's toolchain (Makefile:
# 24.21.0); pin it by digest too (node:24.21.0-bookworm-slim@sha256:...) where
# your registry policy asks for it.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# Production dependencies only, from the lockfile, without install scripts.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# Numeric, so that runAsNonRoot can verify it; the files stay root-owned and read-only to it.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "src/main.ts"]
