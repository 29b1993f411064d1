# `make run` and `make test` create .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint unit clean translations messages

LOCALE := src/sfs/web/portal/locale

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: translations
	$(BIN)/sfs serve

# The .mo files are built here for a work tree, never committed; a wheel gets them from
# build_support/catalogues.py (the build hook named in pyproject.toml).
translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -D messages -d $(LOCALE)

# After changing texts: re-extract, then translate what `pybabel update` marks new or fuzzy.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --width 100 \
		--project="Secure File Sync" -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel update --width 100 --ignore-obsolete -D messages -i $(LOCALE)/messages.pot \
		-d $(LOCALE)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: translations lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
