# pixelpress: `make run` to use it, `make test` to test everything. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000

.PHONY: setup runtime fonts model test-data build run lint lint-py lint-js test test-engine test-browser test-server bench clean

setup: $(VENV)/.installed node_modules/.installed .venv-contrib/.installed
	@bash build_scripts/ensure_chromium.sh
	@bash build_scripts/ensure_redis.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet hatchling
	$(PY) -m pip install --quiet -e ".[server,matte,test]"
	touch $@

# OpenCV's own xphoto.oilPainting, only for comparing our oil paint against it.
# It cannot share a venv with opencv-python-headless (both are `cv2`).
.venv-contrib/.installed: $(VENV)/.installed
	$(PY) -m pip install --quiet --target .venv-contrib opencv-contrib-python-headless==4.11.0.86 numpy==2.2.5
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

runtime: $(VENV)/.installed
	$(PY) build_scripts/fetch_runtime.py

# Oswald (SIL OFL) for banners and shirts; the engine falls back to Pillow's font without it.
fonts: $(VENV)/.installed
	$(PY) build_scripts/fetch_fonts.py

# The salient-object network (pinned sha256) for local background removal.
model: $(VENV)/.installed
	$(PY) build_scripts/fetch_model.py

# Pillow's own test images (pinned sdist from PyPI) for the hostile-input corpus; tests only.
test-data: $(VENV)/.installed
	$(PY) build_scripts/fetch_test_images.py

build: setup runtime fonts model
	$(PY) build_scripts/build_site.py

run: build
	$(VENV)/bin/pixelpress-server --static dist --host 127.0.0.1 --port $(PORT)

# Every linter; `make test` runs them first. ruff is configured in pyproject.toml, ESLint in eslint.config.mjs.
lint: lint-py lint-js

lint-py: $(VENV)/.installed
	$(VENV)/bin/ruff check .

lint-js: node_modules/.installed
	node_modules/.bin/eslint .

test: lint build test-data
	$(PY) -m pytest -q -ra

test-engine: setup fonts model test-data
	$(PY) -m pytest -q tests/engine

test-browser: build test-data
	$(PY) -m pytest -q tests/browser

test-server: setup
	$(PY) -m pytest -q tests/server

bench: build
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf dist .cache build
