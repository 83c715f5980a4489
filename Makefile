# level5 — every entry point a developer, CI or a user needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
BENCH_IMAGE ?= level5.local/sandbox:bench
# The embedded local model's server (cluster/local-model.sh): host and port of `make model-up`.
MODEL_HOST ?= 127.0.0.1
MODEL_PORT ?= 18091
# make eval-classifier: the corpus halves it measures, and a classifier endpoint (unset: the local model).
SPLITS ?= heldout7
CLASSIFIER_URL ?=
CLASSIFIER_MODEL ?= guard
PY := $(VENV)/bin/python
# The interpreter the venv is made from: the operator image's own, Debian bookworm's python3 (the image is a
# bookworm rootfs, cluster/operator-image.sh; the Dockerfile's base is bookworm too), whenever this machine
# has it with its venv module and C headers (`make deps` installs them). Debian builds it with profile-guided
# optimisation and LTO, linked statically; a pyenv or source build without --enable-optimizations (the
# first python3 on PATH of some machines) runs layer 5's redaction about a tenth slower, so `make bench`
# and the tests would measure an interpreter the operator never runs. Otherwise python3 from PATH.
VENV_PYTHON ?= $(shell /usr/bin/python3 -c 'import ensurepip, os, sysconfig; \
	assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null \
	&& echo /usr/bin/python3 || echo python3)
CLUSTER := cluster
APT_PACKAGES := containerd runc containernetworking-plugins umoci debootstrap nftables iptables iproute2 \
	openssl conntrack socat gcc libc6-dev curl ca-certificates python3-venv python3-dev
# Installed without their Recommends: prometheus (the end-to-end test's real Prometheus, run as a host
# process) would otherwise bring a node exporter daemon.
APT_PACKAGES_NO_RECOMMENDS := prometheus

.PHONY: help deps venv compiled build chart-tools cluster-up cluster-down cluster-status cluster-env images base-images \
	sandbox-image operator-image \
	crds corpora review-allowlist lint typecheck unit test-cluster test chaos demo eval-safety eval-classifier semantic-weights postal-weights bench clean \
	model model-up model-down bench-agent

help: ## List the targets with one-line descriptions
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install the Debian packages the local cluster and the venv need (apt-get; needs root)
	@set -e; missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	lean=$$(for p in $(APT_PACKAGES_NO_RECOMMENDS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing$$lean" ]; then \
		echo "[level5] installing: $$missing $$lean"; \
		apt-get update -qq; \
	fi; \
	if [ -n "$$missing" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	if [ -n "$$lean" ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$lean >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	$(VENV_PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

venv: compiled ## Create the Python virtualenv with level5 and its dev tools

# (level5.safety refuses to import while a compiled module is older than its source: then they are rebuilt.)
compiled: $(VENV)/.installed ## Rebuild layer 5's compiled modules (setup.py) in place when a source changed
	@$(PY) -c 'import level5.safety' 2>/dev/null || $(PY) setup.py -q build_ext --inplace

build: deps ## Build the cluster binaries from Go module sources (cached by version)
	bash $(CLUSTER)/build.sh all

chart-tools: ## Build helm and kube-score (the chart tests' tools) from Go module sources (cached by version)
	bash $(CLUSTER)/build.sh chart-tools

cluster-up: deps venv ## Start the local single-node Kubernetes cluster (gVisor, NetworkPolicy, syscall monitor); builds if needed
	bash $(CLUSTER)/up.sh

cluster-down: ## Stop the local cluster and remove every process, mount and network change it made
	bash $(CLUSTER)/down.sh

cluster-status: ## Show which cluster components are running and the node's state
	bash $(CLUSTER)/status.sh

cluster-env: ## Print exports for the cluster: eval "$(make -s cluster-env)"
	@bash $(CLUSTER)/env.sh

images: sandbox-image operator-image ## Build the sandbox and operator images without Docker; import them into the running cluster

base-images: deps ## Build the pause and sandbox base images, Python's and JavaScript's (debootstrap + umoci, npm ci)
	bash $(CLUSTER)/images.sh build

sandbox-image: base-images ## Build the sandbox runner images (SANDBOX_LANGUAGES, default both) and import them
	bash sandbox-image/build.sh $(SANDBOX_LANGUAGES)

operator-image: deps venv ## Build the operator image (cached layers) and import it into the running cluster
	bash $(CLUSTER)/operator-image.sh

crds: venv ## Regenerate crds/*.yaml from the pydantic models and copy them into the Helm chart
	$(PY) -m level5.api.crdgen
	rm -f charts/level5/crds/*.level5.dev.yaml && cp crds/*.yaml charts/level5/crds/

review-allowlist: venv ## Regenerate the review's API allow-list from the sandbox image's numpy, pandas and Python
	$(PY) -m level5.safety.review.apigen

lint: venv ## ruff, and the package's layers (import-linter contracts in pyproject.toml)
	$(VENV)/bin/ruff check operator tests bench
	cd operator && ../$(VENV)/bin/lint-imports --config ../pyproject.toml

typecheck: venv ## mypy (strict)
	$(VENV)/bin/mypy

# The unit tests need no cluster and share nothing, so they run on every core (pytest-xdist): half the time
# on 2 cores. The cluster tests run one at a time: they share the one node and time its pods.
UNIT_TESTS = $(VENV)/bin/pytest -q -n auto -m "not cluster" tests

unit: venv chart-tools ## Unit tests on every core (no cluster needed; the chart tests use helm and kube-score)
	$(UNIT_TESTS)

test-cluster: venv ## Tests against the local cluster (brings it up if needed)
	@bash $(CLUSTER)/status.sh >/dev/null 2>&1 || $(MAKE) cluster-up
	$(MAKE) images
	@eval "$$(bash $(CLUSTER)/env.sh)" && $(VENV)/bin/pytest -q -m cluster tests

chaos: venv ## Fault injection on the local cluster (operator SIGKILL/SIGSTOP, model faults, pods deleted/evicted, API cut off, audit disk full); prints a table (also part of make test)
	@bash $(CLUSTER)/status.sh >/dev/null 2>&1 || $(MAKE) cluster-up
	$(MAKE) images
	@eval "$$(bash $(CLUSTER)/env.sh)" && $(VENV)/bin/pytest -q -m cluster tests/cluster/test_chaos.py tests/cluster/test_durable_audit.py \
		tests/cluster/test_standby.py

test: deps venv lint typecheck chart-tools ## Everything CI runs: lint, types, unit tests, then cluster tests on a real cluster
	$(UNIT_TESTS)
	$(MAKE) test-cluster

demo: deps venv chart-tools ## The main job: cluster up, images, the operator installed with Helm, the CSV task through the whole loop (the embedded real model, OPENAI_API_KEY's, or LEVEL5_DEMO_MODEL=scripted)
	@[[ -n "$$OPENAI_API_KEY" || "$$LEVEL5_DEMO_MODEL" == scripted ]] || $(MAKE) -s model
	bash demo/run.sh

model: ## Install the embedded local model once (the xllamacpp server wheel and the weights, hash-pinned; cached in ~/.cache/level5/model)
	bash $(CLUSTER)/local-model.sh prepare

model-up: model ## Serve the local model (OpenAI-compatible) at MODEL_HOST:MODEL_PORT (default 127.0.0.1:18091)
	bash $(CLUSTER)/local-model.sh up $(MODEL_HOST) $(MODEL_PORT)

model-down: ## Stop the local model server started by model-up on MODEL_PORT
	bash $(CLUSTER)/local-model.sh down $(MODEL_PORT)

corpora: venv ## Regenerate the generated corpora (tests/corpora/redaction) and layer 5's first names, with Faker; unit tests fail on drift
	$(PY) tests/corpora/redaction_corpus.py
	$(PY) tests/corpora/first_names.py

eval-safety: venv ## Print the safety layers' detection and false-positive rates on the corpora
	$(VENV)/bin/level5 eval-safety

postal-weights: venv ## Refit layer 5's postal-address model on made-up program output (operator/level5/safety/data/postal_weights.json); a unit test fails on drift
	$(PY) tests/corpora/postal_training.py
	$(PY) -m level5.tools.postal_train

semantic-weights: venv ## Refit the embedded injection classifier on the corpus's tuning halves (operator/level5/model/data/semantic_weights.json); a unit test fails on drift
	$(PY) -m level5.tools.semantic_train

eval-classifier: venv ## Layer 1 on the corpus halves in SPLITS (default heldout7), without and with a classifier endpoint: CLASSIFIER_URL and CLASSIFIER_MODEL, or the local model (started and stopped on port 18093)
	@# The local model is installed only when it is the classifier (a given URL needs none of its 1.1 GB).
	@if [ -n "$(CLASSIFIER_URL)" ]; then \
		$(VENV)/bin/level5 eval-classifier --url "$(CLASSIFIER_URL)" --model "$(CLASSIFIER_MODEL)" --splits "$(SPLITS)"; \
	else \
		$(MAKE) -s model && bash $(CLUSTER)/local-model.sh up 127.0.0.1 18093 >/dev/null && \
		trap 'bash $(CLUSTER)/local-model.sh down 18093 >/dev/null' EXIT && \
		$(VENV)/bin/level5 eval-classifier --url "$$(bash $(CLUSTER)/local-model.sh url 127.0.0.1 18093)" \
			--model "$$(bash $(CLUSTER)/local-model.sh name)" --splits "$(SPLITS)"; \
	fi

bench: venv ## Measure iteration latency, overhead, API calls, throughput, review and redaction speed on the local cluster (not part of make test)
	@bash $(CLUSTER)/status.sh >/dev/null 2>&1 || $(MAKE) cluster-up
	@# The runner measured is this checkout's, in an image of its own tag (the shared :dev one is left alone).
	$(MAKE) -s sandbox-image LEVEL5_SANDBOX_IMAGE=$(BENCH_IMAGE) SANDBOX_LANGUAGES=python >/dev/null
	@# The CRDs are applied only when missing: on a shared cluster another checkout's may be newer.
	@# BENCH_BASELINE=<git revision>: that revision's operator and runner, its samples interleaved with ours.
	@set -e; baseline=; if [ -n "$(BENCH_BASELINE)" ]; then \
		dir=$$(mktemp -d); git archive "$(BENCH_BASELINE)" operator sandbox-image cluster | tar -x -C "$$dir"; \
		LEVEL5_SANDBOX_IMAGE=level5.local/sandbox:bench-base bash "$$dir/sandbox-image/build.sh" >/dev/null; \
		baseline="--baseline-pythonpath $$dir/operator --baseline-image level5.local/sandbox:bench-base"; fi; \
	eval "$$(bash $(CLUSTER)/env.sh)" && { kubectl get crd agenttasks.level5.dev >/dev/null 2>&1 || kubectl apply -f crds/ >/dev/null; } \
		&& LEVEL5_SANDBOX_IMAGE=$(BENCH_IMAGE) timeout 1500 $(PY) bench/bench.py $$baseline $(BENCH_ARGS)

bench-agent: venv model ## The agent benchmark: 33 tasks through the real operator with the local model; solved at 1, after refinement, tokens, review (not part of make test)
	@bash $(CLUSTER)/status.sh >/dev/null 2>&1 || $(MAKE) cluster-up
	@eval "$$(bash $(CLUSTER)/env.sh)" && { kubectl get crd agenttasks.level5.dev >/dev/null 2>&1 || kubectl apply -f crds/ >/dev/null; } \
		&& $(PY) bench/agent_bench.py $(BENCH_AGENT_ARGS)

clean: ## Remove the virtualenv, Python caches and the compiled modules (cluster caches stay in ~/.cache/level5)
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build operator/level5/safety/*.so
