# recommerce — a newcomer needs two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "recommerce needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## .venv with the project and its development tools (idempotent)

demo: install  ## central and 3 store nodes on SQLite, with the simulator at a human pace (Ctrl-C stops)
	$(BIN)/recommerce demo --data-dir var/demo

test: install  ## the whole suite (PostgreSQL too when RECOMMERCE_TEST_DATABASE_URL is set), on 2 workers
	$(BIN)/python -m pytest -n 2

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

bench: install  ## performance figures as JSON (filled as the benchmarks arrive)
	$(BIN)/recommerce bench --json var/bench.json

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .hypothesis
