# c1m-lab. `make lab-up` runs the main experiment; `make test` proves behaviour; `make help` lists all.
SHELL := /bin/bash
BUILD ?= build
BUILD_ASAN ?= build-asan
C1M := $(BUILD)/c1m
JOBS ?= $(shell nproc)
# Whichever compose this host has: Docker's v2 plugin, or the v1 tool (Debian's docker-compose).
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
export COMPOSE

.PHONY: help setup build build-asan format fuzz test test-unit test-integration test-asan test-lab bench-native bench-lab bench-tls doctor host-tune lab-collect \
        images target-image bench-targets lab-up lab-down lab-status swarm-up swarm-down swarm-status bench-swarm run-srv run-cli clean ci-bench gate-trials soak

help:
	@echo "make setup         install build and test dependencies (Debian packages; idempotent)"
	@echo "make build         build $(C1M) (static)"
	@echo "make test          unit + integration tests, again under ASan/UBSan, and the lab at small scale"
	@echo "make doctor        can this host hold the run? (N=1000000)"
	@echo "make host-tune     apply the host sysctls the run needs (root; says each change)"
	@echo "make lab-up        images, network, containers, the default experiment, a record in results/"
	@echo "                   (TARGET=IMAGE PROTOCOL=redis|http|mqtt|websocket|raw [TARGET_PORT=] [FIND_LIMIT=1]: your server instead)"
	@echo "                   (TLS=1 [TLS_HELD=library] [TLS_RESUME=1]: every connection over TLS 1.3)"
	@echo "make target-image  a FROM-scratch image of a Debian-packaged server for TARGET= (SERVER=redis|nginx|mosquitto|haproxy|websockets, or BIN= PORT=)"
	@echo "make lab-status    what runs in the lab and how many connections each holds"
	@echo "make lab-down      remove the lab: containers, network, veth"
	@echo "make swarm-up      the lab as a Docker Swarm stack (C1M_SWARM_NODES=file; without it a two-node swarm here)"
	@echo "make swarm-status  the swarm's nodes, the stack's services, the server's count"
	@echo "make swarm-down    remove the stack, its networks and labels (and here, the second engine)"
	@echo "make bench-swarm   1M through the two-node swarm here beside the compose lab's 1M (a ratio)"
	@echo "make bench-native  both approaches at 1M on loopback, beside the floor probe"
	@echo "make bench-lab     both approaches at 1M in the container lab"
	@echo "make bench-tls     N=1000000 TLS 1.3 connections on loopback, both ends here, beside the crypto and live floors"
	@echo "make bench-targets redis, mosquitto and nginx in the lab at up to N=1000000 or their limit, beside the live floor"
	@echo "make fuzz          libFuzzer over the record reader, merge, collector, compare, plot, units, endpoints, HTTP heads, replies (FUZZ_TIME=180 s each)"
	@echo "make soak          the collector under 50 participants x 20 runs, SIGKILLs and hostile peers: every 2xx on disk once"
	@echo "make ci-bench      what a CI job runs: both approaches at N=20000, 5 runs each, against results/baselines/<host>/"
	@echo "                   (BASE_REF=origin/main: against that build, run here interleaved; exit 1 on a regression)"
	@echo "make gate-trials   how far this runner's ci-bench gate can be trusted: same-code and planted-slowdown trials"
	@echo "make run-srv / run-cli   the article's names: a native server / client on loopback"

setup:
	@lab/setup.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD_ASAN)/build.ninja:
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DC1M_SANITIZE=ON

build-asan: setup $(BUILD_ASAN)/build.ninja
	cmake --build $(BUILD_ASAN) -j $(JOBS)

test-unit: build
	ctest --test-dir $(BUILD) --output-on-failure -L unit

test-integration: build
	ctest --test-dir $(BUILD) --output-on-failure -L integration

test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(BUILD_ASAN) --output-on-failure

test-lab: build
	@COMPOSE=docker-compose tests/lab/lab_test.sh
	@COMPOSE="docker compose" tests/lab/lab_test.sh
	@tests/lab/target_test.sh
	@tests/lab/tls_test.sh
	@tests/lab/ci_bench_test.sh
	@tests/lab/host_limit_test.sh
	@tests/lab/swarm_test.sh

test: test-unit test-integration test-asan test-lab

# libFuzzer over every target, FUZZ_TIME seconds each (default 180); not part of make test, which
# replays the kept corpus instead.
fuzz: setup
	@tests/fuzz/run.sh

# Rewrites every C++ file as .clang-format says (make test checks it).
format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

doctor: build
	@$(C1M) doctor --connections $${N:-1000000} --both-ends-here

host-tune: build
	@$(C1M) host-tune --connections $${N:-1000000} --both-ends-here

bench-native: build
	@lab/bench-native.sh

run-srv: build
	$(C1M) server --listen 127.0.0.1:9000-9019 --expect $${N:-100000} --admin 127.0.0.1:9100 --duration $${DURATION:-10m}

run-cli: build
	$(C1M) client --target 127.0.0.1:9000-9019 --source 127.0.0.2 --connections $${N:-100000} --hold $${HOLD:-30s} \
	  --server-stats 127.0.0.1:9100 --json results/$$(date -u +%Y%m%dT%H%M%SZ)-run-cli.json

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)

images: build
	@lab/lab.sh images

target-image: setup
	@lab/target-image.sh

lab-up: build
	@lab/lab.sh up

lab-down:
	@lab/lab.sh down

lab-status:
	@lab/lab.sh status

swarm-up: build
	@lab/swarm.sh up

swarm-down:
	@lab/swarm.sh down

swarm-status:
	@lab/swarm.sh status

lab-collect: build
	@lab/lab.sh collect $(DIR)

bench-lab: build
	@lab/bench-lab.sh

bench-tls: build
	@lab/bench-tls.sh

bench-swarm: build
	@lab/bench-swarm.sh

bench-targets: build
	@lab/bench-targets.sh

ci-bench: build
	@lab/ci-bench.sh

gate-trials: build
	@lab/gate-trials.sh

soak: build
	@python3 tests/soak/collector_soak.py $(C1M) --runs $${RUNS:-20} --clients $${CLIENTS:-50} --kills $${KILLS:-10}
