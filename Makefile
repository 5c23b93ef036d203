# Two commands on a fresh machine (Python 3.11 and make): `make demo`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench lock docs clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(UV) pip sync --quiet --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

demo: install
	$(BIN)/tonghop demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench

docs: install
	$(BIN)/tonghop docs

# Re-resolve the pins after editing requirements.in (needs only the package registry).
lock: install
	$(UV) pip compile requirements.in --python-version 3.11 --quiet -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache
