"""The README is read in five minutes, and every link in it and in docs/ leads somewhere.

A newcomer reads the README first; benchmark tables and runtime notes belong in docs/. A link to a
moved section or a renamed file is a dead end, so every relative link (and its #anchor, as GitHub
makes them from headings) must resolve.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
# Five minutes at about 200 words a minute.
README_MAX_WORDS = 1000


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for line in page.read_text().splitlines():
        if m := re.match(r"#+ (.*)", line):
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(slug)
    return out


def test_readme_is_short():
    words = len(re.findall(r"\w+", (ROOT / "README.md").read_text()))
    assert words <= README_MAX_WORDS, f"README.md has {words} words; move details into docs/"


def test_readme_keeps_no_benchmark_tables():
    text = (ROOT / "README.md").read_text()
    assert "goal" not in text.lower() and " ms " not in text, "benchmark figures belong in docs/benchmarks.md"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    dead = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not ours to check offline
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            dead.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            dead.append(target)
    assert not dead, f"{page.relative_to(ROOT)}: dead links {dead}"
