"""The playground's own data, CSV files, backprop inspector and export menu, in real Chromium.

Points are added, moved and removed by clicking the big plot; a CSV is uploaded through the
file input and the current data downloaded; the inspector's numbers for one training point
(and for a batch) are checked against the engine's ``model.forward`` / ``model.backward`` on
the same weights; the export menu shows the command and reports the run folder it saved.
Screenshots land in ``test-artifacts/``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import browser_helpers
import numpy as np
import pytest
from browser_helpers import (
    plot_pixels,
    set_number,
    settled_pixels,
    wait_for_current_frame,
    wait_for_epoch,
)

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 900}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    """The server's --out directory (run folders land here)."""
    return tmp_path_factory.mktemp("serve-out")


@pytest.fixture(scope="module")
def playground_url(out_dir):
    """A playground server for the module's tests, writing run folders under ``out_dir``."""
    from backprop_lab.serve.config import ServeConfig
    from backprop_lab.serve.server import serve_in_background

    fields = {f.name for f in dataclasses.fields(ServeConfig)}
    config = ServeConfig(out=str(out_dir)) if "out" in fields else ServeConfig()
    with serve_in_background(config=config) as url:
        yield url


def open_page(chromium, request, name=None):
    """A tab as ``browser_helpers.open_page`` makes it, taller and accepting downloads."""
    return browser_helpers.open_page(
        chromium, request, viewport=LAPTOP, name=name, accept_downloads=True
    )


@pytest.fixture
def tab(chromium, request):
    return open_page(chromium, request)


# ----------------------------------------------------------------------------- helpers


def counts(page) -> tuple[int, int]:
    """(train, test) as the page's point counts say."""
    text = page.get_by_test_id("point-counts").text_content()
    train, test = text.split(" train · ")
    return int(train), int(test.split(" ")[0])


def wait_for_counts(page, train: int, test: int) -> None:
    page.wait_for_function(
        "t => document.querySelector('[data-testid=point-counts]').textContent === t",
        arg=f"{train} train · {test} test points",
        timeout=10_000,
    )


def client_xy(page, x: float, y: float) -> tuple[float, float]:
    """The page (client) pixel of data point (x, y) on the big plot."""
    box = page.get_by_test_id("plot").bounding_box()
    x0, x1, y0, y1 = map(float, page.get_by_test_id("plot").get_attribute("data-extent").split(","))
    return (
        box["x"] + (x - x0) / (x1 - x0) * box["width"],
        box["y"] + (y1 - y) / (y1 - y0) * box["height"],
    )


def playground_data(**settings):
    """The session's data for playground settings (the server makes the same)."""
    from backprop_lab.runs.runner import load_data
    from backprop_lab.serve.protocol import DEFAULTS
    from backprop_lab.serve.run_settings import run_settings

    s = {**DEFAULTS, **settings}
    return s, load_data(run_settings(s))


def empty_spots(X: np.ndarray, candidates, far: float):
    """The candidate points at least ``far`` from every row of X."""
    return [c for c in candidates if np.min(np.hypot(*(X - np.array(c)).T)) >= far]


# ----------------------------------------------------------------------------- own data


def pick_point(page, index: int) -> None:
    """Inspect training point ``index`` by typing its number, and wait for the panel."""
    set_number(page, "Training point #", index)
    page.wait_for_function(
        "i => document.querySelector('[data-testid=inspector]').dataset.index === String(i)",
        arg=index,
    )


def test_clicking_adds_moves_and_removes_points_and_the_boundary_follows(
    tab, chromium, request, playground_url
):
    url = f"{playground_url}/?points=40&seed=1"
    _, data = playground_data(points=40, seed=1)
    tab.goto(url)
    wait_for_current_frame(tab)
    wait_for_counts(tab, 32, 8)
    assert tab.get_by_test_id("custom-note").is_hidden()

    everything = np.vstack([data.X_train, data.X_test])
    grid = [(x, y) for x in np.linspace(-0.9, 0.9, 7) for y in np.linspace(-0.9, 0.9, 7)]
    spots = empty_spots(everything, grid, far=0.12)
    assert len(spots) >= 6

    tab.get_by_role("button", name="Edit points").click()
    assert tab.get_by_role("button", name="Edit points").get_attribute("aria-pressed") == "true"
    tab.get_by_role("button", name="Class 0", exact=True).click()
    for i, (x, y) in enumerate(spots[:4]):
        modifiers = ["Shift"] if i % 2 else []  # Shift+click adds class 1
        tab.mouse.move(*client_xy(tab, x, y))
        if modifiers:
            tab.keyboard.down("Shift")
        tab.mouse.down()
        tab.mouse.up()
        if modifiers:
            tab.keyboard.up("Shift")
        wait_for_counts(tab, 33 + i, 8)
    assert tab.get_by_test_id("custom-note").is_visible()
    assert (
        tab.get_by_test_id("custom-note").text_content() == "custom data (download CSV to keep it)"
    )
    assert tab.get_by_label("Dataset", exact=True).input_value() == "custom"
    # The picked class, and class 1 with Shift: the downloaded CSV has them where clicked.
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Download CSV").click()
    rows = np.loadtxt(download.value.path(), delimiter=",", skiprows=1)
    assert len(rows) == 44
    for i, (x, y) in enumerate(spots[:4]):
        near = rows[np.argmin(np.hypot(rows[:, 0] - x, rows[:, 1] - y))]
        assert near[:2] == pytest.approx((x, y), abs=0.02)
        assert near[2] == i % 2

    # "Add to: test" puts the next one among the test points.
    tab.get_by_label("Add to", exact=True).select_option("test")
    tab.mouse.click(*client_xy(tab, *spots[4]))
    wait_for_counts(tab, 36, 9)
    tab.get_by_label("Add to", exact=True).select_option("train")

    # Drag the first added point to another empty spot; the counts stay, the point moves.
    before = tab.get_by_test_id("plot").evaluate("c => c.dataset.train")
    tab.mouse.move(*client_xy(tab, *spots[0]))
    tab.mouse.down()
    tab.mouse.move(*client_xy(tab, *spots[5]), steps=6)
    tab.mouse.up()
    tab.wait_for_timeout(500)
    assert tab.get_by_test_id("plot").evaluate("c => c.dataset.train") == before
    # The old spot is empty now: a right-click there removes nothing; at the new spot, the point.
    tab.mouse.click(*client_xy(tab, *spots[0]), button="right")
    tab.wait_for_timeout(300)
    assert counts(tab) == (36, 9)
    tab.mouse.click(*client_xy(tab, *spots[5]), button="right")
    wait_for_counts(tab, 35, 9)
    # Select one with a click, remove it with the Delete key.
    tab.mouse.click(*client_xy(tab, *spots[1]))
    tab.keyboard.press("Delete")
    wait_for_counts(tab, 34, 9)

    # Training on the edited points draws another boundary than on the original ones.
    tab.get_by_role("button", name="Edit points").click()
    for n in (1, 2, 3):
        tab.get_by_role("button", name="Step", exact=True).click()
        wait_for_epoch(tab, n)
    edited = settled_pixels(tab)
    other = open_page(chromium, request, name=f"{request.node.name}-unedited")
    other.goto(url)
    wait_for_current_frame(other)
    for n in (1, 2, 3):
        other.get_by_role("button", name="Step", exact=True).click()
        wait_for_epoch(other, n)
    assert settled_pixels(other) != edited


def test_regression_points_take_the_target_value(tab, playground_url):
    tab.goto(f"{playground_url}/?dataset=plane&points=40&seed=2")
    wait_for_current_frame(tab)
    wait_for_counts(tab, 32, 8)
    tab.get_by_role("button", name="Edit points").click()
    assert tab.get_by_role("button", name="Class 0", exact=True).count() == 0
    tab.get_by_label("Target value", exact=True).fill("0.75")
    _, data = playground_data(dataset="plane", points=40, seed=2)
    everything = np.vstack([data.X_train, data.X_test])
    x0, x1, y0, y1 = map(float, tab.get_by_test_id("plot").get_attribute("data-extent").split(","))
    grid = [(x, y) for x in np.linspace(x0, x1, 12)[1:-1] for y in np.linspace(y0, y1, 12)[1:-1]]
    x, y = empty_spots(everything, grid, far=0.1 * (x1 - x0))[0]
    tab.mouse.click(*client_xy(tab, x, y))
    wait_for_counts(tab, 33, 8)
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Download CSV").click()
    rows = Path(download.value.path()).read_text().splitlines()
    added = [r for r in rows[1:] if r.endswith(",0.75")]
    assert len(added) == 1
    ax, ay, _ = map(float, added[0].split(","))
    assert (ax, ay) == pytest.approx((x, y), abs=0.05)


# ----------------------------------------------------------------------------- CSV


def test_upload_a_csv_download_it_back_and_a_bad_csv_names_its_line(tab, playground_url, tmp_path):
    rng = np.random.default_rng(5)
    X = np.round(rng.uniform(-2, 2, size=(60, 2)), 3)
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 0] > 1).astype(int)  # 3 classes
    good = tmp_path / "mine.csv"
    good.write_text("x1,x2,label\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X, y)))

    tab.goto(f"{playground_url}/?points=100")
    wait_for_current_frame(tab)
    tab.locator("#upload-csv").set_input_files(str(good))
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=upload-note]')"
        ".textContent.startsWith('Uploaded')"
    )
    train, test = counts(tab)
    assert train + test == 60 and test == 12  # the default test ratio 0.2
    assert tab.get_by_test_id("custom-note").is_visible()
    tab.get_by_role("button", name="Edit points").click()
    assert tab.get_by_role("button", name="Class 2", exact=True).is_visible()
    wait_for_current_frame(tab)

    with tab.expect_download() as download:
        tab.get_by_role("button", name="Download CSV").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "x1,x2,label"
    back = sorted(tuple(float(v) for v in line.split(",")) for line in lines[1:])
    assert back == sorted((float(a), float(b), float(c)) for (a, b), c in zip(X, y))

    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n0.1,0.2,0\n0.3,0.4,1\n0.5,oops,1\n")
    tab.locator("#upload-csv").set_input_files(str(bad))
    note = tab.get_by_test_id("upload-note")
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=upload-note]').classList.contains('error')"
    )
    assert "line 4" in note.text_content(), note.text_content()
    assert "line 4" in tab.get_by_test_id("status").text_content()
    assert counts(tab) == (train, test)  # the refused file changed nothing

    # A file over the limit is refused by the page itself, naming the limit.
    big = tmp_path / "big.csv"
    big.write_text("x1,x2,label\n" + "0.12345,0.12345,1\n" * 32_000)
    tab.locator("#upload-csv").set_input_files(str(big))
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=upload-note]').textContent.includes('512 KiB')"
    )
    assert "big.csv" in note.text_content()


# ----------------------------------------------------------------------------- inspector


def engine_pass(model, X, y):
    """Forward and backward through ``model`` on (X, y): every Dense layer's numbers, and the
    step plain SGD takes, as the model's float32 weights change (``(w - lr*g) - w``)."""
    Y = model.loss.prepare_targets(y, model.layers[-1].units, model.dtype)  # as fit does
    P = model.forward(X)
    model.backward(Y, P)
    lr = float(model.optimizer.learning_rate)  # a Python float: float32 arithmetic, as SGD does
    out = []
    for layer in model.layers:
        dW, db = (g.copy() for g in layer.grads)
        step_W, step_b = ((p - lr * g) - p for p, g in zip(layer.params, (dW, db)))
        out.append({"z": layer.Z, "a": layer.A, "dW": dW, "db": db, "sW": step_W, "sb": step_b})
    return out


def shown_numbers(page) -> dict:
    """Every number of the inspector panel by (quantity, layer, i, j)."""
    cells = page.eval_on_selector_all(
        "[data-testid=inspector] [data-q]",
        """cs => cs.map((c) => [c.dataset.q, c.dataset.l ?? '', c.dataset.i ?? '',
                                c.dataset.j ?? '', Number(c.dataset.value)])""",
    )
    return {tuple(c[:4]): c[4] for c in cells}


def check_layer(shown, k, engine, lr, batch=False):
    """The panel's numbers of Dense layer ``k`` against the engine's (means for a batch)."""
    z = engine["z"].mean(axis=0) if batch else engine["z"][0]
    a = engine["a"].mean(axis=0) if batch else engine["a"][0]
    for j in range(len(z)):
        assert shown[("z", str(k), "", str(j))] == pytest.approx(z[j], rel=1e-6, abs=1e-9)
        assert shown[("a", str(k), "", str(j))] == pytest.approx(a[j], rel=1e-6, abs=1e-9)
        db = engine["db"][j]
        assert shown[("db", str(k), "", str(j))] == pytest.approx(db, rel=1e-6, abs=1e-12)
        step = engine["sb"][j]
        assert shown[("step_b", str(k), "", str(j))] == pytest.approx(step, rel=1e-6, abs=1e-12)
    for (i, j), g in np.ndenumerate(engine["dW"]):
        assert shown[("dW", str(k), str(i), str(j))] == pytest.approx(g, rel=1e-6, abs=1e-12)
        step = shown[("step_W", str(k), str(i), str(j))]
        assert step == pytest.approx(engine["sW"][i, j], rel=1e-6, abs=1e-12)
        assert step == pytest.approx(-lr * g, rel=1e-3, abs=1e-7)  # = −η·g up to float32


def test_the_inspector_shows_the_engines_gradients_for_a_point_and_a_batch(tab, playground_url):
    from backprop_lab.runs.runner import build_model
    from backprop_lab.serve.run_settings import run_settings

    settings, data = playground_data(points=100, seed=3, lr=0.1)
    settings["layers"] = [{"units": 4, "activation": "tanh"}, {"units": 3, "activation": "sigmoid"}]
    model = build_model(run_settings(settings), 2, 2)

    # The training point farthest from its neighbours: a click cannot miss it.
    X = data.X_train
    gaps = [np.sort(np.hypot(*(X - p).T))[1] for p in X]
    index = int(np.argmax(gaps))

    tab.goto(f"{playground_url}/?points=100&seed=3&lr=0.1&layers=4:tanh,3:sigmoid")
    wait_for_current_frame(tab)
    before = settled_pixels(tab)
    tab.mouse.click(*client_xy(tab, *X[index]))  # not editing: a click picks the point
    panel = tab.get_by_test_id("inspector")
    panel.wait_for()
    tab.wait_for_function(
        "i => document.querySelector('[data-testid=inspector]').dataset.index === String(i)"
        " && document.querySelectorAll('[data-testid=inspector] [data-q=z]').length > 0",
        arg=index,
    )
    assert tab.get_by_test_id("plot").get_attribute("data-inspected") == str(index)
    assert plot_pixels(tab) != before  # the point is marked
    # Stage 1 shows the forward pass only, with its formulas.
    assert panel.locator("[data-stage=forward]").is_visible()
    assert panel.locator("[data-stage=backward]").count() == 0
    assert "z = a_prev·W + b" in panel.text_content()
    tab.get_by_role("button", name="Next: backward").click()
    assert "δ = (δ_next·W_nextᵀ) ⊙ f′(z)" in panel.text_content()
    assert "∂L/∂W = a_prevᵀ·δ" in panel.text_content()
    tab.get_by_role("button", name="Next: update").click()
    assert "Δw = −η·g" in panel.text_content()

    engine = engine_pass(model, X[index : index + 1], data.y_train[index : index + 1])
    shown = shown_numbers(tab)
    for k, value in enumerate(X[index]):
        assert shown[("x", "", str(k), "")] == pytest.approx(value, rel=1e-6)
    loss = model.evaluate(X[index : index + 1], data.y_train[index : index + 1], verbose=0)[0]
    assert shown[("loss", "", "", "")] == pytest.approx(loss, rel=1e-6)
    for k, layer in enumerate(engine):
        check_layer(shown, k, layer, lr=0.1)
    # The diagram carries the numbers too: each hidden neuron's δ in this stage.
    label = tab.locator("[data-neuron='1,2']").get_attribute("data-inspected")
    assert float(label.split("= ")[1]) == pytest.approx(engine[1]["db"][2], rel=1e-6)

    # A batch: the server names its rows; the panel shows their means and the batch gradient.
    tab.get_by_role("button", name="Inspect a batch").click()
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=inspector]').dataset.scope === 'batch'"
    )
    tab.wait_for_timeout(300)
    rows = [int(r) for r in panel.get_attribute("data-rows").split(",")]
    assert len(rows) == 32
    shown = shown_numbers(tab)
    engine = engine_pass(model, X[rows], data.y_train[rows])
    for k, layer in enumerate(engine):
        check_layer(shown, k, layer, lr=0.1, batch=True)

    tab.get_by_role("button", name="Close inspector").click()
    assert panel.is_hidden()
    assert tab.get_by_test_id("plot").get_attribute("data-inspected") == ""


# ----------------------------------------------------------------------------- export


def test_export_shows_the_command_and_saves_a_run_folder(tab, playground_url, out_dir):
    tab.goto(f"{playground_url}/?points=200&seed=4")
    wait_for_current_frame(tab)
    tab.get_by_role("button", name="Step", exact=True).click()
    wait_for_epoch(tab, 1)
    tab.get_by_text("Export", exact=True).click()
    tab.get_by_role("button", name="Command").click()
    text = tab.get_by_test_id("export-text")
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=export-text]').value.includes('backprop-lab')"
    )
    command = text.input_value()
    assert command.startswith("backprop-lab train"), command
    assert "--seed 4" in command or "--seed=4" in command, command

    tab.get_by_role("button", name="TOML config").click()
    tab.wait_for_function(
        "() => /seed\\s*=\\s*4/.test(document.querySelector('[data-testid=export-text]').value)"
    )

    tab.get_by_role("button", name="Save as run folder").click()
    result = tab.get_by_test_id("export-result")
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=export-result]').dataset.folder",
        timeout=60_000,
    )
    folder = result.get_attribute("data-folder")
    assert folder in result.text_content()
    assert not Path(folder).is_absolute() and ".." not in folder
    assert (out_dir / folder / "report.html").is_file()

    downloads = []
    tab.on("download", lambda d: downloads.append(d))
    tab.get_by_role("button", name="Model (safetensors + JSON)").click()
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=export-result]').textContent"
        ".startsWith('Downloaded')"
    )
    tab.get_by_role("button", name=".keras file").click()
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=export-result]').textContent"
        ".includes('model.keras')"
    )
    tab.wait_for_timeout(500)
    names = sorted(d.suggested_filename for d in downloads)
    assert names == ["model.json", "model.keras", "model.safetensors"]
    saved = {d.suggested_filename: Path(d.path()).read_bytes() for d in downloads}
    assert saved["model.safetensors"][8:9] == b"{"  # a safetensors header follows its length

    # The command box shows its text, and Copy copies it.
    tab.get_by_role("button", name="Command").click()
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=export-text]').value.startsWith('backprop-lab')"
    )
    tab.get_by_role("button", name="Copy").click()
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=export-result]').textContent"
        ".startsWith('Copied')"
    )

    # Custom points cannot be written as a command: the page shows the server's reason.
    tab.get_by_role("button", name="Edit points").click()
    _, data = playground_data(points=200, seed=4)
    grid = [(x, y) for x in np.linspace(-0.9, 0.9, 10) for y in np.linspace(-0.9, 0.9, 10)]
    spot = empty_spots(np.vstack([data.X_train, data.X_test]), grid, far=0.08)[0]
    tab.mouse.click(*client_xy(tab, *spot))
    tab.get_by_test_id("custom-note").wait_for()
    tab.get_by_role("button", name="Command").click()
    tab.wait_for_function(
        "() => document.querySelector('[data-testid=export-result]').textContent"
        ".startsWith('No Command')"
    )
    assert text.is_hidden()


def test_the_inspector_shows_adams_step_and_state(tab, playground_url):
    from backprop_lab.runs.runner import build_model
    from backprop_lab.serve.run_settings import run_settings

    settings, data = playground_data(points=60, seed=6, optimizer="adam", lr=0.05)
    model = build_model(run_settings(settings), 2, 2)
    X = data.X_train
    index = 7

    tab.goto(f"{playground_url}/?points=60&seed=6&optimizer=adam&lr=0.05")
    wait_for_current_frame(tab)
    tab.get_by_role("button", name="Inspect", exact=True).click()
    panel = tab.get_by_test_id("inspector")
    panel.wait_for()
    assert "Click a training point" in panel.text_content()
    pick_point(tab, index)  # the keyboard's way to pick
    tab.get_by_role("button", name="3 Update").click()
    assert "optimizer adam" in panel.text_content()
    assert "β₁" in panel.text_content()  # Adam's rule beside its numbers

    # The engine's Adam step from a fresh state, on the model's own float32 weights.
    Y = model.loss.prepare_targets(data.y_train[index : index + 1], 1, model.dtype)
    model.backward(Y, model.forward(X[index : index + 1]))
    grads = [g.copy() for g in model.grads]
    before = [p.copy() for p in model.params]
    model.optimizer.build(model.params)
    slots = sorted(model.optimizer.slots)
    model.optimizer.step(model.params, grads)
    steps = [p - b for p, b in zip(model.params, before)]

    shown = shown_numbers(tab)
    for k in range(len(model.layers)):
        for (i, j), value in np.ndenumerate(steps[2 * k]):
            got = shown[("step_W", str(k), str(i), str(j))]
            assert got == pytest.approx(value, rel=1e-6, abs=1e-12)
        for j, value in enumerate(steps[2 * k + 1]):
            got = shown[("step_b", str(k), "", str(j))]
            assert got == pytest.approx(value, rel=1e-6, abs=1e-12)
    # Its state before the step (fresh: zeros) is listed slot by slot, per layer.
    for slot in slots:
        values = [v for key, v in shown.items() if key[0] == f"state:{slot}:W"]
        assert values and all(v == 0 for v in values), slot


def test_after_training_the_inspector_uses_the_trained_weights(tab, playground_url):
    from backprop_lab.runs.runner import build_model
    from backprop_lab.serve.run_settings import run_settings

    settings, data = playground_data(dataset="xor", points=200, seed=8, lr=0.3)
    model = build_model(run_settings(settings), 2, 2)
    start = [p.copy() for p in model.params]
    tab.goto(f"{playground_url}/?dataset=xor&points=200&seed=8&lr=0.3")
    wait_for_current_frame(tab)
    for n in (1, 2):
        tab.get_by_role("button", name="Step", exact=True).click()
        wait_for_epoch(tab, n)
    index = 11
    tab.get_by_role("button", name="Inspect", exact=True).click()
    pick_point(tab, index)
    tab.get_by_role("button", name="2 Backward").click()
    shown = shown_numbers(tab)
    # The weights the panel shows are the trained ones (not the initial ones) ...
    for k, layer in enumerate(model.layers):
        fan_in, units = layer.W.shape
        W = [[shown[("W", str(k), str(i), str(j))] for j in range(units)] for i in range(fan_in)]
        layer.W[...] = np.array(W, dtype=np.float32)
        layer.b[...] = [shown[("b", str(k), "", str(j))] for j in range(units)]
    assert not all(np.array_equal(p, s) for p, s in zip(model.params, start))
    # ... and the engine on those weights gives the panel's numbers.
    engine = engine_pass(model, data.X_train[index : index + 1], data.y_train[index : index + 1])
    for k, layer in enumerate(engine):
        for j, value in enumerate(layer["z"][0]):
            assert shown[("z", str(k), "", str(j))] == pytest.approx(value, rel=1e-6, abs=1e-9)
        for j, value in enumerate(layer["db"]):
            assert shown[("delta", str(k), "", str(j))] == pytest.approx(value, rel=1e-6, abs=1e-12)
        for (i, j), value in np.ndenumerate(layer["dW"]):
            got = shown[("dW", str(k), str(i), str(j))]
            assert got == pytest.approx(value, rel=1e-6, abs=1e-12)
