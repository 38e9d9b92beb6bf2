# syntax=docker/dockerfile:1
# The operator's image: one bundled JavaScript file (dist/main.js, src/ and the
# packages it imports, built by esbuild: hack/build.ts), not the TypeScript
# sources and no node_modules. Bundled, Node holds only the code the operator
# reaches: `node dist/main.js --help` peaks at 102 MB of RSS against 156
# MB for tsc's one file per source with node_modules beside it, and 182 MB for
# the sources themselves (docs/operating.md, "The image").
# Build: docker build -t ghcr.io/wecom-syncer/wecom-syncer:0.1.0 .
# The base is pinned to the same Node as the project's toolchain (Makefile:
# 24.21.0); pin it by digest too (node:24.21.0-bookworm-slim@sha256:...) where
# your registry policy asks for it.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# Bundle src/ into dist/main.js with the lockfile's esbuild (a dev dependency,
# so all dependencies here; none of this stage reaches the image but dist/).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY hack/build.ts ./hack/
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# package.json for the version the operator reports; the bundle carries every package it runs.
COPY package.json ./
COPY --from=build /app/dist ./dist
# Numeric, so that runAsNonRoot can verify it; the files stay root-owned and read-only to it.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/main.js"]
