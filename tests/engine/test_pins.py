"""Native and browser run the same library versions, written once in constraints.txt.

pyproject.toml gives ranges (so `pip install .` fits into other projects);
the tests, `make setup` and the browser build use the exact versions of
constraints.txt. Native tests speak for the browser only while the installed
versions are those, and the Pyodide lock names them too.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / ".cache" / "runtime" / "core" / "pyodide-lock.json"  # the official lock, once fetched
# native distribution -> its name in the Pyodide lock
BROWSER_NAME = {"pillow": "pillow", "numpy": "numpy", "opencv-python-headless": "opencv-python"}


def _pins_module():
    spec = importlib.util.spec_from_file_location("pins", ROOT / "build_scripts" / "pins.py")
    pins = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pins)
    return pins


PINS = _pins_module()
CONSTRAINTS = PINS.read_constraints()


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def test_constraints_pin_the_three_libraries_exactly():
    assert set(BROWSER_NAME) <= set(CONSTRAINTS)
    # OpenCV contrib is only the oil-paint reference; it must be the same OpenCV.
    assert CONSTRAINTS["opencv-contrib-python-headless"] == CONSTRAINTS["opencv-python-headless"]


def test_the_browser_wheels_are_the_pinned_versions():
    for native, browser in BROWSER_NAME.items():
        wheel = PINS.WHEELS[browser]["file"]
        assert wheel.split("-")[1] == CONSTRAINTS[native], wheel
    assert PINS.PILLOW_TEST_IMAGES["spec"] == f"pillow=={CONSTRAINTS['pillow']}"


def test_pyproject_ranges_admit_the_pins_and_pin_nothing():
    for req in _requirements():
        assert not any(s.operator in ("==", "===") for s in req.specifier) or req.name == "ruff", (
            f"{req}: exact versions belong in constraints.txt")
        pin = CONSTRAINTS.get(req.name.lower())
        if pin is not None:
            assert req.specifier.contains(pin), f"{req} does not admit the pinned {pin}"


def test_base_install_pulls_neither_opencv_nor_the_server():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {Requirement(r).name.lower() for r in project["dependencies"]}
    server = {Requirement(r).name.lower() for r in project["optional-dependencies"]["server"]}
    assert "opencv-python-headless" not in base and not base & server
    assert {"pillow", "numpy"} <= base


@pytest.mark.parametrize("native", sorted(BROWSER_NAME))
def test_installed_versions_are_the_pinned_ones(native):
    try:
        got = metadata.version(native)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{native} is not installed: make setup installs it with -c constraints.txt")
    assert got == CONSTRAINTS[native], (
        f"{native} {got} is installed, but the tests and the browser build use {CONSTRAINTS[native]} "
        f"(constraints.txt): run `make setup`, or {sys.executable} -m pip install -c constraints.txt -e '.[opencv]'")


@pytest.mark.skipif(not LOCK.exists(), reason="the Pyodide runtime is not fetched (make runtime)")
def test_the_pyodide_lock_names_the_pinned_versions():
    packages = json.loads(LOCK.read_text())["packages"]
    for native, browser in BROWSER_NAME.items():
        assert packages[browser]["version"] == CONSTRAINTS[native], browser
        assert packages[browser]["file_name"] == PINS.WHEELS[browser]["file"], browser
