# Two commands matter: `make test` (set up, then run the whole suite) and, once the web
# platform lands, `make run`. Everything else here is a step they depend on.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test setup fonts data lint clean

test: setup fonts
	$(BIN)/python -m pytest

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Handwriting fonts for synthetic lines, from the npm registry (pinned, hash-checked).
fonts: setup
	$(BIN)/python -m ml.synth fonts

# Training and test manifests from the shared real data (see ml/weights/README.md).
data: setup fonts
	$(BIN)/python -m ml.prepare --data ../shared/data --out .cache/data
	$(BIN)/python -m ml.synth render --split test --count 1000 --seed 2026 --out .cache/data/synth-test
	$(BIN)/python -m ml.synth pages --split test --count 30 --seed 7 --out .cache/data/synth-pages

lint: setup
	$(BIN)/ruff check ml tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
