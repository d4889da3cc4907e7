# Two commands: `make demo` scans the embedded demo site; `make test` runs the test suite.
# Both set up everything they need (venv, package, Chromium, npm fixtures) and are idempotent.
PYTHON ?= python3
PYTEST_ARGS ?=
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test setup chromium npm postgresql redis bench accuracy clean

demo: setup
	$(BIN)/cookie-scanner demo

test: setup npm postgresql redis
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

setup: $(STAMP) chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

chromium:
	@tools/ensure-chromium.sh

postgresql:
	@tools/ensure-postgresql.sh

redis:
	@tools/ensure-redis.sh

npm: tests/node_modules/.installed

tests/node_modules/.installed: tests/package.json
	npm install --prefix tests --no-audit --no-fund --no-package-lock --loglevel=error
	touch $@

bench: setup
	$(BIN)/python -m pip install -q psutil
	$(BIN)/python bench/run.py

accuracy: setup npm
	$(BIN)/python bench/accuracy.py

clean:
	rm -rf $(VENV) tests/node_modules
