# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall whenever pyproject.toml changes (the stamp is named after its hash).
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)
export NUMBA_CACHE_DIR ?= $(CURDIR)/.venv/numba-cache

.PHONY: install test test-fast soak demo bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# One resolver run for every extra: mediapipe/protobuf/opencv break when installed piecemeal.
	$(BIN)/python -m pip install -q -e '.[all]'
	$(BIN)/python -m pip check
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

test: install
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not heavy and not e2e"

# The sync soak: 1,000 randomized fault schedules (a new seed each run; SOAK_SEED=N reproduces one).
SOAK_SCHEDULES ?= 1000
soak: install
	SOAK_SCHEDULES=$(SOAK_SCHEDULES) SOAK_SEED=$${SOAK_SEED:-$$(date +%s)} $(BIN)/pytest tests/sync/test_soak.py -q --timeout 7200

demo: install
	$(BIN)/healthsync demo

bench: install
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
