"""Reading the playground page in the browser tests: readouts, frames, pixels."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LAPTOP = {"width": 1280, "height": 800}


def open_page(chromium, request, viewport=LAPTOP, name: str | None = None, **context_options):
    """A fresh tab (own context) whose page errors fail the test; a screenshot of it
    goes to test-artifacts/ (as ``name``, by default the test's) at teardown."""
    context = chromium.new_context(viewport=viewport, **context_options)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def finish():
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            shot = ARTIFACTS / f"{name or request.node.name}.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            context.close()
        assert errors == [], f"the page reported errors: {errors}"

    request.addfinalizer(finish)
    return page


def epoch(page) -> int:
    return int(page.get_by_test_id("epoch").text_content())


def percent(page, testid: str) -> float:
    text = page.get_by_test_id(testid).text_content()
    match = re.fullmatch(r"(\d+\.\d)%", text)
    assert match, f"{testid} reads {text!r}, not a percent with one decimal"
    return float(match.group(1))


def wait_for_epoch(page, at_least: int, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "n => Number(document.querySelector('[data-testid=epoch]').textContent) >= n",
        arg=at_least,
        timeout=timeout,
    )


def wait_for_current_frame(page, timeout: float = 20_000) -> None:
    """Wait until the plot shows a frame of the server's current run (the last `state`)."""
    page.wait_for_function(
        """() => {
            const c = document.querySelector('[data-testid=plot]');
            return Number(c.dataset.frames) >= 1 && c.dataset.run === document.body.dataset.run;
        }""",
        timeout=timeout,
    )


def plot_pixels(page) -> str:
    return page.get_by_test_id("plot").evaluate("c => c.toDataURL()")


def settled(page, read, what: str):
    """``read(page)`` once two reads 300 ms apart agree (no frame on its way any more)."""
    before = read(page)
    for _ in range(30):
        page.wait_for_timeout(300)
        now = read(page)
        if now == before:
            return now
        before = now
    raise AssertionError(f"{what} never stopped changing while paused")


def settled_pixels(page) -> str:
    """The plot once two reads 300 ms apart agree."""
    return settled(page, plot_pixels, "the plot")


def query_of(url: str) -> dict:
    """The query of ``url`` as a dict of single values."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def query(page) -> dict:
    """The page's URL query (the settings the page keeps there)."""
    return query_of(page.url)


def wait_for_query(page, **expected) -> None:
    """Wait until the page's URL has every ``key=value`` of ``expected``."""
    page.wait_for_function(
        """expected => {
            const q = new URLSearchParams(location.search);
            return Object.entries(expected).every(([k, v]) => q.get(k) === v);
        }""",
        arg={k: str(v) for k, v in expected.items()},
        timeout=10_000,
    )


def set_number(page, label: str, value) -> None:
    """Type into a number field and commit it with Enter (the page sends on `change`)."""
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
