# LoadGuard: `make run` starts it on the embedded demo defaults, `make test` runs every test.
# Both install what they lack (Debian packages via apt-get, Python packages into .venv).

SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
PY := $(VENV)/bin/python
DEB_PACKAGES := pkg-config libsqlite3-dev libiio-dev libiio-utils iiod libgpiod-dev libmosquitto-dev \
	mosquitto python3-venv util-linux iproute2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/debug/loadguard

.PHONY: run test bench lint deps venv build build-tests unit-tests interop-tests clean

## The main job: LoadGuard on its embedded defaults (simulated meter and inputs, standalone).
run: deps build
	$(BIN) run --config Examples/demo.yaml

## Every test: Swift unit and integration tests, then the interoperability tests.
test: deps venv build-tests
	$(SWIFT) test --skip-build --parallel --num-workers 2
	$(PY) -m pytest -q interop

## Benchmarks, each printing ratios against a baseline measured in the same run.
bench: deps venv
	@dpkg-query -W -f="$${Status}" nginx-light 2>/dev/null | grep -q "ok installed" || (DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx-light)
	cd Benchmarks && $(SWIFT) build -c release
	cd Benchmarks && for b in AllocationBenchmark MeteringBenchmark ProxyBenchmark; do \
		./.build/release/$$b || exit 1; done

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Benchmarks/Sources Package.swift

build:
	$(SWIFT) build

build-tests:
	$(SWIFT) build --build-tests

## Debian packages: installed only when one is missing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

## Python venv for the interoperability tests (the PyPI `ocpp` library as charger and CSMS).
venv: $(VENV)/.installed
$(VENV)/.installed: interop/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r interop/requirements.txt
	touch $@

clean:
	rm -rf .build Benchmarks/.build $(VENV)
