# Two commands do all set-up on a fresh machine: `make serve` and `make test`.
# Every install comes from the lock files in requirements/ (see requirements/README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Bytecode for mockbay's modules, which an installed package has (pip and the Dockerfile compile
# theirs). Where PYTHONDONTWRITEBYTECODE is set, as in many CI images and containers, Python would
# otherwise compile every module from source on each start: `mockbay serve` took 1.85x the bare
# aiohttp server's start to first reply without it, ~1.35x with it. Only changed modules are
# compiled again (0.1 s when none are), so `serve` and `test` run it each time. The same goes
# for the code `@dataclass` generates (mockbay/codecache.py): kept, start to first reply went from
# 308-327 to 260-277 ms (medians of alternating starts); checking it is up to date takes ~0.5 s.
BYTECODE := $(BIN)/python -m compileall -q -j 0 mockbay && $(BIN)/python -m mockbay.compile_dataclasses -q
LOCK := uv pip compile pyproject.toml --universal --python-version 3.11 --quiet \
	--custom-compile-command 'make lock'

.PHONY: dist docs-test serve test test-redis redis-server bench-state test-latest lint format lock bench fuzz schema-gen clean browser image-test image-tools

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11, 3.12 or 3.13"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements/dev.lock
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BYTECODE)
	@touch $(STAMP)

serve: $(STAMP)
	@$(BYTECODE)
	$(BIN)/mockbay serve --scenarios scenarios --fallback generate

# worksteal: a worker that runs out of tests takes some from the other's queue. With the default
# (load), the tests already sent to one worker stay there: one ended ~15 s before the other.
XDIST := -n 2 --dist worksteal

test: $(STAMP)
	@$(BYTECODE)
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# The shared-state tests need Debian's redis-server (pinned by the distribution release); without
# it they are skipped. This installs it (as root, or through sudo) and runs them.
REDIS_SERVER := $(shell command -v redis-server 2>/dev/null)
redis-server:
ifeq ($(REDIS_SERVER),)
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq redis-server
endif

test-redis: $(STAMP) redis-server
	$(BIN)/python -m pytest $(XDIST) tests/integration/test_shared_state.py $(PYTEST_ARGS)

# The canary: the suite against the newest release of every dependency, in a venv of its own.
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade -e '.[dev]'
	.venv-latest/bin/python -m pytest $(XDIST) $(PYTEST_ARGS)

# An sdist and a wheel in dist/, checked as PyPI would render their metadata.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# The README's pytest tutorial in a fresh venv: its install line against the wheel, its files, `pytest`.
docs-test: dist
	$(BIN)/python -m tests.tutorial_in_fresh_venv

lint: $(STAMP)
	$(BIN)/ruff format --check mockbay tests bench examples container tools
	$(BIN)/ruff check mockbay tests bench examples container tools
	$(BIN)/mypy mockbay
	$(BIN)/hadolint Dockerfile

format: $(STAMP)
	$(BIN)/ruff format mockbay tests bench examples container tools
	$(BIN)/ruff check --fix mockbay tests bench examples container tools

# Refresh the locks from pyproject.toml's ranges (newest versions that fit).
lock: $(STAMP)
	PATH=$(BIN):$$PATH $(LOCK) --extra metrics --extra redis -o requirements/serve.lock
	PATH=$(BIN):$$PATH $(LOCK) --extra dev -o requirements/dev.lock

# Build the image and check it from the host (docker, else podman + runc + a debootstrap base
# cached in ~/.cache/mockbay-image); minutes the first time, about a minute after. Not in `test`.
image-test: $(STAMP) image-tools
	$(BIN)/python container/image_check.py

# Where no Docker engine answers, image-test's tools: Debian's podman, runc and debootstrap (pinned
# by the distribution release), installed only when one is missing, as root or through sudo.
IMAGE_TOOLS := podman runc debootstrap
image-tools:
	@docker info >/dev/null 2>&1 && exit 0; \
	missing=$$(for tool in $(IMAGE_TOOLS); do PATH=$$PATH:/usr/sbin:/sbin command -v $$tool >/dev/null || printf '%s ' $$tool; done); \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then as=; elif command -v sudo >/dev/null; then as=sudo; \
	else echo "image-tools: no Docker engine and $${missing}missing; run as root or install sudo"; exit 1; fi; \
	command -v apt-get >/dev/null || { echo "image-tools: no Docker engine and $${missing}missing, and no apt-get to install them"; exit 1; }; \
	echo "image-tools: installing $(IMAGE_TOOLS) with apt-get ($${missing}missing)"; \
	$$as apt-get update -qq && $$as env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(IMAGE_TOOLS) >/dev/null \
		|| { echo "image-tools: apt-get could not install $(IMAGE_TOOLS) (see above)"; exit 1; }

# Debian's Chromium and its WebDriver, for the inspector page's browser test (skipped without them).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		chromium --version; \
	else \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

# Regenerate mockbay/wire/request_schema.json from the installed anthropic SDK's request types.
schema-gen: $(STAMP)
	$(BIN)/python tools/gen_request_schema.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The raw-socket load fuzzer (bench/fuzz.py): a warm-up, then 60 s of hostile traffic on loopback;
# writes bench/results/fuzz.json, exits 1 when a figure misses its bar. FUZZ_ARGS=--seconds 20 etc.
FUZZ_ARGS ?=
fuzz: $(STAMP)
	cd bench && ../$(BIN)/python fuzz.py $(FUZZ_ARGS)

# Three replicas on one Redis against one in-memory process (bench/shared_state.py).
bench-state: $(STAMP)
	$(BIN)/python bench/shared_state.py

clean:
	rm -rf $(VENV) .venv-latest build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache
