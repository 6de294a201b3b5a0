# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
export FLASK_APP := wsgi

.PHONY: run test test-postgres test-tools lint format install fonts translations messages db seed clean

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

install: $(STAMP) fonts

# PDF reports draw Chinese with a TrueType CJK font (app/kpis/fonts.py); as root on Debian,
# install WenQuanYi Micro Hei when no such font is there, else say what is missing.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
fonts:
	@test -f $(CJK_FONT) -o -n "$$REPORT_FONT_PATH" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -q fonts-wqy-microhei || \
	     (apt-get update -q && apt-get install -y -q fonts-wqy-microhei)) >/dev/null; \
	  else echo "PDF reports need a CJK TrueType font: apt-get install fonts-wqy-microhei" \
	    "or set REPORT_FONT_PATH"; fi; }

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

# What the tests drive besides Python: Debian's Chromium (pages, WebRTC calls), a CJK font
# (screenshots, PDF reports) and poppler-utils (pdftotext reads the reports back). As root on
# Debian they are installed when missing; elsewhere the command says what to install.
TEST_TOOLS := /usr/bin/chromium /usr/bin/pdftotext $(CJK_FONT)
test-tools:
	@missing=""; for f in $(TEST_TOOLS); do test -e $$f || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	      chromium fonts-wqy-microhei poppler-utils >/dev/null; \
	  else echo "the tests need:$$missing (apt-get install chromium fonts-wqy-microhei" \
	    "poppler-utils)"; [ -z "$$CI" ] || exit 1; fi; fi

test: install translations lint test-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL (CI runs both); needs a server at TEST_DATABASE_URL.
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# Tests marked `media` run their live servers on SQLite files whatever the database, so they
# run once, in `make test`.
test-postgres: install translations test-tools
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -m "not media" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
