# Two commands matter: `make run` (set up, then serve the site with a worker) and `make test`
# (set up, then run the whole suite). Everything else here is a step they depend on.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

PORT ?= 8000
SECRET := var/secret-key
MANAGE := NOTES_SECRET_KEY_FILE=$(SECRET) $(BIN)/python manage.py
STATIC_STAMP := $(or $(NOTES_DATA_DIR),var)/static/.collected

.PHONY: run test setup db fonts data bench-peers lint clean

# SQLite, the ORM broker and local media under var/ unless .env or the environment say otherwise.
# The fonts are the replay lines of personal models' fine-tunes (NOTES_FONTS_DIR).
run: setup db fonts
	NOTES_SECRET_KEY_FILE=$(SECRET) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -p $(PORT)

db: setup $(SECRET) $(STATIC_STAMP)
	$(MANAGE) migrate --no-input
	$(MANAGE) createcachetable

# collectstatic takes a minute or more, so it runs only when something it gathers changed since
# its last run: a file under static/ (the folders are listed too: a deleted file changes its
# folder's time) or the installed packages (the admin's and Swagger UI's files). The stamp lies
# inside STATIC_ROOT (settings.py: NOTES_DATA_DIR/static), so removing that folder redoes it.
$(STATIC_STAMP): $(STAMP) $(SECRET) $(wildcard $(VENV)/lib/python*/site-packages) \
		$(shell find static)
	$(MANAGE) collectstatic --no-input --verbosity 0
	touch $@

# A random key made on this machine, kept out of git (var/ is ignored).
$(SECRET):
	mkdir -p var
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@

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
	$(BIN)/python -m ml.synth render --split test --kind capitals --count 500 --seed 2027 --out .cache/data/synth-capitals
	$(BIN)/python -m ml.synth render --split test --kind modern --count 500 --seed 2028 --out .cache/data/synth-modern
	$(BIN)/python -m ml.synth pages --split test --count 30 --seed 7 --layout notes --out .cache/data/synth-pages

# The page benchmark's peers (bench/page_pipeline.py): PP-OCRv6 (the `bench` extra) in .venv, and
# kraken 7.1.1 in a venv of its own, run through a subprocess: its pinned dependencies
# (lightning, coremltools, scikit-learn, ...) never enter the project's. torch first, the same
# build as .venv's; then torch and torchvision stay pinned while kraken resolves: an unpinned
# torchvision pulls in torch 2.14 from PyPI, a multi-GB CUDA build.
KRAKEN_VENV := .cache/venv-kraken

bench-peers: setup $(KRAKEN_VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'

$(KRAKEN_VENV)/.installed:
	$(PYTHON) -m venv $(KRAKEN_VENV)
	$(KRAKEN_VENV)/bin/pip install --quiet --upgrade pip
	$(KRAKEN_VENV)/bin/pip install --quiet torch==2.13.0
	$(KRAKEN_VENV)/bin/pip install --quiet kraken==7.1.1 torch==2.13.0 torchvision==0.28.0
	touch $@

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache var/static
