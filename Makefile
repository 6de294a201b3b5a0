# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
export FLASK_APP := wsgi

.PHONY: run test test-postgres lint format install translations messages db seed clean

run: install translations db seed
	$(BIN)/flask serve

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
test-postgres: install translations
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
