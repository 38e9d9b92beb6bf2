# syntax=docker/dockerfile:1
# The operator's image: tsc-compiled JavaScript (dist/), not the TypeScript
# sources. Measured on `node … --help` (which loads every module), compiled JS
# starts sooner and ships less code than Node 24 type-stripping src/ — see
# docs/operating.md, "The image", for the numbers — so there is a build stage.
# Build: docker build -t ghcr.io/wecom-syncer/wecom-syncer:0.1.0 .
# The base is pinned to the same Node as the project's toolchain (Makefile:
# 24.21.0); pin it by digest too (node:24.21.0-bookworm-slim@sha256:...) where
# your registry policy asks for it.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# Compile src/ to dist/ with the lockfile's TypeScript (a dev dependency, so
# all dependencies here; none of this stage reaches the image but dist/).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

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
COPY --from=build /app/dist ./dist
# Numeric, so that runAsNonRoot can verify it; the files stay root-owned and read-only to it.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/main.js"]
