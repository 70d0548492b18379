# pixelpress: `make run` to use it, `make test` to test everything. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
DIST   ?= dist
# Quiet pip: no version nag, no root warning (CI runs as root). Each step says itself in one line;
# PIXELPRESS_VERBOSE=1 makes the fetchers say every source they try.
PIP    := PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore $(PY) -m pip

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
	@echo "[setup] $(VENV): the engine and the server at the tested versions (pip, constraints.txt)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --quiet --upgrade pip
	@$(PIP) install --quiet hatchling
	@$(PIP) install --quiet -c constraints.txt -e ".[opencv,server]"
	@touch $@

$(VENV)/.installed: $(VENV)/.installed-run
	@echo "[setup] $(VENV): the test tools and the native neural matte (pip, constraints.txt)"
	@$(PIP) install --quiet -c constraints.txt -e ".[opencv,server,matte,test]"
	@touch $@

# OpenCV's own xphoto.oilPainting, only for comparing our oil paint against it.
# It cannot share a venv with opencv-python-headless (both are `cv2`).
.venv-contrib/.installed: $(VENV)/.installed
	@echo "[setup] .venv-contrib: OpenCV contrib, the oil-paint reference (pip)"
	@$(PIP) install --quiet --target .venv-contrib -c constraints.txt opencv-contrib-python-headless numpy
	@touch $@

# npm's stdout is only its "added 146 packages in 5s" line; its errors go to stderr.
node_modules/.installed: package.json package-lock.json
	@echo "[setup] node_modules: the browser libraries and the linters (npm ci, package-lock.json)"
	@npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

runtime: $(VENV)/.installed-run
	@$(PY) build_scripts/fetch_runtime.py

# Oswald (SIL OFL) for banners and shirts; the engine falls back to Pillow's font without it.
fonts: $(VENV)/.installed-run
	@$(PY) build_scripts/fetch_fonts.py

# The salient-object network (pinned sha256) for local background removal.
model: $(VENV)/.installed-run
	@$(PY) build_scripts/fetch_model.py

# Pillow's own test images (pinned sdist from PyPI) for the hostile-input corpus; tests only.
test-data: $(VENV)/.installed-run
	@$(PY) build_scripts/fetch_test_images.py

# The site into $(DIST) (dist/ unless told: `make build DIST=/tmp/site`).
build: setup-run runtime fonts model
	@$(PY) build_scripts/build_site.py --out $(DIST)

# The client as an npm package: build/pixelpress-<version>.tgz. docs/embedding.md. Built into a folder of its
# own, never dist/, so a studio running from dist/ (`make run`) is not rebuilt underneath.
PACKAGE_DIST := build/package-dist
package: setup-run runtime fonts model
	@$(PY) build_scripts/build_site.py --out $(PACKAGE_DIST)
	@cd $(PACKAGE_DIST) && tgz=$$(npm pack --pack-destination .. --loglevel=error) && echo "[package] build/$$tgz"

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
