# pixelpress: `make run` to use it, `make test` to test everything. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
DIST   ?= dist

.PHONY: setup setup-run runtime fonts model test-data build package run lint lint-py lint-js test test-engine test-browser test-server bench clean

# What running the studio needs: the engine (the build reads its op specs), the server, the npm files.
setup-run: $(VENV)/.installed-run node_modules/.installed

# What the tests need on top: the test tools, the native neural matte, OpenCV contrib, Chromium, Firefox ESR, WebKitGTK.
setup: setup-run $(VENV)/.installed .venv-contrib/.installed
	@bash build_scripts/ensure_chromium.sh
	@bash build_scripts/ensure_browsers.sh
	@bash build_scripts/ensure_nginx.sh
	@bash build_scripts/ensure_redis.sh

# The tested versions (constraints.txt) over pyproject.toml's ranges: what the browser build runs too.
$(VENV)/.installed-run: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet hatchling
	$(PY) -m pip install --quiet -c constraints.txt -e ".[opencv,server]"
	touch $@

$(VENV)/.installed: $(VENV)/.installed-run
	$(PY) -m pip install --quiet -c constraints.txt -e ".[opencv,server,matte,test]"
	touch $@

# OpenCV's own xphoto.oilPainting, only for comparing our oil paint against it.
# It cannot share a venv with opencv-python-headless (both are `cv2`).
.venv-contrib/.installed: $(VENV)/.installed
	$(PY) -m pip install --quiet --target .venv-contrib -c constraints.txt opencv-contrib-python-headless numpy
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

runtime: $(VENV)/.installed-run
	$(PY) build_scripts/fetch_runtime.py

# Oswald (SIL OFL) for banners and shirts; the engine falls back to Pillow's font without it.
fonts: $(VENV)/.installed-run
	$(PY) build_scripts/fetch_fonts.py

# The salient-object network (pinned sha256) for local background removal.
model: $(VENV)/.installed-run
	$(PY) build_scripts/fetch_model.py

# Pillow's own test images (pinned sdist from PyPI) for the hostile-input corpus; tests only.
test-data: $(VENV)/.installed-run
	$(PY) build_scripts/fetch_test_images.py

build: setup-run runtime fonts model
	$(PY) build_scripts/build_site.py

# The client as an npm package (dist/ with its package.json): build/pixelpress-<version>.tgz. docs/embedding.md.
package: build
	mkdir -p build
	cd dist && npm pack --pack-destination ../build --loglevel=error

# `make run PORT=8001` when 8000 is taken. `exec`: no shell stays between make and serve.py, so make's
# SIGTERM reaches serve.py, which stops the server with it (and with make's SIGHUP: --stop-with-make).
run: build
	@exec $(PY) build_scripts/serve.py --host 127.0.0.1 --port $(PORT) --static $(DIST) --stop-with-make

# Every linter; `make test` runs them first. ruff is configured in pyproject.toml, ESLint in eslint.config.mjs.
lint: lint-py lint-js

lint-py: $(VENV)/.installed
	$(VENV)/bin/ruff check .

lint-js: node_modules/.installed
	node_modules/.bin/eslint .

test: setup lint build test-data
	$(PY) -m pytest -q -ra

test-engine: setup fonts model test-data
	$(PY) -m pytest -q tests/engine

test-browser: setup build test-data
	$(PY) -m pytest -q tests/browser

test-server: setup
	$(PY) -m pytest -q tests/server

bench: build
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf dist .cache build
