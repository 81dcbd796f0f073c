# lumagate: the two commands a newcomer needs.
#   make run   install into .venv and start the gateway (SQLite, local media, sandbox provider)
#   make test  install with the dev tools and run lint, types and the whole test suite
#   make bench the benchmark of record (ARGS=--quick for a short run; not part of make test)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Test workers (pytest-xdist): 3 on a 2-core machine, because many tests wait on servers they start
# (with 2 the cores idled ~40 % of the run; 6 m 38 s with 3, 6 m 42 s with 4); `make test TEST_WORKERS=0` runs serially.
TEST_WORKERS ?= 3

.PHONY: run test lint install bench

# uv (pinned) installs the project and its ~120 dependencies: 37 s on a fresh 2-core machine where
# pip took 80 s, the same versions; pip stays in the venv (the image is built with pip, and
# tests/acceptance/test_deploy.py installs with it). --compile-bytecode, as pip does: without it
# every process the suite starts compiled its dependencies from source (16 s of the 37).
UV_VERSION := 0.13.9

$(BIN)/lumagate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev]"
	touch $@

install: $(BIN)/lumagate

run: install
	$(BIN)/lumagate serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Bytecode first: the shell may set PYTHONDONTWRITEBYTECODE (this workplace's machines do), and
# every gateway, sim and CLI process the suite starts would otherwise compile ~250 modules from
# source (16-18 % of a start-up's work); an installed wheel or the image has bytecode already.
test: lint
	$(BIN)/python -m compileall -q -j 0 src tests bench
	$(BIN)/pytest -p no:cacheprovider -q -ra -n $(TEST_WORKERS) --dist loadscope --durations=25

bench: install
	$(BIN)/python -m bench $(ARGS)
