"""What happened in a finished run, measured from the run itself.

``diagnose(result)`` reads a ``runner.RunResult`` — the trained model, the
training data, the history of the loss, the gradient norms recorded after
every epoch and the test metrics — and returns a JSON-friendly dict::

    {"verdict": "learned" | "partly" | "baseline" | "diverged",
     "summary": "one sentence",
     "findings": [{"kind": ..., "message": ..., <numbers>}, ...],
     "measures": {...}}

It prints nothing and changes nothing; the command line prints the messages
and ``runs.folders`` stores the dict in ``metrics.json``.  Layers are
numbered from 1, as in ``gradients.csv`` (``layer_1`` is the first hidden
layer).

The findings, and the thresholds they use:

``diverged``
    The loss or the weights became NaN or infinite (``result.diverged_epoch``).
``saturated_output``
    Training points the network gets wrong with its output pinned: the
    probability of the true class is below ``EPSILON`` (1e-7, the clip of the
    cross-entropies, outside of which the clipped loss has zero gradient).
    Reported when at least ``SATURATED`` (1%) of the training points are.
``zero_gradients``
    Layers whose recorded gradient norm is exactly 0 at every epoch from some
    epoch to the end, and whose kernel gradient on all the training points at
    the trained weights (one backward pass in ``diagnose``) is exactly 0 too:
    those kernels no longer move.  The recording measures a sample of up to
    1,024 points, and with the clip of the cross-entropies a sample can be
    all zeros while the whole training set is not; when the whole set cannot
    be checked, the message names the sample.
``vanishing_gradients``
    Layers whose last gradient norm is non-zero but below ``VANISHING``
    (1e-3) times the largest layer's at the same epoch (deep sigmoid stacks),
    or below ``VANISHING`` times its own norm before training while the loss
    is still above ``HIGH_LOSS`` (half) of the loss of knowing nothing (see
    below) — a gradient that died before the model fitted.
``dead_units``
    ReLU units of a hidden layer never active (pre-activation > 0) on any
    training point: they output 0 and pass no gradient, so the loss does not
    move their weights.  In layer 1, whose inputs are the fixed training
    points, only momentum or Adam's running averages can still revive them;
    a dead unit of a later layer revives when the layers below it change its
    inputs.  Units active on fewer than ``RARELY_ACTIVE`` (1%) of the points are
    counted alongside (``rarely_active``); for leaky ReLU the same units are
    not dead but linear (only the 0.2 slope passes a gradient).
``still_falling``, ``stalled``, ``loss_rising``
    A straight line fitted to the training loss of the last ``w`` epochs,
    ``w = clip(epochs // 5, 3, 10)`` (at least 3 epochs are needed),
    extrapolated over as many epochs again as the run had: the change it
    predicts, as a fraction of the *prior loss* (the loss of always
    answering the class frequencies of the training labels: 0.49 for the
    article's circle).  ``still_falling`` when it would fall by at least
    ``STILL_FALLING`` (10%) of the prior loss; ``stalled`` when it would
    move by less than ``STALLED`` (1%) while the loss is still above
    ``CONVERGED`` (10%) of the prior loss (a loss near 0 that stops moving
    has converged); ``loss_rising`` when it would rise by 10% or more.
``linear_boundary``
    Two classes only, for runs that did not learn: a logistic regression
    (one straight line) fitted to up to ``LINE_SAMPLES`` (5,000) training
    points beats the majority answer by ``LINE_MARGIN`` (2 points) or more,
    and the network's training accuracy on the same points is no more than
    ``LINE_MARGIN`` above the line's: the network learned no more than a
    straight boundary does.

The verdict:

``diverged``
    The run diverged.
``baseline``
    The test accuracy is not above the majority baseline by a meaningful
    margin: ``max(MIN_MARGIN, MARGIN_SE * se)``, with ``se`` the standard
    error of an accuracy equal to the baseline on the test set (1 point and
    2 standard errors: 2.5 points for the article's 1,000 test points).
``learned``
    A meaningful margin and, where the generator knows the true regions
    (circle, xor, rings), an IoU of the learned and the true class-1 region
    of at least ``IOU_LEARNED`` (0.8); for other data, at least
    ``ERRORS_REMOVED_LEARNED`` (80%) of the baseline's test errors removed.
``partly``
    A meaningful margin, but not that.

With more than two classes the same rules hold (the baseline is the most
frequent class; there are no true regions).  For regression the verdict is
read from R² on the test set, the share of the variance around the mean
that the network explains: ``learned`` from ``R2_LEARNED`` (0.9) up,
``baseline`` below ``R2_BASELINE`` (0.05: no better than predicting the
mean), ``partly`` in between; the prior loss is the variance of the
training targets (the MSE of predicting their mean).
"""

from __future__ import annotations

import math

import numpy as np

from ..engine.losses import EPSILON
from ..engine.metrics import is_regression
from .recording import describe_points, layer_gradient_norms, sample_rows

__all__ = ["diagnose"]

SATURATED = 0.01
VANISHING = 1e-3
HIGH_LOSS = 0.5
RARELY_ACTIVE = 0.01
STILL_FALLING = 0.10
STALLED = 0.01
CONVERGED = 0.10
LINE_SAMPLES = 5000
LINE_MARGIN = 0.02
MIN_MARGIN = 0.01
MARGIN_SE = 2.0
IOU_LEARNED = 0.8
ERRORS_REMOVED_LEARNED = 0.8
R2_LEARNED = 0.9
R2_BASELINE = 0.05

_RELU_LIKE = ("relu", "leaky_relu")


def _finite(values) -> list[float]:
    """The values up to the first one that is not finite."""
    out = []
    for v in values:
        if not math.isfinite(v):
            break
        out.append(float(v))
    return out


def prior_loss(loss: str, y: np.ndarray, task: str = "classification") -> float:
    """The loss of a model that always answers the class frequencies of ``y``
    (for regression: the mean of ``y``, so its variance)."""
    if task == "regression":
        return float(np.var(y))
    p = np.bincount(np.asarray(y, dtype=np.int64)) / max(len(y), 1)
    p = p[p > 0]
    if loss == "mse":
        return float(p[0] * (1 - p[0])) if len(p) == 2 else 0.0
    return float(-(p * np.log(p)).sum())


def _points(n: int) -> str:
    return f"{n:,} training point" + ("" if n == 1 else "s")


# --------------------------------------------------------------------------- the network


def _dead_units(model, X) -> list[dict]:
    findings = []
    A = np.ascontiguousarray(X, dtype=model.dtype)
    for i, layer in enumerate(model.layers[:-1], start=1):
        Z = A @ layer.W + layer.b
        A = layer.activation(Z)
        name = layer.activation.name
        if name not in _RELU_LIKE:
            continue
        active = (Z > 0).mean(axis=0)
        dead = int((active == 0).sum())
        rare = int(((active > 0) & (active < RARELY_ACTIVE)).sum())
        if not dead:
            continue
        units = layer.units
        it = "it outputs 0 and passes" if dead == 1 else "they output 0 and pass"
        label, what = (
            ("Dead units", f"dead: never active on any training point, so {it} no gradient")
            if name == "relu"
            else (
                "Inactive units",
                "never positive on any training point, so "
                + ("it acts as a linear unit" if dead == 1 else "they act as linear units"),
            )
        )
        more = f"; {rare} more active on fewer than 1% of them" if rare else ""
        verb = "is" if dead == 1 else "are"
        findings.append(
            {
                "kind": "dead_units",
                "layer": i,
                "count": dead,
                "of": units,
                "rarely_active": rare,
                "live": units - dead - rare,
                "activation": name,
                "message": f"{label}: {dead} of the {units} {name} units of layer {i} {verb} "
                f"{what}{more}.",
            }
        )
    return findings


def _saturated(model, X, y) -> list[dict]:
    last = model.layers[-1].activation.name
    if last not in ("sigmoid", "softmax") or len(X) == 0:
        return []
    P = model.apply(np.ascontiguousarray(X, dtype=model.dtype))
    if P.shape[1] == 1:
        p_true = np.where(y == 1, P[:, 0], 1 - P[:, 0].astype(np.float64))
    else:
        p_true = P[np.arange(len(y)), y]
    pinned = int(np.count_nonzero(p_true < EPSILON))
    if pinned < SATURATED * len(X):
        return []
    return [
        {
            "kind": "saturated_output",
            "count": pinned,
            "of": len(X),
            "message": f"Saturated output: on {pinned:,} of the {_points(len(X))} the network "
            "gives the true class a probability below 1e-7, where the clipped loss has no "
            "gradient, so nothing moves it towards them.",
        }
    ]


# --------------------------------------------------------------------------- gradients


def _full_gradient_norms(model, data) -> np.ndarray | None:
    """Every layer's kernel gradient norm on all the training points, or None if unknown.

    The recorder's norms are measured on a sample of the points; this is the
    same measure (``recording.layer_gradient_norms``) on all of them, at the
    trained weights.  None for a model without a loss or without training points.
    """
    if not getattr(model, "compiled", False) or len(data.X_train) == 0:
        return None
    X = np.ascontiguousarray(data.X_train, dtype=model.dtype)
    Y = model.loss.prepare_targets(data.y_train, model.layers[-1].units, model.dtype)
    return layer_gradient_norms(model, X, Y)


def _gradients(recording, loss_high: bool, model, data) -> list[dict]:
    """``zero_gradients`` and ``vanishing_gradients`` from the recording.

    A layer whose recorded norms end in zeros counts as zero only if its
    kernel gradient on all the training points at the end is 0 too
    (``_full_gradient_norms``, measured only then); when that cannot be
    measured, the message names the sample the recording used.
    """
    if recording is None or not recording.gradient_norms:
        return []
    T = recording.gradient_table()
    epochs = list(recording.gradient_epochs)
    rows = np.isfinite(T).all(axis=1)
    n = int(np.argmin(rows)) if not rows.all() else len(T)
    T, epochs = T[:n], epochs[:n]
    if n < 2:
        return []
    findings = []
    zero_from = {}
    for j in range(T.shape[1]):
        k = n
        while k > 1 and T[k - 1, j] == 0:
            k -= 1
        if k < n:
            zero_from[j + 1] = int(epochs[k])
    full = _full_gradient_norms(model, data) if zero_from else None
    if full is not None:
        zero_from = {j: e for j, e in zero_from.items() if full[j - 1] == 0}
    if zero_from:
        layers = sorted(zero_from)
        start = min(zero_from.values())
        every = len(layers) == T.shape[1]
        which = "every layer" if every else "layer " + ", ".join(map(str, layers))
        kernels = "no" if every else "those"
        if full is not None:
            points = describe_points(len(data.X_train), len(data.X_train))
            where = f"from epoch {start} on, and at the end on {points}"
            then = f"so {kernels} kernels could change any more"
        else:
            points = describe_points(recording.gradient_points, recording.n_train)
            where = f"from epoch {start} on, measured on {points}"
            then = f"so {kernels} kernels could change on those points any more"
        findings.append(
            {
                "kind": "zero_gradients",
                "layers": layers,
                "from_epoch": start,
                "all_layers": every,
                "message": f"Zero gradients: the kernel gradient of {which} is exactly 0 "
                f"{where}, {then}.",
            }
        )
    last, first = T[-1], T[0]
    vanishing, parts = [], []
    for j in range(T.shape[1]):
        if j + 1 in zero_from or last[j] == 0:
            continue
        if last[j] < VANISHING * last.max():
            parts.append(f"layer {j + 1}'s is {last[j] / last.max():.1e} times the largest layer's")
        elif loss_high and first[j] > 0 and last[j] < VANISHING * first[j]:
            parts.append(f"layer {j + 1}'s fell to {last[j] / first[j]:.1e} times its start")
        else:
            continue
        vanishing.append(j + 1)
    if vanishing:
        findings.append(
            {
                "kind": "vanishing_gradients",
                "layers": vanishing,
                "message": "Vanishing gradients: of the kernel gradients at the end, "
                + "; ".join(parts)
                + ", so those kernels barely move.",
            }
        )
    return findings


# --------------------------------------------------------------------------- the loss


def _trend(losses: list[float], prior: float, frozen: bool) -> tuple[list[dict], dict]:
    """``frozen``: no kernel can change any more, so a falling loss is only the biases
    moving the output towards a constant, which more epochs cannot turn into learning."""
    n = len(losses)
    if n < 3 or prior <= 0:
        return [], {}
    w = min(n, max(3, min(10, n // 5)))
    tail = np.array(losses[-w:])
    slope = float(np.polyfit(np.arange(w), tail, 1)[0])
    change = slope * n  # over as many epochs again as the run had
    rel = change / prior
    end = losses[-1]
    measures = {"loss_slope": slope, "trend_epochs": w, "projected_change": change}
    where = f"over the last {w} epochs the loss changed by {slope:+.4f} per epoch"
    if slope < 0 and -change >= end:  # a straight line would cross 0: say when it would halve
        pace = f"at that pace it would halve in {math.ceil(end / 2 / -slope)} more epochs"
    else:
        pace = f"at that pace another {n} epochs would take {-change:.4f} off its {end:.4f}"
    if rel <= -STILL_FALLING and not frozen:
        return [
            {
                "kind": "still_falling",
                "epochs": w,
                "slope": slope,
                "projected": change,
                "message": f"Still learning: the loss was still falling when training stopped, "
                f"by {-slope:.4f} per epoch over the last {w} epochs ({pace}).",
            }
        ], measures
    if rel >= STILL_FALLING:
        return [
            {
                "kind": "loss_rising",
                "epochs": w,
                "slope": slope,
                "message": f"Loss rising: {where}; the steps overshoot.",
            }
        ], measures
    if (abs(rel) < STALLED or frozen) and end > CONVERGED * prior:
        if frozen:
            why = f"with every kernel frozen, only the biases can still move it ({where})"
        else:
            why = f"{where}, far above 0: training had stopped making progress"
        return [
            {
                "kind": "stalled",
                "epochs": w,
                "slope": slope,
                "loss": end,
                "message": f"Stalled: the loss is at {end:.4f}; {why}.",
            }
        ], measures
    return [], measures


# --------------------------------------------------------------------------- the result


def _line_accuracy(X: np.ndarray, y: np.ndarray) -> float:
    """Training accuracy of a logistic regression: the best single straight boundary."""
    A = np.column_stack([X, np.ones(len(X))]).astype(np.float64)
    w = np.zeros(A.shape[1])
    ridge = np.full(A.shape[1], 1e-4)
    ridge[-1] = 1e-8  # the intercept is not penalised
    for _ in range(30):  # Newton's method; a handful of steps converge
        p = 0.5 * (1 + np.tanh(0.5 * np.clip(A @ w, -50, 50)))
        g = A.T @ (p - y) / len(y) + ridge * w
        H = (A * (p * (1 - p))[:, None]).T @ A / len(y) + np.diag(ridge)
        w -= np.linalg.lstsq(H, g, rcond=None)[0]
    return float(np.mean((A @ w > 0) == (y == 1)))


def _linear_boundary(result, baseline: float) -> list[dict]:
    data, model = result.data, result.model
    if data.n_classes != 2 or len(data.X_train) == 0:
        return []
    X, y = sample_rows(data.X_train, data.y_train, LINE_SAMPLES)
    line = _line_accuracy(X, y)
    P = model.apply(np.ascontiguousarray(X, dtype=model.dtype))
    pred = (P[:, 0] > 0.5) if P.shape[1] == 1 else P.argmax(axis=1)
    net = float(np.mean(pred.astype(int) == y))
    if line < baseline + LINE_MARGIN or net > line + LINE_MARGIN:
        return []
    return [
        {
            "kind": "linear_boundary",
            "line_accuracy": line,
            "train_accuracy": net,
            "message": f"No better than a straight line: one straight boundary classifies "
            f"{line:.1%} of the training points right, the network {net:.1%}.",
        }
    ]


def _regression_verdict(metrics: dict, diverged: bool) -> tuple[str, str, dict]:
    r2 = metrics["r2"]
    measures = {"r2": r2, "baseline_mse": metrics["baseline_mse"]}
    if diverged:
        return "diverged", "Training diverged; the weights are those of the last finite epoch.", {}
    if r2 < R2_BASELINE:
        return (
            "baseline",
            f"R² {r2:.3f}: no better than always predicting the mean (below {R2_BASELINE:g} "
            "counts as the baseline).",
            measures,
        )
    verdict = "learned" if r2 >= R2_LEARNED else "partly"
    return (
        verdict,
        f"R² {r2:.3f}: the network explains {r2:.1%} of the variance that predicting the mean "
        f"leaves ({R2_LEARNED:g} or more counts as learned).",
        measures,
    )


def _verdict(metrics: dict, diverged: bool) -> tuple[str, str, dict]:
    if is_regression(metrics):
        return _regression_verdict(metrics, diverged)
    acc, base = metrics["test_accuracy"], metrics["baseline_accuracy"]
    n = max(int(metrics.get("n_test") or 0), 1)
    margin = acc - base
    needed = max(MIN_MARGIN, MARGIN_SE * math.sqrt(base * (1 - base) / n))
    removed = margin / (1 - base) if base < 1 else 0.0
    measures = {"margin": margin, "meaningful_margin": needed, "errors_removed": removed}
    pts = f"{abs(margin) * 100:.1f} points"
    if diverged:
        return (
            "diverged",
            "Training diverged; the weights are those of the last finite epoch.",
            (measures),
        )
    if margin < needed:
        word = "below" if margin < 0 else "above"
        return (
            "baseline",
            f"{pts} {word} always answering the majority class, where a meaningful margin is "
            f"{needed * 100:.1f} points.",
            measures,
        )
    if "iou" in metrics:
        good = metrics["iou"] >= IOU_LEARNED
        how = f"the learned region {'matches' if good else 'does not match'} the true one "
        how += f"(IoU {metrics['iou']:.2f}; {IOU_LEARNED:g} or more counts as learned)"
    else:
        good = removed >= ERRORS_REMOVED_LEARNED
        how = f"it removes {removed:.0%} of the baseline's errors ({ERRORS_REMOVED_LEARNED:.0%} "
        how += "or more counts as learned)"
    verdict = "learned" if good else "partly"
    return verdict, f"{pts} above the baseline, and {how}.", measures


def diagnose(result) -> dict:
    """The verdict and the findings of a finished run (see the module docstring).

    Parameters
    ----------
    result : runner.RunResult
        With ``metrics`` from ``evaluate_run`` already set.

    Returns
    -------
    dict
        ``verdict``, ``summary``, ``findings`` (a list of dicts with ``kind``
        and ``message``) and ``measures``; only str, int, float, bool, list
        and dict values, all finite.
    """
    metrics, data, model = result.metrics, result.data, result.model
    losses = _finite(result.history.get("loss", []))
    loss_name = getattr(result.settings, "loss", "binary_crossentropy")
    task = getattr(data, "task", "classification")
    prior = prior_loss(loss_name, data.y_train, task) if len(data.y_train) else 0.0
    loss_high = bool(losses) and losses[-1] > HIGH_LOSS * prior
    diverged = bool(result.diverged_epoch)
    verdict, summary, measures = _verdict(metrics, diverged)
    findings = []
    if diverged:
        findings.append(
            {
                "kind": "diverged",
                "epoch": int(result.diverged_epoch),
                "message": f"Diverged: the loss or the weights became NaN or infinite in epoch "
                f"{result.diverged_epoch}.",
            }
        )
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        findings += _saturated(model, data.X_train, data.y_train)
        findings += _gradients(result.recording, loss_high, model, data)
        findings += _dead_units(model, data.X_train)
        frozen = any(f["kind"] == "zero_gradients" and f["all_layers"] for f in findings)
        if not diverged:
            trend, more = _trend(losses, prior, frozen)
            findings += trend
            measures.update(more)
        if verdict in ("partly", "baseline") and not frozen and data.n_classes == 2:
            findings += _linear_boundary(result, max(np.bincount(data.y_train)) / len(data.y_train))
    measures["prior_loss"] = prior
    if losses:
        measures["final_loss"] = losses[-1]
    return _plain(
        {"verdict": verdict, "summary": summary, "findings": findings, "measures": measures}
    )


def _plain(value):
    """``value`` with NumPy scalars as Python ones, NaN and infinity as None (not JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value
