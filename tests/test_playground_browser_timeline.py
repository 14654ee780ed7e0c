"""Issue 14 in real headless Chromium: new weights, edge colouring, the timeline, divergence
and its rewind, classroom challenges and hidden controls.

The page is driven through its stable interface (accessible names, ``data-testid``), as in
tests/test_serve_browser.py, whose server and browser fixtures are repeated here. Screenshots
of each test land in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re

import pytest
from browser_helpers import (
    epoch,
    open_page,
    query,
    settled_pixels,
    wait_for_current_frame,
    wait_for_epoch,
    wait_for_query,
)

pytestmark = pytest.mark.browser


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def tab(chromium, request):
    return open_page(chromium, request)


# ----------------------------------------------------------------------------- helpers


def frames_drawn(page) -> int:
    return int(page.get_by_test_id("plot").get_attribute("data-frames"))


def wait_for_frames(page, more_than: int, timeout: float = 20_000) -> None:
    page.wait_for_function(
        "n => Number(document.querySelector('[data-testid=plot]').dataset.frames) > n",
        arg=more_than,
        timeout=timeout,
    )


def step_epoch(page, to: int) -> str:
    """Click Step (train to the end of the epoch), wait for epoch `to`; the settled plot."""
    page.get_by_role("button", name="Step", exact=True).click()
    wait_for_epoch(page, to)
    page.wait_for_function(
        "() => document.querySelector('#play').dataset.playing === '0'", timeout=10_000
    )
    return settled_pixels(page)


def snapshot_epochs(page) -> list[float]:
    return json.loads(page.get_by_test_id("timeline").get_attribute("data-epochs") or "[]")


def seek(page, index: int) -> str:
    """Move the Timeline slider to snapshot `index`; the plot once it shows that moment."""
    page.get_by_label("Timeline", exact=True).fill(str(index))
    page.wait_for_function(
        "k => document.querySelector('[data-testid=timeline]').dataset.snapshot === String(k)",
        arg=index,
        timeout=10_000,
    )
    return settled_pixels(page)


# ----------------------------------------------------------------------------- tests


def test_new_weights_changes_the_first_frame_and_the_url_and_reset_keeps_them(tab, playground_url):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    first = settled_pixels(tab)
    run = tab.evaluate("() => document.body.dataset.run")
    tab.get_by_role("button", name="New weights").click()
    tab.wait_for_function(
        "() => !['', null, '0'].includes(new URLSearchParams(location.search).get('weights'))",
        timeout=10_000,
    )
    tab.wait_for_function("r => document.body.dataset.run !== r", arg=run, timeout=10_000)
    wait_for_current_frame(tab)
    weights = query(tab)["weights"]
    assert int(weights) > 0
    assert epoch(tab) == 0
    drawn = settled_pixels(tab)
    assert drawn != first, "new initial weights drew the same plot"

    # Train, then Reset: epoch 0 with the same new weights, the URL unchanged.
    step_epoch(tab, 1)
    tab.get_by_role("button", name="Reset").click()
    tab.wait_for_function("() => document.querySelector('[data-testid=epoch]').textContent === '0'")
    assert settled_pixels(tab) == drawn
    assert query(tab)["weights"] == weights

    # The URL alone brings these weights back.
    tab.goto(tab.url)
    wait_for_current_frame(tab)
    assert settled_pixels(tab) == drawn


EDGE_WIDTHS = "() => [...document.querySelectorAll('line.edge')].map((l) => l.style.strokeWidth \
    || l.getAttribute('stroke-width'))"


def test_edges_switch_to_gradient_and_change_colouring(tab, playground_url):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    frames = frames_drawn(tab)
    tab.get_by_role("button", name="One batch").click()
    wait_for_frames(tab, frames)
    settled_pixels(tab)
    widths = tab.evaluate(EDGE_WIDTHS)
    edges = tab.get_by_label("Edges", exact=True)
    assert edges.input_value() == "weight"

    edges.select_option("gradient")
    assert tab.locator("#network").get_attribute("data-edges") == "gradient"
    by_gradient = tab.evaluate(EDGE_WIDTHS)
    assert by_gradient != widths, "the edges look the same by gradient as by weight"
    tab.locator(".edge-hit").first.hover(force=True)
    tooltip = tab.get_by_role("tooltip")
    tooltip.wait_for()
    number = r"-?(\d+\.\d+|\d\.\d{3}e[-+]\d+|0)"
    text = tooltip.text_content()
    assert re.fullmatch(rf"Gradient {number} \(x[12] → layer 1 neuron \d\)", text), text

    edges.select_option("change")
    tab.mouse.move(2, 2)
    tab.locator(".edge-hit").nth(1).hover(force=True)
    tooltip.wait_for()
    text = tooltip.text_content()
    assert re.fullmatch(rf"Change {number} \(x[12] → layer 1 neuron \d\)", text), text
    # One batch of SGD changed every weight by -lr * gradient: the tooltips agree.
    values = tab.evaluate(
        """() => {
            const read = (mode) => {
                document.getElementById('edge-mode').value = mode;
                document.getElementById('edge-mode').dispatchEvent(new Event('change'));
                const hit = document.querySelectorAll('.edge-hit')[1];
                hit.dispatchEvent(new MouseEvent('mouseenter'));
                const text = hit.querySelector('title').textContent;
                hit.dispatchEvent(new MouseEvent('mouseleave'));
                return Number(text.split(' ')[1]);
            };
            return [read('gradient'), read('change')];
        }"""
    )
    gradient, change = values
    assert change == pytest.approx(-0.01 * gradient, rel=3e-3, abs=1e-9), values


def test_the_timeline_restores_an_earlier_frame_exactly_and_play_continues_from_it(
    tab, playground_url
):
    tab.goto(f"{playground_url}/?lr=0.1&points=1000")
    wait_for_current_frame(tab)
    slider = tab.get_by_label("Timeline", exact=True)
    slider.wait_for()
    shown = {0: settled_pixels(tab)}
    for n in (1, 2, 3):
        shown[n] = step_epoch(tab, n)
    assert len({*shown.values()}) == 4, "training changed nothing in the plot"
    epochs = snapshot_epochs(tab)
    assert epochs[0] == 0 and 3 in epochs, epochs
    loss_at_2 = None

    # Back to epoch 1, exactly as it was drawn then; then epoch 0.
    one = epochs.index(1)
    assert seek(tab, one) == shown[1]
    assert epoch(tab) == 1
    assert tab.get_by_test_id("timeline-epoch").text_content().startswith("epoch 1 ")
    # By keyboard: Home is the first snapshot, epoch 0.
    slider.press("Home")
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=timeline]').dataset.snapshot === '0'"
    )
    assert settled_pixels(tab) == shown[0]
    assert slider.get_attribute("aria-valuetext").startswith("epoch 0 (snapshot 1 of ")
    assert seek(tab, epochs.index(2)) == shown[2]
    loss_at_2 = tab.get_by_test_id("train-loss").text_content()

    # Training on from epoch 1 trains what followed it the first time.
    seek(tab, one)
    assert step_epoch(tab, 2) == shown[2]
    assert tab.get_by_test_id("train-loss").text_content() == loss_at_2
    assert slider.get_attribute("aria-valuetext").startswith("live"), "not live after a step"


def test_a_diverging_run_pauses_explains_and_rewinds_with_a_smaller_rate(tab, playground_url):
    # Cross-entropy on the circle is clipped (at most 16.1 a point): it cannot blow up. The
    # mean squared error of a regression with lr 10 does, within the first epoch.
    tab.goto(f"{playground_url}/?dataset=plane&lr=10&speed=5")
    wait_for_current_frame(tab)
    tab.get_by_role("button", name="Play").click()
    panel = tab.get_by_role("alertdialog", name="Training diverged and paused")
    panel.wait_for(timeout=30_000)
    text = panel.text_content()
    assert "last finite train loss" in text
    assert re.search(r"hidden layer 1|output layer", text), text
    rewind = panel.get_by_role("button", name="Rewind and use lr 1")
    assert rewind.evaluate("b => b === document.activeElement")
    assert tab.locator("#play").get_attribute("data-playing") == "0"
    diverged_at = epoch(tab)

    rewind.click()
    wait_for_query(tab, lr="1")
    assert panel.is_hidden()
    loss = tab.get_by_test_id("train-loss")
    tab.wait_for_function("e => /^\\d+\\.\\d{4}$/.test(e.textContent)", arg=loss.element_handle())
    assert epoch(tab) <= diverged_at
    assert tab.get_by_label("Learning rate", exact=True).input_value() == "1"
    snapshot = tab.get_by_test_id("divergence").get_attribute("data-snapshot")
    assert tab.get_by_test_id("timeline").get_attribute("data-snapshot") == snapshot


def test_a_challenge_url_shows_its_goal_and_reports_success_when_met(tab, playground_url):
    tab.goto(f"{playground_url}/?challenge=circle95n4&optimizer=adam&lr=0.03&speed=50")
    wait_for_current_frame(tab)
    banner = tab.get_by_role("region", name="Challenge")
    assert "95% test accuracy on the circle with at most 4 hidden neurons" in banner.text_content()
    # The preset's start: 4 hidden neurons where the URL says nothing; the URL keeps the id.
    wait_for_query(tab, challenge="circle95n4", layers="4:relu")
    met = tab.get_by_test_id("challenge-met")
    assert met.text_content() == ""
    tab.get_by_role("button", name="Play").click()
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=challenge-met]').textContent !== ''",
        timeout=60_000,
    )
    tab.get_by_role("button", name="Pause").click()
    text = met.text_content()
    match = re.fullmatch(
        r"Challenge met at epoch \d+: (\d+\.\d)% test accuracy with 4 hidden neurons\.", text
    )
    assert match, text
    assert float(match.group(1)) >= 95.0
    assert met.get_attribute("role") == "status"
    assert banner.get_attribute("data-met") == "1"


def test_a_challenge_is_not_met_with_too_many_neurons(tab, playground_url):
    tab.goto(f"{playground_url}/?challenge=circle95n4&layers=8:relu&optimizer=adam&lr=0.03")
    wait_for_current_frame(tab)
    wait_for_query(tab, layers="8:relu")
    for n in (1, 2, 3, 4, 5):
        step_epoch(tab, n)
    assert float(tab.get_by_test_id("test-accuracy").text_content().rstrip("%")) >= 95
    progress = tab.locator("#challenge-progress").text_content()
    assert progress.startswith("Not met yet: "), progress
    assert "8 hidden neurons (too many: at most 4)" in progress
    assert tab.get_by_test_id("challenge-met").text_content() == ""


def test_hide_hides_the_named_controls_and_stays_in_the_url(tab, playground_url):
    tab.goto(f"{playground_url}/?hide=lr,optimizer,weights,layers")
    wait_for_current_frame(tab)
    for label in ("Learning rate", "Optimizer"):
        assert tab.get_by_label(label, exact=True).is_hidden(), label
    assert tab.get_by_role("button", name="New weights").is_hidden()
    assert tab.get_by_role("button", name="Add layer").is_hidden()
    assert tab.get_by_role("button", name="Add neuron to layer 1").is_hidden()
    assert tab.get_by_label("Layer 1 activation", exact=True).is_hidden()
    for label in ("Batch size", "Dataset", "Seed"):
        assert tab.get_by_label(label, exact=True).is_visible(), label
    assert tab.get_by_role("button", name="Reset").is_visible()
    # A settings change rewrites the URL: hide= stays.
    tab.get_by_label("Seed", exact=True).fill("4")
    tab.get_by_label("Seed", exact=True).press("Enter")
    wait_for_query(tab, seed=4, hide="lr,optimizer,weights,layers")


DEAD = "dead: this ReLU outputs 0 on every training point, so no gradient reaches its weights"


def test_dead_and_saturated_neurons_are_marked_and_explained(tab, playground_url):
    # SGD at lr 3 kills neuron 3 of the circle's ReLU layer in the first epoch (seed 0).
    tab.goto(f"{playground_url}/?lr=3")
    wait_for_current_frame(tab)
    neuron = tab.locator("[data-neuron='0,2']")
    assert neuron.get_attribute("data-flag") == ""
    step_epoch(tab, 1)
    assert neuron.get_attribute("data-flag") == "dead"
    assert neuron.locator(".flag").is_visible()
    flags = tab.evaluate(
        "() => [...document.querySelectorAll('[data-neuron]')].map((n) => n.dataset.flag)"
    )
    assert flags == ["", "", "dead", "", "", "", "", ""], flags
    neuron.hover()
    tooltip = tab.get_by_role("tooltip")
    tooltip.wait_for()
    assert tooltip.text_content() == DEAD
    tab.mouse.move(2, 2)
    tooltip.wait_for(state="hidden")
    # By keyboard: the focused neuron's tooltip says it under its name.
    neuron.focus()
    tooltip.wait_for()
    lines = tooltip.text_content().split("\n")
    assert lines[:2] == ["Layer 1, neuron 3", DEAD], lines
    assert neuron.get_attribute("aria-describedby") == "tooltip"

    # Adam at lr 1 pushes two tanh neurons onto their flat ends.
    tab.goto(f"{playground_url}/?lr=1&optimizer=adam&layers=8:tanh")
    wait_for_current_frame(tab)
    step_epoch(tab, 1)
    flags = tab.evaluate(
        "() => [...document.querySelectorAll('[data-neuron]')].map((n) => n.dataset.flag)"
    )
    assert flags == ["", "", "saturated", "", "", "saturated", "", ""], flags
    tab.locator("[data-neuron='0,5']").hover()
    tooltip.wait_for()
    assert tooltip.text_content().startswith("saturated: this tanh sits on its flat ends")
