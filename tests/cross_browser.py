"""One small interface over the browser engines people use, for tests/browser/test_every_browser.py.

- `chromium`: Debian's Chromium through Playwright, as everywhere else (browser_harness.py).
- `chromium-nojspi`: the same Chromium with WebAssembly stack switching (JSPI) hidden from pixelpress's
  workers, standing in for Chrome on Android and for Safari. No Chromium switch turns JSPI off any more
  (tried on 156: `--js-flags=--no-experimental-wasm-jspi`, `--js-flags=--no-wasm-jspi`,
  `--disable-features=WebAssemblyJSPromiseIntegration`, `--disable-blink-features=...`: all still show
  `WebAssembly.Suspending` in a worker), so a test-only hook does it: the worker modules are answered
  by a two-line module that first deletes `WebAssembly.Suspending` and `WebAssembly.promising`, then
  imports the real one statically (so its message handlers exist before any message arrives).
- `firefox`: Debian's Firefox ESR through puppeteer-core over WebDriver BiDi (no geckodriver exists to
  install), run by tests/firefox_driver.mjs, spoken to in JSON lines.
- `webkit`: WebKitGTK (Safari's engine) through Selenium and WebKitWebDriver, driving MiniBrowser on
  an Xvfb display the harness starts itself.

Every engine gives the same `Page` operations: `new_page` (a fresh profile), `goto`, `evaluate` (the
source of a JS function of one JSON argument, awaited, its JSON result returned), `wait_for`,
`set_files` on an <input type=file>, `click`, `screenshot`, `set_offline` (raises `OfflineUnsupported`
in WebKit: WebDriver has no such command) and `close`. Binary results travel as base64 strings.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from browser_harness import CHROMIUM_FLAGS, chromium_path

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("chromium", "chromium-nojspi", "firefox", "webkit")
FIREFOX = os.environ.get("PIXELPRESS_FIREFOX") or "/usr/bin/firefox-esr"
WEBKIT_DRIVER = os.environ.get("PIXELPRESS_WEBKIT_DRIVER") or shutil.which("WebKitWebDriver") or "/usr/bin/WebKitWebDriver"
VIEWPORT = {"width": 1280, "height": 900}


class OfflineUnsupported(RuntimeError):
    """The engine's automation cannot cut the page off the network."""


class EngineMissing(RuntimeError):
    pass


def minibrowser_path() -> str:
    """WebKitGTK's MiniBrowser, where libwebkit2gtk's package put it."""
    if os.environ.get("PIXELPRESS_MINIBROWSER"):
        return os.environ["PIXELPRESS_MINIBROWSER"]
    for pkg in ("libwebkit2gtk-4.1-0", "libwebkitgtk-6.0-4"):
        run = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True)
        hits = [line for line in run.stdout.splitlines() if line.endswith("/MiniBrowser")]
        if hits:
            return hits[0]
    raise EngineMissing("WebKitGTK's MiniBrowser not found: install Debian's webkit2gtk-driver (make setup does).")


# ---------------------------------------------------------------- JSPI hidden (a test hook)

HIDE_JSPI = "delete WebAssembly.Suspending;\ndelete WebAssembly.promising;\n"
WORKER_MODULES = ("engine-worker.js", "model-worker.js")


def _hide_jspi_route(route):
    url = route.request.url
    if url.endswith("/__hide_jspi.js"):
        route.fulfill(status=200, content_type="text/javascript", body=HIDE_JSPI)
        return
    name = url.rsplit("/", 1)[1]
    body = f"import './__hide_jspi.js';\nimport './{name}?jspi=hidden';\n"
    route.fulfill(status=200, content_type="text/javascript", body=body)


# ---------------------------------------------------------------- the engines


class Page:
    """What the tests may do with one page of one engine."""

    engine: str
    version: str

    def new_page(self) -> None: ...
    def goto(self, url: str) -> None: ...
    def evaluate(self, fn: str, arg=None): ...
    def set_files(self, selector: str, files: list[tuple[str, bytes, str]]) -> None: ...
    def click(self, selector: str) -> None: ...
    def screenshot(self, path: Path) -> None: ...
    def set_offline(self, offline: bool) -> None: ...
    def close(self) -> None: ...

    def wait_for(self, fn: str, arg=None, timeout_ms: int = 60_000) -> None:
        """Until the JS function `fn(arg)` returns something truthy."""
        deadline = time.monotonic() + timeout_ms / 1000
        while not self.evaluate(fn, arg):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.engine}: still false after {timeout_ms} ms: {fn}")
            time.sleep(0.1)


class PlaywrightPage(Page):
    def __init__(self, browser, engine: str, hide_jspi: bool = False):
        self.browser, self.engine, self.hide_jspi = browser, engine, hide_jspi
        self.version = browser.version
        self.context = self.page = None
        self.new_page()

    def new_page(self):
        if self.context:
            self.context.close()
        self.context = self.browser.new_context(viewport=VIEWPORT)
        if self.hide_jspi:
            self.context.route("**/worker/__hide_jspi.js", _hide_jspi_route)
            for name in WORKER_MODULES:
                self.context.route(f"**/worker/{name}", _hide_jspi_route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(120_000)

    def goto(self, url):
        self.page.goto(url)

    def evaluate(self, fn, arg=None):
        return self.page.evaluate(fn, arg)

    def wait_for(self, fn, arg=None, timeout_ms=60_000):
        self.page.wait_for_function(fn, arg=arg, timeout=timeout_ms)

    def set_files(self, selector, files):
        self.page.set_input_files(selector, files=[{"name": n, "mimeType": m, "buffer": d} for n, d, m in files])

    def click(self, selector):
        self.page.click(selector)

    def screenshot(self, path):
        self.page.screenshot(path=str(path), full_page=True)

    def set_offline(self, offline):
        self.context.set_offline(offline)

    def workers_js(self, fn: str) -> list:
        """`fn` evaluated in each dedicated worker of the page (Chromium only: for checking the hook)."""
        return [w.evaluate(fn) for w in self.page.workers]

    def close(self):
        if self.context:
            self.context.close()
            self.context = None


class FirefoxPage(Page):
    """Firefox ESR through tests/firefox_driver.mjs (puppeteer-core, WebDriver BiDi)."""

    def __init__(self):
        if not Path(FIREFOX).exists():
            raise EngineMissing(f"{FIREFOX} not found: install Debian's firefox-esr (make setup does).")
        self.engine = "firefox"
        self.proc = subprocess.Popen(["node", str(ROOT / "tests" / "firefox_driver.mjs"), FIREFOX], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self._id = 0
        hello = json.loads(self.proc.stdout.readline() or '{"ok": false, "error": "the driver exited"}')
        if not hello.get("ok"):
            raise EngineMissing(f"Firefox did not start: {hello.get('error')}")
        self.version = hello["value"]
        self.new_page()

    def _call(self, cmd: str, **args):
        self._id += 1
        self.proc.stdin.write(json.dumps({"id": self._id, "cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"firefox driver exited during {cmd} (status {self.proc.poll()})")
        answer = json.loads(line)
        assert answer["id"] == self._id, answer
        if not answer["ok"]:
            raise RuntimeError(f"firefox: {cmd}: {answer['error']}")
        return answer["value"]

    def new_page(self):
        self._call("newPage")

    def goto(self, url):
        self._call("goto", url=url)

    def evaluate(self, fn, arg=None):
        return self._call("evaluate", fn=fn, arg=arg)

    def wait_for(self, fn, arg=None, timeout_ms=60_000):
        self._call("waitForFunction", fn=fn, arg=arg, timeoutMs=timeout_ms)

    def set_files(self, selector, files):
        self._call("setFiles", selector=selector,
                   files=[{"name": n, "mime": m, "b64": base64.b64encode(d).decode()} for n, d, m in files])

    def click(self, selector):
        self._call("click", selector=selector)

    def screenshot(self, path):
        self._call("screenshot", path=str(path))

    def set_offline(self, offline):
        self._call("setOffline", offline=offline)

    def close(self):
        if self.proc.poll() is None:
            try:
                self._call("close")
            except RuntimeError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Xvfb:
    """A private X display for MiniBrowser (it needs one even when nothing is looked at)."""

    def __init__(self):
        if not shutil.which("Xvfb"):
            raise EngineMissing("Xvfb not found: install Debian's xvfb (make setup does).")
        read, write = os.pipe()
        self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                                     pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            self.display = ":" + f.readline().strip()

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


ASYNC_CALL = """const done = arguments[arguments.length - 1];
Promise.resolve().then(() => (%s)(arguments[0]))
  .then((value) => done({ ok: true, value: value === undefined ? null : value }),
        (e) => done({ ok: false, error: String((e && e.stack) || e) }));"""


class WebKitPage(Page):
    """WebKitGTK's MiniBrowser through Selenium and WebKitWebDriver, on a private Xvfb display."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        if not Path(WEBKIT_DRIVER).exists():
            raise EngineMissing("WebKitWebDriver not found: install Debian's webkit2gtk-driver (make setup does).")
        self.engine = "webkit"
        self._webdriver, self._Options, self._Service = webdriver, Options, Service
        self.binary = minibrowser_path()
        self.xvfb = Xvfb()
        self.files = Path(tempfile.mkdtemp(prefix="pixelpress-wk-"))
        self.driver = None
        self.new_page()
        self.version = f"webkitgtk/{self.driver.capabilities.get('browserVersion')}"

    def new_page(self):
        """A new MiniBrowser session: automation sessions keep their data in memory only, so it is a fresh profile."""
        if self.driver:
            self.driver.quit()
        options = self._Options()
        options.binary_location = self.binary
        options.add_argument("--automation")
        service = self._Service(executable_path=WEBKIT_DRIVER, env={**os.environ, "DISPLAY": self.xvfb.display})
        self.driver = self._webdriver.WebKitGTK(options=options, service=service)
        self.driver.set_script_timeout(300)
        self.driver.set_page_load_timeout(120)
        self.driver.set_window_size(VIEWPORT["width"], VIEWPORT["height"])

    def goto(self, url):
        self.driver.get(url)

    def evaluate(self, fn, arg=None):
        answer = self.driver.execute_async_script(ASYNC_CALL % fn, arg)
        if not answer["ok"]:
            raise RuntimeError(f"webkit: {answer['error']}")
        return answer["value"]

    def set_files(self, selector, files):
        from selenium.webdriver.common.by import By

        paths = []
        for i, (name, data, _mime) in enumerate(files):
            path = self.files / str(len(list(self.files.iterdir()))) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            paths.append(str(path))
            del i
        self.driver.find_element(By.CSS_SELECTOR, selector).send_keys("\n".join(paths))

    def click(self, selector):
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).click()

    def screenshot(self, path):
        Path(path).write_bytes(self.driver.get_screenshot_as_png())

    def set_offline(self, offline):
        raise OfflineUnsupported("WebKitWebDriver has no command to take a page offline")

    def close(self):
        try:
            if self.driver:
                self.driver.quit()
        finally:
            self.driver = None
            self.xvfb.close()
            shutil.rmtree(self.files, ignore_errors=True)


def open_engine(engine: str, playwright_browser_type=None) -> Page:
    """A page of `engine` (one of ENGINES); Chromium needs Playwright's `browser_type` (chromium)."""
    if engine == "firefox":
        return FirefoxPage()
    if engine == "webkit":
        return WebKitPage()
    if engine in ("chromium", "chromium-nojspi"):
        browser = playwright_browser_type.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = PlaywrightPage(browser, engine, hide_jspi=engine == "chromium-nojspi")
        original = page.close

        def close():
            original()
            browser.close()

        page.close = close
        return page
    raise ValueError(engine)


# ---------------------------------------------------------------- the client, through any engine

RUN_JOBS = """async ([jobs, timeoutMs]) => {
  const b64 = (buf) => {
    let s = '';
    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const one = async ([name, op, data, options]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const t0 = performance.now();
    try {
      const r = await window.pixelpress.run(op, bytes, options, { timeoutMs });
      const ms = performance.now() - t0; // the job alone, not the base64 of its outputs below
      const outputs = [];
      for (const o of r.outputs) {
        outputs.push({ name: o.name, mime: o.blob.type, data: b64(new Uint8Array(await o.blob.arrayBuffer())), meta: o.meta });
      }
      return [name, { ok: true, meta: r.meta, outputs, ms }];
    } catch (e) {
      return [name, { ok: false, error: { code: e.code, message: e.message } }];
    }
  };
  return Promise.all(jobs.map(one));
}"""


def run_jobs(page: Page, jobs: list[tuple[str, str, bytes, dict]], timeout_ms: int = 180_000) -> dict[str, dict]:
    """(name, op, data, options) jobs through the page's `window.pixelpress` client, all in one evaluate
    (the pool runs them concurrently): {name: answer}, answers as BrowserEngine.run gives them."""
    answers = page.evaluate(RUN_JOBS, [[[n, op, base64.b64encode(d).decode(), o] for n, op, d, o in jobs], timeout_ms])
    out = {}
    for name, answer in answers:
        for o in answer.get("outputs", []):
            o["data"] = base64.b64decode(o["data"])
        out[name] = answer
    return out


def wait_engine(page: Page, timeout_ms: int = 120_000) -> dict:
    page.wait_for("() => window.pixelpress !== undefined", timeout_ms=timeout_ms)
    return page.evaluate("() => window.pixelpress.ready()")


# Downloads: the studio clicks an <a download href=blob:...>. Every engine's automation handles real
# downloads differently (WebKitWebDriver not at all), so the page's anchor clicks are recorded instead:
# the name the user would get and the bytes of the blob, read before the studio revokes its URL.
CAPTURE_DOWNLOADS = """() => {
  if (window.__downloads) return;
  window.__downloads = [];
  const click = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function () {
    if (!(this.download && this.href.startsWith('blob:'))) return click.call(this);
    const name = this.download;
    window.__downloads.push(fetch(this.href).then((r) => r.arrayBuffer()).then((buf) => {
      const bytes = new Uint8Array(buf);
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return { name, b64: btoa(s) };
    }));
  };
}"""

TAKE_DOWNLOADS = "async () => { const all = await Promise.all(window.__downloads); window.__downloads = []; return all; }"


def downloads(page: Page) -> list[tuple[str, bytes]]:
    """The files the page handed to the user since the last call, as (name, bytes)."""
    return [(d["name"], base64.b64decode(d["b64"])) for d in page.evaluate(TAKE_DOWNLOADS)]
