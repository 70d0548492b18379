"""docs/errors.md's error tables are generated, from the engine and from web/client/codes.js;
a stale copy misleads every caller."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_errors_doc_error_table_is_current():
    run = subprocess.run([sys.executable, str(ROOT / "build_scripts" / "doc_tables.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_errors_doc_lists_every_engine_code():
    from pixelpress.errors import codes

    text = (ROOT / "docs" / "errors.md").read_text()
    assert all(f"| `{code}` |" in text for code in codes())


@pytest.mark.skipif(shutil.which("node") is None, reason="node reads web/client/codes.js")
def test_errors_doc_lists_every_client_code_in_its_own_table():
    spec = importlib.util.spec_from_file_location("doc_tables", ROOT / "build_scripts" / "doc_tables.py")
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    text = (ROOT / "docs" / "errors.md").read_text()
    block = text.split("<!-- generated: client-errors -->", 1)[1].split("<!-- /generated -->", 1)[0]
    assert [line.split("`")[1] for line in block.strip().splitlines()[2:]] == list(tables.client_codes())
