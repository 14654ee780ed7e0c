"""One tab's playground: its data, its network, and where its training is.

A session trains through the model's own ``fit`` (the compiled engine where
the model allows it), a chunk of mini-batches at a time, so the numbers it
shows are the numbers of the Python API.  Its batches are exactly those of
``model.fit(X_train, y_train, epochs=E, batch_size=B)``: at the start of each
epoch it draws the sample order from the model's generator as ``fit`` does,
and each chunk trains the next batches of that order with ``shuffle=False``.
So playing, stepping by epochs or by single batches all walk the same batches,
and a session with the defaults and seed ``S`` trains what
``backprop-lab train --seed S`` trains.

Every method is called from a worker thread, one at a time per session
(the app holds the session's lock); nothing here touches the event loop.
"""

from __future__ import annotations

import copy
import math
import threading
import time

import numpy as np

from ..data import datasets
from ..engine.compiled.trainer import unsupported_reason
from ..engine.metrics import baseline_accuracy, grid_points, padded_extent, regression_scores
from ..engine.regularizers import L1, L2
from ..runs.runner import build_model, load_data
from ..runs.settings import output_for
from . import divergence, export, frames, timeline, userdata
from .features import FEATURES, transform
from .protocol import DEFAULTS, ProtocolError, merge_settings
from .run_settings import run_settings

# Settings whose change makes new data (and so a new network), or a new network.
DATA_KEYS = ("dataset", "classes", "points", "noise", "test_ratio", "seed")
NETWORK_KEYS = ("features", "layers", "regularization", "reg_rate", "loss", "weights")
MAX_STEP_SECONDS = 0.25  # a longer gap between two ticks trains as if it were this long


class Session:
    """The state of one tab: settings, data, model, training position, frames.

    Attributes
    ----------
    settings : dict
        The checked settings (see ``protocol.DEFAULTS``).
    playing : bool
    run : int
        Rises each time the network is rebuilt or reset.
    epoch : int
        Finished epochs.
    position : int
        Samples of the current epoch's order already trained on.
    changed : bool
        Whether the next frame would differ from the last one sent.
    cpu_seconds : float
        CPU time this session's work has used (counted by the app).
    """

    grid = 100  # cells per side of the big plot
    thumb = 20  # cells per side of a neuron's thumbnail

    def __init__(self):
        self.settings = copy.deepcopy(DEFAULTS)
        self.lock = threading.Lock()
        self.playing = False
        self.run = 0
        self.seq = 0
        self.focus = None
        self.changed = False
        self.diverged = False
        self.cpu_seconds = 0.0
        self.model = None
        self._carry = 0.0  # the fraction of a batch due but not yet trained
        self._batch_seconds = 0.0  # a running estimate of one batch's time
        self.timeline = timeline.Timeline()  # snapshots of this run (serve/timeline.py)
        self.data_version = 0  # rises each time the points change (use_data)
        # State other serve modules keep on the session (None until they first need it):
        self.inspector = None  # what the backprop inspector shows (inspection.Inspector)
        self.divergence = None  # the current run's divergence watch (divergence.Watch)
        self.export_log = None  # the run's loss history for export (export.Log)
        self.frame_params = None  # (run, parameters) of the last frame, for its change array

    # ----------------------------------------------------------------- building

    def update(self, changes) -> list[dict]:
        """Apply a settings message; returns the messages it makes (data, state).

        Raises
        ------
        ProtocolError
            If the settings are refused; the session is then unchanged.
        """
        new = merge_settings(self.settings, changes, getattr(self, "task", None))
        old, self.settings = self.settings, new
        data_keys, network_keys = userdata.keys_for(new["dataset"], DATA_KEYS, NETWORK_KEYS)
        out = []
        if new == old and self.model is not None:
            return [self.state_message()]  # nothing to redraw
        try:
            if self.model is None or any(new[k] != old[k] for k in data_keys):
                self._make_data()
                out.append(self.data_message())
                self._make_model()
            elif any(new[k] != old[k] for k in network_keys):
                self._make_model()
            elif new["optimizer"] != old["optimizer"]:
                self.new_optimizer()
            elif new["lr"] != old["lr"]:
                self.model.optimizer.learning_rate = new["lr"]
        except ValueError as e:  # e.g. noise that makes points no plot can hold
            self.settings = old
            raise ProtocolError(str(e)) from None
        self.changed = True
        out.append(self.state_message())
        return out

    def start(self, changes) -> tuple[list[dict], list[dict]]:
        """Apply a tab's first settings, leaving out what is refused.

        A shared link with one bad value still opens a working page: each
        refused setting is dropped (all of them, if the fault is no single
        setting's) and the rest applied.  Returns the errors and the replies.
        """
        changes = dict(changes) if isinstance(changes, dict) else {}
        errors = []
        while True:
            try:
                return errors, self.update(changes)
            except ProtocolError as e:
                if not changes:
                    raise  # the defaults themselves: a bug, not the tab's fault
                errors.append(e.to_message())
                if e.field in changes:
                    del changes[e.field]
                else:
                    changes = {}

    def _make_data(self) -> None:
        self.use_data(load_data(run_settings(self.settings)))

    def use_data(self, data) -> None:
        """Take ``data`` (a ``runs.runner.Data``) as the points; the grids follow them."""
        self.data = d = data
        self.data_version += 1
        self.task = d.task
        everything = np.concatenate([d.X_train, d.X_test])
        self.extent = padded_extent(everything)
        # Rows of the grids from the top (largest x2) down, as the page draws them.
        self.grid_points = _top_down(grid_points(self.extent, self.grid), self.grid)
        self.thumb_points = _top_down(grid_points(self.extent, self.thumb), self.thumb)
        if self.task == "regression":
            y = np.concatenate([d.y_train, d.y_test])
            lo, hi = float(y.min()), float(y.max())
            self.value_range = (lo, hi if hi > lo else lo + 1.0)
            self.baseline = 0.0
        else:
            self.value_range = None
            self.baseline = baseline_accuracy(d.y_test)

    def _make_model(self) -> None:
        s, d = self.settings, self.data
        reg = {"l1": L1, "l2": L2}.get(s["regularization"])
        reg = reg(s["reg_rate"]) if reg and s["reg_rate"] > 0 else None
        classes = d.n_classes if self.task == "classification" else 0
        self.make_inputs()
        self.model = build_model(
            run_settings(s), self.inputs["train"].shape[1], classes, task=self.task, regularizer=reg
        )
        if s["weights"]:  # other initial weights for the same data (see weights_seed)
            self.model.rng = np.random.default_rng(weights_seed(s["seed"], s["weights"]))
            self.model.build(self.inputs["train"].shape[1])
        self.engine = "numpy" if unsupported_reason(self.model) else "compiled"
        self.run += 1
        self.epoch, self.position, self.iterations = 0, 0, 0
        self.order = None
        self.diverged = False
        self.focus = None
        self.changed = True
        self.timeline.start(self)

    def new_optimizer(self) -> None:
        """Compile the model with a fresh optimizer of ``settings["optimizer"]`` (empty state)."""
        metrics = [] if self.task == "regression" else ["accuracy"]
        self.model.compile(run_settings(self.settings).make_optimizer(), self.model.loss, metrics)

    def make_inputs(self) -> None:
        """The network's inputs (the chosen features) of the points and the grids."""
        d, names = self.data, self.settings["features"]
        self.inputs = {
            name: transform(X, names)
            for name, X in (
                ("train", d.X_train),
                ("test", d.X_test),
                ("grid", self.grid_points),
                ("thumb", self.thumb_points),
            )
        }

    def reset(self) -> None:
        """Back to epoch 0 with the same initial weights, paused."""
        self.playing = False
        self._make_model()

    # ----------------------------------------------------------------- training

    def _batches(self, samples: int) -> int:
        """How many batches ``samples`` samples make (the last may be short)."""
        return -(-samples // self.settings["batch_size"])

    @property
    def steps_per_epoch(self) -> int:
        return self._batches(len(self.data.y_train))

    @property
    def batch(self) -> int:
        """Batches done in the current epoch."""
        return self._batches(self.position)

    def advance(self, seconds: float, budget: float = 0.03) -> None:
        """Train the batches that ``seconds`` of wall time are worth at the set speed.

        At most ``budget`` seconds of training per call, so frames keep
        coming when the speed asks for more than the machine can do.
        """
        due = self.settings["speed"] * self.steps_per_epoch * min(seconds, MAX_STEP_SECONDS)
        due += self._carry
        batches = int(due)
        self._carry = due - batches
        if batches:
            self.train_batches(batches, budget)

    def step(self, unit: str) -> None:
        """Pause, then train one batch or up to the end of the current epoch."""
        self.playing = False
        left = self._batches(len(self.data.y_train) - self.position)
        self.train_batches(1 if unit == "batch" else left)
        self.timeline.mark(self)

    def train_batches(self, count: int, budget: float | None = None) -> int:
        """Train up to ``count`` batches, epoch by epoch; returns how many were trained."""
        if self.diverged:
            return 0
        self.timeline.before_training()  # from a restored snapshot: its future is dropped
        X, y = self.inputs["train"], self.data.y_train
        n, size = len(y), self.settings["batch_size"]
        began, done = time.perf_counter(), 0
        while done < count:
            if self.position == 0:  # as fit(shuffle=True) draws each epoch's order
                self.order = self.model.rng.permutation(n)
            left = self._batches(n - self.position)
            chunk = min(count - done, left)
            if budget is not None and self._batch_seconds > 0:
                chunk = max(1, min(chunk, int(budget / self._batch_seconds)))
            stop = min(n, self.position + chunk * size)
            rows = self.order[self.position : stop]
            t0 = time.perf_counter()
            with np.errstate(all="ignore"):
                fitted = self.model.fit(X[rows], y[rows], size, epochs=1, shuffle=False, verbose=0)
            per_batch = (time.perf_counter() - t0) / chunk
            self._batch_seconds = 0.8 * (self._batch_seconds or per_batch) + 0.2 * per_batch
            done += chunk
            self.iterations += chunk
            self.position = 0 if stop >= n else stop
            self.epoch += stop >= n
            self.changed = True
            export.note_chunk(self, fitted.history, chunk, len(rows) == stop)  # for export
            if divergence.check(self, fitted.history["loss"][-1]):  # pauses, see divergence.py
                break
            if self.position == 0:
                self.timeline.epoch_end(self)
            if budget is not None and time.perf_counter() - began >= budget:
                break
        return done

    # ----------------------------------------------------------------- messages

    def set_focus(self, neuron) -> None:
        """Show hidden neuron ``[layer, index]`` on the big plot (None: the output)."""
        if neuron is not None:
            layer, index = neuron
            hidden = self.settings["layers"]
            if layer >= len(hidden) or index >= hidden[layer]["units"]:
                raise ProtocolError(
                    f"neuron {neuron} is not in the network (hidden layer sizes "
                    f"{[h['units'] for h in hidden]})"
                )
        self.focus = neuron
        self.changed = True

    def data_message(self) -> dict:
        d, s = self.data, self.settings
        truth = None
        if s["dataset"] in datasets.TRUE_LABELS and self.task == "classification":
            labels = datasets.true_labels(s["dataset"], self.grid_points).astype(np.uint8)
            truth = (labels + ord("0")).tobytes().decode("ascii")

        def points(X, t):
            t = np.round(t, 5).tolist() if self.task == "regression" else t.tolist()
            return [[round(a, 5), round(b, 5), c] for (a, b), c in zip(X.tolist(), t)]

        return {
            "type": "data",
            "task": self.task,
            "classes": d.n_classes,
            "extent": list(self.extent),
            "train": points(d.X_train, d.y_train),
            "test": points(d.X_test, d.y_test),
            "truth": truth,
            "value_range": list(self.value_range) if self.value_range else None,
        }

    def state_message(self) -> dict:
        out = self.model.layers[-1]
        return {
            "type": "state",
            "settings": copy.deepcopy(self.settings),
            "playing": self.playing,
            "run": self.run,
            "engine": self.engine,
            "network": {
                "inputs": [f for f in FEATURES if f in self.settings["features"]],
                "layers": copy.deepcopy(self.settings["layers"]),
                "output": {"units": out.units, "activation": out.activation.name},
            },
            "loss": output_for(self.task, self.data.n_classes, self.settings["loss"])[0],
            "baseline": self.baseline,
        }

    def frame(self) -> bytes:
        """The next binary frame (see docs/playground-protocol.md); clears ``changed``."""
        self.seq += 1
        self.changed = False
        with np.errstate(all="ignore"):
            scores = self._scores()
            return frames.encode(self, scores)

    def _scores(self) -> dict:
        d, model = self.data, self.model
        out = {}
        for part, y in (("train", d.y_train), ("test", d.y_test)):
            result = model.evaluate(self.inputs[part], y, verbose=0)
            loss, acc = (result[0], result[1]) if isinstance(result, list) else (result, None)
            out[f"{part}_loss"] = _finite(loss)
            out[f"{part}_accuracy"] = _finite(acc)
        out["r2"] = None
        if self.task == "regression":
            pred = model.predict(self.inputs["test"], verbose=0)
            out["r2"] = _finite(regression_scores(d.y_test, pred)["r2"])
        if out["train_loss"] is None:
            self.diverged, self.playing = True, False
        return out


def weights_seed(seed: int, k: int) -> int:
    """The model seed of initial weights ``k > 0`` for run seed ``seed`` (0: ``seeds(seed)``)."""
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


def _finite(value) -> float | None:
    """``value`` as a float for JSON, or None when it is missing, NaN or infinite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _top_down(points: np.ndarray, size: int) -> np.ndarray:
    """``grid_points`` rows reordered from the top row (largest x2) down."""
    return points.reshape(size, size, 2)[::-1].reshape(-1, 2).copy()
