"""The README's error table is generated from the engine; a stale copy misleads every caller."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_error_table_is_current():
    run = subprocess.run([sys.executable, str(ROOT / "build_scripts" / "readme_tables.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_readme_lists_every_engine_code():
    from pixelpress.errors import codes

    text = (ROOT / "README.md").read_text()
    assert all(f"| `{code}` |" in text for code in codes())
