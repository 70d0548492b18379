import pytest
from browser_harness import BrowserEngine, launch, serve_dist
from playwright.sync_api import sync_playwright
from test_studio_support import studio_context


@pytest.fixture(scope="session")
def site_url():
    with serve_dist() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="session")
def engine_page(browser, site_url):
    """One page whose worker pool stays warm for the whole session."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(site_url)
    engine = BrowserEngine(page)
    engine.wait_ready()
    yield page
    context.close()


@pytest.fixture(scope="session")
def browser_engine(engine_page):
    return BrowserEngine(engine_page)


@pytest.fixture(scope="module")
def context(browser):
    """The studio's desktop context, shared by a module's tests (a module needing a fresh one per test defines its own)."""
    ctx = studio_context(browser)
    yield ctx
    ctx.close()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
