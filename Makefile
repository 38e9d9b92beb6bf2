# The project's commands. Each installs what it needs first: Node 24 when the
# machine's Node is too old, the npm packages, and the control-plane binaries.

SHELL := /bin/bash
NODE_BIN := $(shell hack/node-bin.sh)
export PATH := $(NODE_BIN):$(PATH)

.PHONY: test demo deps control-plane-binaries typecheck copies clean

## test: type check, unit tests, and tests on a real local control plane
test: deps control-plane-binaries tools
	@node test/run.ts

## demo: the whole product on this machine (Ctrl-C tears it down)
demo: deps control-plane-binaries
	@node hack/demo.ts

## typecheck: tsc over src/, test/, hack/ and bench/
typecheck: deps
	@npx tsc --noEmit -p .

## copies: rewrite the files kept in two places (the chart's crds/ and files/, the PrometheusRule) from their source
copies: deps
	@node hack/copies.ts

deps: node_modules/.package-lock.json

# npm ci only when the lockfile changed since the last install.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

control-plane-binaries: deps
	@node hack/control-plane/cli.ts build

clean:
	rm -rf node_modules .run

.PHONY: tools
# Debian's Lua interpreters, for the test of the Argo CD health check (deploy/argocd/),
# installed only when missing (with sudo when not root); helm and promtool, for the
# tests of the chart and the alerts, built from the Go module proxy and cached.
tools: deps
	@command -v lua5.1 >/dev/null && command -v lua5.4 >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq lua5.1 lua5.4; }
	@node hack/tools/cli.ts build
