# Two commands do all set-up on a fresh machine with Python 3.11+:
#   make run    the service: polls config/feeds.toml into data/monitor.db, writes weekly digests
#   make test   the test suite (all of it, as CI runs it, on every core), then mypy
#   make quick  the test suite without the tests marked slow, two workers a core, for everyday work (under a minute)
#   make lint   ruff check and ruff format --check
#   make demo   the whole product, offline, in a minute
#   make docs   the reference in docs/: its generated pages written again, then built as a site in site/
# Each creates .venv and installs the package into it first (again only when pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test quick demo docs bench growth fuzz soak check lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/monitor run

# The tests run on every core (pytest-xdist: every test keeps to its own tmp folder and ephemeral loopback
# ports), then those marked `serial` (a wall-clock bound that other tests' load can break) one at a time.
# Exit status 5 (PYTEST_ARGS such as -k selected no test in one of the two runs) is no failure.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto -m "not serial" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m mypy

# Everything but daemon runs, kill loops, fuzzing and benchmark smoke tests (marker `slow`), as make test runs.
# Two workers a core: most of these tests wait on a local server or a subprocess, not the CPU (990 tests on two
# cores: 80 s with one worker a core, 53 s with two). make test keeps one a core for CI's sake.
quick: $(STAMP)
	$(BIN)/python -m pytest -n $$($(BIN)/python -c "import os; print(2 * (os.cpu_count() or 1))") \
	  -m "not slow and not serial" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m "not slow and serial" $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: $(STAMP)
	$(BIN)/ruff check src tests bench docs
	$(BIN)/ruff format --check src tests bench docs

demo: $(STAMP)
	$(BIN)/monitor demo

# The pages under docs/reference/ are generated from the code (docs/generate.py); tests/test_docs.py checks that
# the committed ones are current and that the site builds. --strict: a broken link or anchor is an error.
docs: $(STAMP)
	$(BIN)/python docs/generate.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir site

# Every benchmark at its default size (minutes); CI runs them tiny, as a smoke test (tests/test_bench.py).
bench: $(STAMP)
	cd bench && ../$(BIN)/python matching.py && ../$(BIN)/python matching.py --samples \
	  && ../$(BIN)/python ingest.py && ../$(BIN)/python ingest.py --samples && ../$(BIN)/python polling.py && ../$(BIN)/python unchanged.py \
	  && ../$(BIN)/python memory.py && ../$(BIN)/python load.py && ../$(BIN)/python scale.py \
	  && ../$(BIN)/python import.py && ../$(BIN)/python import.py --overlap 0.75 && ../$(BIN)/python cleaning.py \
	  && ../$(BIN)/python quality.py && ../$(BIN)/python alerts_replay.py

# Every benchmark at three sizes (about 15 minutes): how the cost per item or feed grows.
growth: $(STAMP)
	cd bench && ../$(BIN)/python growth.py

# The fuzzing properties of tests/test_fuzz.py with fresh random seeds for FUZZ_SECONDS (CI runs them briefly).
FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	cd bench && ../$(BIN)/python fuzz.py --seconds $(FUZZ_SECONDS)

# monitor run against changing local feeds for SOAK_SECONDS; fails on growth of memory, descriptors or threads.
SOAK_SECONDS ?= 300
soak: $(STAMP)
	cd bench && ../$(BIN)/python soak.py --seconds $(SOAK_SECONDS)

check: $(STAMP)
	$(BIN)/monitor check

clean:
	rm -rf $(VENV) build site src/*.egg-info .pytest_cache .mypy_cache .hypothesis
