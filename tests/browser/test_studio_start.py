"""How the studio starts its engine: the page fetches what starts the worker at once.

ui/boot.js starts the engine worker. Its module graph used to be discovered
one import level at a time, a round trip per level before the worker (and
its runtime download) could start; index.html now preloads all of it.
"""

from __future__ import annotations

import re

from browser_harness import DIST

# Static imports and re-exports only: `import x from './a.js'`, `import './a.js'`, `export { y } from './b.js'`.
IMPORT = re.compile(r"""^(?:import|export)\s+(?:[\w*{}\s,$]+\s+from\s+)?['"](\.{1,2}/[^'"]+)['"]""", re.M)


def static_graph(entry: str) -> set[str]:
    """Paths (relative to dist/) of `entry` and every module it imports statically, transitively."""
    seen, todo = set(), [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        base = (DIST / path).parent
        for spec in IMPORT.findall((DIST / path).read_text()):
            todo.append((base / spec).resolve().relative_to(DIST.resolve()).as_posix())
    return seen


def preloaded() -> list[str]:
    html = (DIST / "index.html").read_text()
    return re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)


def test_everything_that_starts_the_worker_is_preloaded():
    graph = static_graph("ui/boot.js")
    assert {"ui/boot.js", "client/pixelpress.js", "client/start-worker.js", "client/errors.js"} <= graph
    assert graph == set(preloaded())


def test_each_preloaded_module_is_fetched_once(browser, site_url):
    context = browser.new_context()
    page = context.new_page()
    fetched = []
    page.on("request", lambda r: fetched.append(r.url[len(site_url):]))
    page.goto(site_url + "?nosw")
    page.wait_for_function("() => window.pixelpress !== undefined")
    page.evaluate("() => window.pixelpress.ready()")
    context.close()
    for path in preloaded():
        # a preload the module loader could not reuse (another credentials mode) would be fetched twice
        assert fetched.count(path) == 1, (path, fetched.count(path))
