"""Fixtures the playground's tests share (a module may define its own instead).

* ``client`` and ``tab``: Starlette's test client of the app with the default
  limits, and one tab on it (``test_serve_protocol.Session``), for the
  protocol tests.
* ``playground_url`` and ``chromium``: a real server in a thread and Debian's
  Chromium driven by Playwright, for the browser tests; Chromium is skipped,
  with the reason, where it cannot run.
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def client():
    from starlette.testclient import TestClient

    from backprop_lab.serve.app import create_app
    from backprop_lab.serve.config import ServeConfig

    with TestClient(create_app(ServeConfig())) as c:
        yield c


@pytest.fixture
def tab(client):
    from test_serve_protocol import Session

    with client.websocket_connect("/ws") as ws:
        yield Session(ws)


@pytest.fixture(scope="module")
def playground_url():
    """A playground server for the module's tests."""
    from backprop_lab.serve.server import serve_in_background

    with serve_in_background() as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium driven by Playwright; skipped, with the reason, where it cannot run."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("browser tests need Debian's chromium (apt install chromium); not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # pragma: no cover - playwright is a test dependency
        pytest.skip(f"browser tests need playwright: {e}")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as e:  # noqa: BLE001 - any launch failure means: cannot test here
            pytest.skip(f"chromium at {executable} did not start: {str(e).splitlines()[0]}")
        yield browser
        browser.close()
