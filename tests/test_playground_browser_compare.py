"""Issue 14, feature 6 in real headless Chromium: compare two runs side by side.

Run B is a second server session from the same data and initial weights with one setting
changed; Play/Step/Reset drive both, both loss curves share the chart, the URL keeps it.
"""

from __future__ import annotations

import pytest
from browser_helpers import epoch, open_page, query, wait_for_current_frame

pytestmark = pytest.mark.browser


def wait_for_both_at(page, n: int) -> None:
    """Both runs show a frame of epoch ``n`` (run A's readout, run B's plot)."""
    page.wait_for_function(
        """n => Number(document.querySelector('[data-testid=epoch]').textContent) === n
            && document.querySelector('[data-testid=compare-plot]').dataset.epoch === String(n)""",
        arg=n,
        timeout=60_000,
    )


def loss(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).text_content())


def test_compare_lr_on_circle(playground_url, chromium, request):
    page = open_page(chromium, request)
    page.goto(f"{playground_url}/?dataset=circle&lr=0.01&optimizer=sgd&seed=0")
    wait_for_current_frame(page)
    assert page.get_by_test_id("compare").is_hidden()

    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_label("Setting to change").select_option("lr")
    page.get_by_label("Value for run B").fill("0.1")
    page.get_by_role("button", name="Start run B").click()
    wait_for_both_at(page, 0)
    assert query(page)["compare"] == "lr:0.1"

    # Same data and same initial weights: at epoch 0 both runs have the same losses.
    assert page.get_by_test_id("compare-test-loss").text_content() == (
        page.get_by_test_id("test-loss").text_content()
    )
    assert page.get_by_test_id("compare-train-loss").text_content() == (
        page.get_by_test_id("train-loss").text_content()
    )

    for n in (1, 2, 3):
        page.get_by_role("button", name="Step", exact=True).click()
        wait_for_both_at(page, n)
    assert epoch(page) == 3

    chart = page.get_by_test_id("chart")
    assert chart.get_attribute("data-runs") == "2"
    assert chart.get_attribute("data-legend") == "A: sgd lr 0.01 · B: sgd lr 0.1"
    assert int(chart.get_attribute("data-other-points")) >= 4  # epochs 0..3 of run B
    assert page.get_by_test_id("compare-legend").text_content() == "A: sgd lr 0.01 · B: sgd lr 0.1"
    assert int(page.get_by_test_id("plot").get_attribute("data-frames")) >= 4
    assert int(page.get_by_test_id("compare-plot").get_attribute("data-frames")) >= 4
    # The lr 0.1 run has learned more in 3 epochs than the lr 0.01 one.
    a, b = loss(page, "test-loss"), loss(page, "compare-test-loss")
    assert b < a, f"run B (lr 0.1) test loss {b} is not below run A's (lr 0.01) {a}"

    # Reset drives both runs back to the same initial weights.
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_for_both_at(page, 0)
    page.wait_for_function(
        """() => document.querySelector('[data-testid=compare-test-loss]').textContent
            === document.querySelector('[data-testid=test-loss]').textContent"""
    )

    # A reload reopens the comparison from the URL.
    page.reload()
    wait_for_current_frame(page)
    assert page.get_by_test_id("compare").is_visible()
    wait_for_both_at(page, 0)
    assert page.get_by_label("Value for run B").input_value() == "0.1"

    # Closing the panel closes run B and takes it out of the URL and off the chart.
    page.get_by_role("button", name="Close compare").click()
    assert page.get_by_test_id("compare").is_hidden()
    assert "compare" not in query(page)
    assert chart.get_attribute("data-runs") == "1"
