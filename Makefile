# Faultline's entry points. `make demo` and `make test` are the README's first two commands.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CLUSTER := e2e/cluster/cluster.sh
BUILD := e2e/cluster/build.sh
# Build outputs live outside the checkout, one directory per checkout path: sharing one across
# clones let Cargo judge a clone's sources fresh against another clone's newer build, and package a
# stale binary (see e2e/cluster/README.md).
export CARGO_TARGET_DIR ?= /var/cache/faultline/cargo-target/$(notdir $(CURDIR))-$(shell printf %s "$(CURDIR)" | sha256sum | cut -c1-8)

.PHONY: help deps faultline-bin build generate lint unit test e2e examples smoke operator-e2e cli-e2e revert-e2e network-e2e resources-e2e cluster-up cluster-down cluster-status \
	tools images image image-pause image-demo image-coredns image-cli dist demo bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

deps: ## install the apt packages the project needs (root)
	@e2e/cluster/deps.sh

faultline-bin: ## print the path of the static faultline binary that `make image` builds
	@echo "$(CARGO_TARGET_DIR)/x86_64-unknown-linux-gnu/release/faultline"

build: ## build the faultline binary
	cargo build --locked

generate: ## regenerate crds/, the chart's and config/'s CRDs from src/api/, the fault RBAC and the admission policies from src/faults/
	cargo run --quiet --locked -- crds > crds/faultline.yaml
	cp crds/faultline.yaml charts/faultline/crds/faultline.yaml
	cp crds/faultline.yaml config/crd/faultline.yaml
	cargo run --quiet --locked -- crds --format markdown > docs/reference.md
	cargo run --quiet --locked -- crds --format fault-rbac-helm > charts/faultline/templates/fault-rbac.yaml
	cargo run --quiet --locked -- crds --format fault-rbac > config/rbac/fault_roles.yaml
	cargo run --quiet --locked -- crds --format admission-policies-helm > charts/faultline/templates/admission-policies.yaml
	cargo run --quiet --locked -- crds --format admission-policies > config/admission/admission_policies.yaml

lint: ## rustfmt and clippy, warnings are errors
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings

unit: ## fast unit tests, no cluster
	cargo test --locked

test: deps lint unit examples smoke operator-e2e cli-e2e revert-e2e network-e2e resources-e2e ## every test tier: lint, unit, docs examples, cluster smoke, operator, CLI, revert, network and container end-to-end

e2e: smoke operator-e2e cli-e2e revert-e2e network-e2e resources-e2e ## end-to-end tiers on the local cluster

examples: deps ## the docs' CI, Argo CD and Flux examples, without a cluster (Lua health checks, YAML, CI scripts)
	e2e/health_check_test.sh

cli-e2e: cluster-up images tools ## the CLI tier: run/get/logs/stop/report/import, exit codes, JUnit, HTML in Chromium
	e2e/cli.sh

revert-e2e: cluster-up images tools ## the revert tier: workload-scale and the node faults on kwok nodes, and every way a revert must survive
	@FAKE_NODES=2 $(CLUSTER) up >/dev/null
	e2e/revert.sh

network-e2e: cluster-up images tools ## the network tier: latency, loss, partition and DNS faults measured by their effect, and their fail-open revert
	e2e/network.sh

resources-e2e: cluster-up images tools ## the container and resource tier: container-kill measured by the restart it causes, the CPU and memory hogs measured in the target container's cgroup, their refusals and fail-safe
	e2e/resources.sh

operator-e2e: cluster-up images tools ## the operator tier (a)-(q): Helm-installed operator (two replicas), real experiments, leader failover
	e2e/operator.sh

bench: cluster-up images tools ## the benchmark tier: measures the operator, the chaos of the chaos tool, the network and the resource faults, and the operator at scale (5,000 pods, 1,000 experiments); writes bench/results/ and docs/benchmarks.md
	bench/run.sh
	bench/revert-chaos.sh
	bench/network.sh
	bench/resources.sh
	bench/scale.sh

smoke: cluster-up images ## the cluster smoke tier (brings the cluster up if needed)
	e2e/smoke.sh

cluster-up: deps ## start the local cluster (idempotent); FAKE_NODES=N adds kwok nodes
	@$(CLUSTER) up

cluster-down: ## stop the local cluster and remove every trace of it
	@$(CLUSTER) down

cluster-status: ## show the state of each cluster component
	@$(CLUSTER) status

tools: ## build the cluster components into the cache (Kubernetes, etcd, CoreDNS, Helm, kwok)
	@$(BUILD) tools

images: image-pause image-coredns image-demo image image-cli ## build every local image and import it

image: ## build localhost/faultline:<version> (static release binary) and import it
	@$(BUILD) image-faultline && $(CLUSTER) load

image-cli: ## build localhost/faultline-cli:<version>, the CI job image (faultline + busybox sh), and import it
	@$(BUILD) image-cli && $(CLUSTER) load

dist: ## write dist/faultline-<version>-linux-amd64.tar.gz (static binary, LICENSE, README) and dist/SHA256SUMS, and verify them
	@$(BUILD) dist

image-pause: ## build the pause image and import it
	@$(BUILD) image-pause && $(CLUSTER) load

image-coredns: ## build the CoreDNS image and import it
	@$(BUILD) image-coredns && $(CLUSTER) load

image-demo: ## build the demo app image (busybox httpd) and import it
	@$(BUILD) image-demo && $(CLUSTER) load

demo: cluster-up images tools ## the cluster, Faultline via Helm, the demo app and a sample experiment with its score
	@e2e/demo.sh
