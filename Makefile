# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
export FLASK_APP := wsgi

.PHONY: run test test-postgres lint format install translations messages db seed clean

# `make run SIMULATE=1`: the same, with simulated wearables pushing vitals to the server
# (flask simulate-wearables, docs/WEARABLES.md "Simulator"), stopped with the server.
SIMULATE_ARGS ?= --minutes 0 --backfill 24

run: install translations db seed
ifneq ($(filter 1 yes true,$(SIMULATE)),)
	$(BIN)/flask simulate-wearables $(SIMULATE_ARGS) & simulator=$$!; \
	trap 'kill $$simulator 2>/dev/null; wait $$simulator' EXIT; \
	trap 'exit 130' INT TERM; \
	$(BIN)/flask serve
else
	$(BIN)/flask serve
endif

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

translations: install
	$(BIN)/python -m app.i18n_catalogs compile

messages: install
	$(BIN)/python -m app.i18n_catalogs extract

db: install
	mkdir -p instance
	$(BIN)/flask db upgrade

seed: install
	$(BIN)/flask seed-demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install translations lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL (CI runs both); needs a server at TEST_DATABASE_URL.
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# Tests marked `media` run their live servers on SQLite files whatever the database, so they
# run once, in `make test`.
test-postgres: install translations
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -m "not media" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
