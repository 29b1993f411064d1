# `make run` and `make test` create .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# `make install` puts `sfs` on PATH: a symlink in PREFIX/bin (~/.local/bin by default) to the
# one in .venv, so the command keeps working as the checkout is updated.
PREFIX ?= $(HOME)/.local

.PHONY: run test lint unit clean translations messages install uninstall

LOCALE := src/sfs/web/portal/locale

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Order-only: an existing .venv is linked as it is, never reinstalled by this target.
install: | $(STAMP)
	mkdir -p $(PREFIX)/bin
	ln -sfn $(abspath $(BIN))/sfs $(PREFIX)/bin/sfs
	@echo "Installed $(PREFIX)/bin/sfs -> $(abspath $(BIN))/sfs"
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; \
	  *) echo "$(PREFIX)/bin is not on your PATH: add it (export PATH=\"$(PREFIX)/bin:\$$PATH\")";; esac

uninstall:
	rm -f $(PREFIX)/bin/sfs

run: translations
	$(BIN)/sfs serve

# The .mo files are built here for a work tree, never committed; a wheel gets them from
# build_support/catalogues.py (the build hook named in pyproject.toml).
translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -D messages -d $(LOCALE)

# After changing texts: re-extract, then translate what `pybabel update` marks new or fuzzy.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --width 100 \
		-k plural_message:1,2 --project="Secure File Sync" -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel update --width 100 --ignore-obsolete -D messages -i $(LOCALE)/messages.pot \
		-d $(LOCALE)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Two worker processes: most tests wait on servers, browsers and clients, so even two cores
# finish the suite in about half the time. TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 2

test: translations lint
	$(BIN)/pytest -n $(TEST_WORKERS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
