"""The live loss landscape (issue 14, item 7) in real headless Chromium.

Play, pause, click "Loss landscape": both planes are drawn (non-blank
canvases), the caption names the moment the page shows, and a refusal (before
anything is trained) shows in the status line with the button back. A
screenshot of each test lands in ``test-artifacts/``.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import open_page, settled, wait_for_current_frame, wait_for_epoch

pytestmark = pytest.mark.browser


@pytest.fixture
def tab(chromium, request):
    return open_page(chromium, request)


def distinct_colours(page, testid: str) -> int:
    """How many different colours the canvas holds (1: blank or one flat fill)."""
    return page.get_by_test_id(testid).evaluate(
        """c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const seen = new Set();
            for (let i = 0; i < d.length; i += 4) {
                seen.add([d[i], d[i + 1], d[i + 2], d[i + 3]].join());
            }
            return seen.size;
        }"""
    )


def page_epoch(page) -> float:
    """The page's epoch: the readout, plus the batch share ("+ batch 3/25")."""
    whole = int(page.get_by_test_id("epoch").text_content())
    batch = page.get_by_test_id("batch").text_content()
    match = re.fullmatch(r"\+ batch (\d+)/(\d+)", batch.strip())
    return whole + (int(match.group(1)) / int(match.group(2)) if match else 0.0)


def settled_epoch(page) -> float:
    """The page's epoch once the paused moment's frame is in."""
    return settled(page, page_epoch, "the epoch")


def test_the_landscape_of_a_paused_run_draws_both_planes_at_the_pages_epoch(tab, playground_url):
    tab.goto(f"{playground_url}/?points=1000&speed=5")
    wait_for_current_frame(tab)
    button = tab.get_by_test_id("landscape-open")
    assert button.text_content() == "Loss landscape"
    tab.get_by_role("button", name="Play").click()
    wait_for_epoch(tab, 2)
    tab.get_by_role("button", name="Pause").click()
    tab.wait_for_function(
        "() => document.querySelector('#play').dataset.playing === '0'", timeout=10_000
    )
    shown = settled_epoch(tab)

    # While it is computed the button is disabled and says so (read in the click's own turn).
    busy = button.evaluate("b => { b.click(); return [b.disabled, b.textContent]; }")
    assert busy == [True, "computing…"]
    caption = tab.get_by_test_id("landscape-caption")
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=landscape-caption]').dataset.epoch",
        timeout=20_000,
    )
    assert button.is_enabled() and button.text_content() == "Loss landscape"
    assert tab.get_by_test_id("landscape").is_visible()
    for testid in ("landscape-random", "landscape-pca"):
        assert tab.get_by_test_id(testid).get_attribute("data-drawn") == "1"
        assert distinct_colours(tab, testid) > 20, f"{testid} looks blank"
    assert float(caption.get_attribute("data-epoch")) == pytest.approx(shown, abs=1e-4)
    text = caption.text_content()
    assert text.startswith(f"At epoch {round(shown, 2):g}, on 800 of 800 training points"), text
    assert page_epoch(tab) == shown  # still paused at that moment


def test_a_refused_landscape_shows_in_the_status_line_and_the_button_comes_back(
    tab, playground_url
):
    tab.goto(f"{playground_url}/?points=1000")
    wait_for_current_frame(tab)
    button = tab.get_by_test_id("landscape-open")
    button.click()
    status = tab.get_by_test_id("status")
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=status]').textContent.includes('nothing')",
        timeout=10_000,
    )
    assert status.text_content().startswith("nothing is trained yet")
    assert button.is_enabled() and button.text_content() == "Loss landscape"
    assert tab.get_by_test_id("landscape").is_hidden()
