"""The playground page (``backprop-lab serve``) in real headless Chromium.

Every test drives the page through its stable interface: controls by their
accessible names, readouts by ``data-testid`` (see the README). Screenshots of
each test land in ``test-artifacts/`` at the repository's root.
"""

from __future__ import annotations

import itertools
import re

import pytest
from browser_helpers import (
    epoch,
    open_page,
    percent,
    plot_pixels,
    query,
    query_of,
    set_number,
    settled_pixels,
    wait_for_current_frame,
    wait_for_epoch,
    wait_for_query,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def tab(chromium, request):
    return open_page(chromium, request)


# ----------------------------------------------------------------------------- helpers


# ----------------------------------------------------------------------------- tests


def test_play_trains_and_redraws_the_plot(tab, playground_url):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    assert epoch(tab) == 0
    before = plot_pixels(tab)
    play = tab.get_by_role("button", name="Play")
    play.click()
    wait_for_epoch(tab, 3)
    # The one play/pause button now offers to pause.
    assert tab.get_by_role("button", name="Pause").text_content().strip().endswith("Pause")
    assert plot_pixels(tab) != before
    tab.get_by_role("button", name="Pause").click()
    assert tab.get_by_test_id("train-loss").text_content() != "–"


def test_learning_rate_point_one_learns_the_circle(tab, playground_url):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    assert tab.get_by_label("Dataset", exact=True).input_value() == "circle"
    assert tab.get_by_label("Points", exact=True).input_value() == "5000"
    set_number(tab, "Learning rate", 0.1)
    tab.get_by_label("Speed", exact=True).fill("10")  # the slider's stop for 200 epochs/s
    wait_for_query(tab, lr="0.1", speed="200")
    assert percent(tab, "baseline") == pytest.approx(80.0, abs=5)  # the circle's majority
    tab.get_by_role("button", name="Play").click()
    tab.wait_for_function(
        "() => parseFloat(document.querySelector('[data-testid=test-accuracy]').textContent) > 95",
        timeout=30_000,
    )
    assert percent(tab, "test-accuracy") > percent(tab, "baseline")


def test_the_url_holds_the_settings_and_reproduces_the_first_frame(tab, playground_url):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    start = tab.url
    tab.get_by_label("Dataset", exact=True).select_option("xor")
    set_number(tab, "Points", 800)
    set_number(tab, "Seed", 7)
    tab.get_by_role("button", name="x1²", exact=True).click()
    tab.get_by_role("button", name="Add layer").click()
    wait_for_query(tab, dataset="xor", points=800, seed=7, features="x1,x2,x1sq")
    wait_for_query(tab, layers="8:relu,4:relu")
    tab.get_by_label("Activation", exact=True).select_option("tanh")  # every layer
    wait_for_query(tab, layers="8:tanh,4:tanh")
    tab.get_by_label("Layer 2 activation", exact=True).select_option("sigmoid")
    wait_for_query(tab, layers="8:tanh,4:sigmoid")
    assert tab.url != start
    wait_for_current_frame(tab)
    first = settled_pixels(tab)
    shared = tab.url

    tab.goto(shared)
    wait_for_current_frame(tab)
    assert tab.get_by_label("Dataset", exact=True).input_value() == "xor"
    assert tab.get_by_label("Points", exact=True).input_value() == "800"
    assert tab.get_by_label("Seed", exact=True).input_value() == "7"
    assert tab.get_by_role("button", name="x1²", exact=True).get_attribute("aria-pressed") == "true"
    assert (
        tab.get_by_role("button", name="x2²", exact=True).get_attribute("aria-pressed") == "false"
    )
    assert tab.get_by_label("Layer 2 activation", exact=True).input_value() == "sigmoid"
    assert tab.get_by_label("Activation", exact=True).input_value() == "mixed"
    assert epoch(tab) == 0
    assert settled_pixels(tab) == first
    assert query(tab) == query_of(shared)


def test_phone_layout_stacks_without_overlap_or_sideways_scroll(chromium, playground_url, request):
    page = open_page(chromium, request, viewport=PHONE)
    page.goto(playground_url)
    wait_for_current_frame(page)
    boxes = [
        page.locator(selector).bounding_box()
        for selector in (
            "header",
            "[data-testid=data-panel]",
            "[data-testid=network-panel]",
            "[data-testid=output-panel]",
        )
    ]
    assert all(box and box["width"] > 0 and box["height"] > 0 for box in boxes)
    for a, b in itertools.combinations(boxes, 2):
        apart = (
            a["x"] + a["width"] <= b["x"] + 0.5
            or b["x"] + b["width"] <= a["x"] + 0.5
            or a["y"] + a["height"] <= b["y"] + 0.5
            or b["y"] + b["height"] <= a["y"] + 0.5
        )
        assert apart, f"panels overlap: {a} and {b}"
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    plot = page.get_by_test_id("plot").bounding_box()
    assert 300 <= plot["width"] <= PHONE["width"]


def focused_name(page) -> str:
    """The accessible name of the focused element (aria-label, label, or visible text)."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            const label = e.labels && e.labels.length ? e.labels[0].textContent : null;
            const text = e.cloneNode(true);
            text.querySelectorAll('[aria-hidden=true]').forEach((x) => x.remove());
            return (e.getAttribute('aria-label') || label || text.textContent).trim();
        }"""
    )


def test_keyboard_alone_plays_pauses_and_reaches_every_control(tab, playground_url):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    # Tab to Play, Enter plays, Space pauses.
    for _ in range(10):
        tab.keyboard.press("Tab")
        if focused_name(tab) == "Play":
            break
    else:
        raise AssertionError("Tab never reached the Play button")
    outline = tab.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused Play button has no visible outline"
    tab.keyboard.press("Enter")
    wait_for_epoch(tab, 2)
    assert focused_name(tab) == "Pause"
    tab.keyboard.press("Space")
    tab.get_by_role("button", name="Play").wait_for()
    tab.wait_for_timeout(500)  # a frame already on its way may still arrive
    stopped = epoch(tab)
    tab.wait_for_timeout(1000)
    assert epoch(tab) == stopped

    # On from there: every control is reached by Tab.
    names = set()
    for _ in range(80):
        tab.keyboard.press("Tab")
        names.add(focused_name(tab))
    wanted = {
        "Step", "One batch", "Dataset", "Points", "Noise",
        "Test ratio", "Regenerate", "Show test data", "Discretize output", "Learning rate",
        "Batch size", "Optimizer", "Activation", "Regularization", "Regularization rate",
        "Loss", "Speed", "Seed", "Add layer", "Remove layer", "x1", "sin x2",
        "Add neuron to layer 1", "Layer 1 activation",
    }  # fmt: skip
    # "Classes" is disabled on the circle, which has two classes only.
    assert wanted <= names, f"not reached by Tab: {wanted - names}"


def test_the_page_shows_the_numbers_of_the_python_api(tab, playground_url):
    from backprop_lab.runs.runner import build_model, load_data
    from backprop_lab.runs.settings import Settings

    settings = Settings(seed=3, lr=0.1).validate()
    data = load_data(settings)
    model = build_model(settings, 2, 2)
    model.fit(data.X_train, data.y_train, epochs=3, batch_size=32, verbose=0)
    train_loss, _ = model.evaluate(data.X_train, data.y_train, verbose=0)
    test_loss, test_accuracy = model.evaluate(data.X_test, data.y_test, verbose=0)

    tab.goto(playground_url)
    wait_for_current_frame(tab)
    set_number(tab, "Seed", 3)
    set_number(tab, "Learning rate", 0.1)
    wait_for_query(tab, seed=3, lr="0.1")
    wait_for_current_frame(tab)
    for n in (1, 2, 3):
        tab.get_by_role("button", name="Step", exact=True).click()
        wait_for_epoch(tab, n)
    assert epoch(tab) == 3
    shown = {k: tab.get_by_test_id(k).text_content() for k in ("train-loss", "test-loss")}
    for key, value in (("train-loss", train_loss), ("test-loss", test_loss)):
        assert re.fullmatch(r"\d+\.\d{4}", shown[key]), shown
        assert float(shown[key]) == pytest.approx(value, abs=1.01e-4), (key, shown[key], value)
    assert tab.get_by_test_id("test-accuracy").text_content() == f"{100 * test_accuracy:.1f}%"


def test_hovering_a_neuron_shows_it_on_the_big_plot_and_an_edge_shows_its_weight(
    tab, playground_url
):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    output = settled_pixels(tab)
    plot = tab.get_by_test_id("plot")
    tab.locator("[data-neuron='0,2']").hover()
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=plot]').dataset.focus === '0,2'"
    )
    assert plot_pixels(tab) != output
    tab.mouse.move(2, 2)  # leave: the output again
    tab.wait_for_function("() => document.querySelector('[data-testid=plot]').dataset.focus === ''")
    assert plot.get_attribute("data-focus") == ""
    assert settled_pixels(tab) == output

    tab.locator(".edge-hit").first.hover(force=True)
    tooltip = tab.get_by_role("tooltip")
    tooltip.wait_for()
    text = tooltip.text_content()
    assert re.fullmatch(r"Weight -?\d+\.\d{4} \(x[12] → layer 1 neuron \d\)", text), text
    titles = tab.locator(".edge-hit title").all_text_contents()
    assert text in titles  # the SVG <title> says the same


def test_a_refused_value_shows_the_servers_error_and_changes_nothing(tab, playground_url):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    set_number(tab, "Learning rate", 50)
    status = tab.get_by_test_id("status")
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=status]').classList.contains('error')"
    )
    assert "lr" in status.text_content()
    assert status.get_attribute("role") == "status"
    assert tab.get_by_label("Learning rate", exact=True).input_value() == "0.01"
    assert query(tab)["lr"] == "0.01"
    # The next accepted change clears the error.
    set_number(tab, "Learning rate", 0.03)
    wait_for_query(tab, lr="0.03")
    assert "error" not in (status.get_attribute("class") or "")


def test_many_classes_and_regression_have_their_readouts(tab, playground_url):
    tab.goto(f"{playground_url}/?dataset=spiral&classes=3&points=600&test=1")
    wait_for_current_frame(tab)
    assert tab.get_by_label("Classes", exact=True).input_value() == "3"
    assert tab.get_by_label("Show test data", exact=True).is_checked()
    assert tab.locator("#legend").text_content().count("class ") == 3
    assert tab.get_by_test_id("r2").is_hidden()
    assert 0 < percent(tab, "test-accuracy") <= 100
    assert percent(tab, "baseline") < 50  # three balanced classes

    tab.get_by_label("Dataset", exact=True).select_option("ripple")
    wait_for_query(tab, dataset="ripple", classes=2)
    wait_for_current_frame(tab)
    tab.get_by_role("button", name="Step", exact=True).click()
    wait_for_epoch(tab, 1)
    assert tab.get_by_test_id("test-accuracy").is_hidden()
    assert re.fullmatch(r"-?\d+\.\d{3}", tab.get_by_test_id("r2").text_content())


def test_space_on_a_checkbox_toggles_it_and_does_not_play(tab, playground_url):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    for _ in range(80):
        tab.keyboard.press("Tab")
        if focused_name(tab) == "Show test data":
            break
    else:
        raise AssertionError("Tab never reached 'Show test data'")
    tab.keyboard.press("Space")
    box = tab.get_by_label("Show test data", exact=True)
    assert box.is_checked()
    wait_for_query(tab, test=1)
    tab.wait_for_timeout(500)  # a play, had it been sent, would have moved the epoch by now
    assert epoch(tab) == 0
    assert tab.locator("#play").get_attribute("data-playing") == "0"
    tab.get_by_role("button", name="Play").wait_for()
    tab.keyboard.press("Space")  # and back: Space is the box's, again
    assert not box.is_checked()
    wait_for_query(tab, test=0)


def test_a_neuron_focused_by_keyboard_shows_on_the_plot_with_its_weights(tab, playground_url):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    for _ in range(80):
        tab.keyboard.press("Tab")
        if focused_name(tab) == "Neuron 3 of layer 1":
            break
    else:
        raise AssertionError("Tab never reached 'Neuron 3 of layer 1'")
    assert tab.evaluate("() => document.activeElement.getAttribute('role')") == "button"
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=plot]').dataset.focus === '0,2'"
    )
    tooltip = tab.get_by_role("tooltip")
    tooltip.wait_for()
    lines = tooltip.text_content().split("\n")
    number = r"-?\d+\.\d{4}"
    assert lines[0] == "Layer 1, neuron 3", lines
    assert re.fullmatch(f"bias {number}", lines[1]), lines
    assert re.fullmatch(f"x1 → {number}", lines[2]), lines
    assert re.fullmatch(f"x2 → {number}", lines[3]), lines
    assert len(lines) == 4
    # The tooltip's weight from x1 is the one the edge x1 → neuron 3 shows to the mouse.
    edge = tab.evaluate(
        """() => {
            const hits = [...document.querySelectorAll('.edge-hit')];
            hits[2].dispatchEvent(new MouseEvent('mouseenter'));
            const text = hits[2].querySelector('title').textContent;
            hits[2].dispatchEvent(new MouseEvent('mouseleave'));
            return text;
        }"""
    )
    assert edge == f"Weight {lines[2].split(' → ')[1]} (x1 → layer 1 neuron 3)"
    for _ in range(4):  # back past neurons 2 and 1 to the layer's select: the output again
        tab.keyboard.press("Shift+Tab")
        if focused_name(tab) == "Layer 1 activation":
            break
    assert focused_name(tab) == "Layer 1 activation"
    tab.wait_for_function("() => document.querySelector('[data-testid=plot]').dataset.focus === ''")
    assert tooltip.is_hidden()


def test_a_bad_url_value_is_reported_and_the_rest_of_the_url_applies(tab, playground_url):
    tab.goto(f"{playground_url}/?lr=100&seed=5")
    wait_for_current_frame(tab)
    status = tab.get_by_test_id("status")
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=status]').classList.contains('error')"
    )
    assert "lr" in status.text_content()
    assert tab.get_by_label("Learning rate", exact=True).input_value() == "0.01"
    assert tab.get_by_label("Seed", exact=True).input_value() == "5"
    wait_for_query(tab, lr="0.01", seed=5)
    assert int(tab.get_by_test_id("plot").get_attribute("data-frames")) >= 1
    tab.wait_for_timeout(300)  # the error stays until the user acts
    assert "lr" in status.text_content()


def test_the_servers_idle_message_stays_when_the_socket_closes(chromium, request):
    from backprop_lab.serve.config import ServeConfig
    from backprop_lab.serve.server import serve_in_background

    page = open_page(chromium, request)
    with serve_in_background(config=ServeConfig(idle_timeout=1.0)) as url:
        page.goto(url)
        wait_for_current_frame(page)  # paused, nothing to ack: the tab falls silent
        page.wait_for_function(
            "() => document.querySelector('[data-testid=status]').textContent"
            ".includes('Disconnected')",
            timeout=20_000,
        )
    text = page.get_by_test_id("status").text_content()
    assert text.startswith("this tab sent nothing for 1 s"), text
    assert text.endswith("Disconnected from the server."), text


def test_the_lists_come_from_the_servers_hello(tab, playground_url):
    from backprop_lab.data.datasets import DATASETS, MULTICLASS, REGRESSION

    tab.goto(playground_url)
    wait_for_current_frame(tab)
    options = tab.get_by_label("Dataset", exact=True).locator("option")
    values = options.evaluate_all("os => os.map((o) => [o.value, o.textContent])")
    assert [v for v, _ in values] == list(DATASETS)
    for value, label in values:
        assert label == (f"{value} (regression)" if value in REGRESSION else value)
    note = tab.locator("#classes-note").text_content()
    assert all(name in note for name in MULTICLASS), note
    assert tab.get_by_label("Classes", exact=True).is_disabled()  # the circle has 2


def test_a_frame_that_fails_to_draw_is_still_acknowledged(tab, playground_url):
    tab.goto(playground_url)
    wait_for_current_frame(tab)
    # Break the last step of drawing a frame: the readout above the plot is gone.
    tab.evaluate("() => document.getElementById('plot-what').remove()")
    frames = int(tab.get_by_test_id("plot").get_attribute("data-frames"))
    tab.get_by_role("button", name="Play").click()
    tab.wait_for_function(
        "n => Number(document.querySelector('[data-testid=plot]').dataset.frames) >= n",
        arg=frames + 5,  # more frames came: each was acknowledged although drawing it failed
        timeout=20_000,
    )
    assert "Could not draw a frame" in tab.get_by_test_id("status").text_content()
    tab.get_by_role("button", name="Pause").click()
