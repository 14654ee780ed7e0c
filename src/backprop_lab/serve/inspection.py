"""The backprop inspector: one training point's (or the next batch's) numbers, layer by layer.

Everything is computed by the engine itself on a copy of the session's model:
``model.forward`` for ``z`` and ``a``, ``model.backward`` for the gradients
(each layer's ``dL/dz`` is caught as the engine hands it to ``backward_z``),
and one ``optimizer.step`` on copies of the weights and of the optimizer's
state for the step it would take.  So every number equals what training
computes, and the session's training state is never touched.

For a point, ``z``, ``a`` and ``delta`` are that sample's; for a batch they are
means over its samples (``delta`` the mean of each sample's own ``dL/dz``,
which is the sum of the engine's ``dZ`` rows, since the batch loss is the
mean of the samples' losses), and ``dW``, ``db`` the batch gradient.
"""

from __future__ import annotations

import copy
import hashlib

import numpy as np

from .protocol import ProtocolError


def layer_names(model) -> list[str]:
    n = len(model.layers)
    return [f"hidden layer {i + 1}" if i < n - 1 else "output layer" for i in range(n)]


def tolist(values) -> list:
    """``values`` as nested lists of floats, with None for NaN or infinite numbers."""
    A = np.asarray(values, dtype=np.float64)
    if np.isfinite(A).all():
        return A.tolist()
    return np.where(np.isfinite(A), A, None).tolist()


def next_rows(n: int, size: int, position: int, order, rng_state: dict) -> np.ndarray:
    """The training rows of the batch that training would take next.

    At an epoch's start the epoch's order is not drawn yet: it is drawn here
    from a copy of the generator (``rng_state``), as training will draw it.
    """
    if position == 0 or order is None:
        rng = np.random.default_rng()
        rng.bit_generator.state = copy.deepcopy(rng_state)
        order = rng.permutation(n)
    return np.asarray(order[position : position + size])


def session_rows(session) -> np.ndarray:
    """The rows of the session's next batch."""
    rng_state = session.model.rng.bit_generator.state
    n, size = len(session.data.y_train), session.settings["batch_size"]
    return next_rows(n, size, session.position, session.order, rng_state)


def backprop(model, params, X: np.ndarray, y: np.ndarray) -> dict:
    """The engine's forward and backward pass of ``(X, y)`` at ``params``, on a copy.

    Returns ``loss`` (with the regularization penalty, as ``fit`` counts it),
    per layer ``Z``, ``A`` and ``dZ`` (arrays over the samples) and the
    gradients ``grads`` (aligned with ``model.params``), and the copy ``model``.
    """
    m = copy.deepcopy(model)
    for p, value in zip(m.params, params):
        p[...] = value
    caught = {}
    for i, layer in enumerate(m.layers):
        inner = layer.backward_z

        def backward_z(dZ, i=i, inner=inner):
            caught[i] = dZ.copy()
            return inner(dZ)

        layer.backward_z = backward_z
    Y = m.loss.prepare_targets(y, m.layers[-1].units, m.dtype)
    with np.errstate(all="ignore"):
        P = m.forward(X)
        m.backward(Y, P)
        loss = m.loss.value(Y, P) + m.penalty()
    return {
        "loss": float(loss),
        "Z": [layer.Z for layer in m.layers],
        "A": [layer.A for layer in m.layers],
        "dZ": [caught[i] for i in range(len(m.layers))],
        "grads": [g.copy() for g in m.grads],
        "model": m,
    }


def optimizer_step(model, grads) -> tuple[list[np.ndarray], dict]:
    """The change one optimizer step would make with ``grads``, and the state it starts from.

    Runs ``optimizer.step`` on copies (of ``model``, a throwaway copy); returns
    ``new - old`` per parameter and the slots before the step.
    """
    opt = model.optimizer
    if opt.iterations == 0 or not opt.built:
        opt.build(model.params)  # as the step does: the state it starts from
    state = {name: [a.copy() for a in arrays] for name, arrays in opt.slots.items()}
    before = [p.copy() for p in model.params]
    with np.errstate(all="ignore"):
        opt.step(model.params, [g.copy() for g in grads])
    return [p - b for p, b in zip(model.params, before)], state


def formulas(model, scope: str, optimizer: str) -> dict:
    """Short formulas of each step, in the notation of the numbers sent."""
    out_act = model.layers[-1].activation.name
    fused = model.loss.fuses_with == out_act
    mean = " (mean over the batch)" if scope == "batch" else ""
    regularized = any(getattr(layer, "kernel_regularizer", None) for layer in model.layers)
    rules = {
        "sgd": "Δw = −η·g",
        "momentum": "v ← μ·v − η·g;  Δw = v",
        "adam": "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  Δw = −η·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v+ε)",
        "rmsprop": "s ← ρs + (1−ρ)g²;  Δw = −η·g/√(s+ε)",
        "adagrad": "s ← s + g²;  Δw = −η·g/√(s+ε)",
    }
    return {
        "z": "z = a_prev·W + b",
        "a": "a = f(z)",
        "loss": f"L = {model.loss.name}(p, t)" + (" + penalty" if regularized else "") + mean,
        "delta_output": ("δ = p − t" if fused else "δ = ∂L/∂p ⊙ f′(z)") + mean,
        "delta_hidden": "δ = (δ_next·W_nextᵀ) ⊙ f′(z)" + mean,
        "dW": "∂L/∂W = a_prevᵀ·δ" + (" + ∂penalty/∂W" if regularized else ""),
        "db": "∂L/∂b = δ",
        "step": rules.get(optimizer, "Δw = the optimizer's step for g"),
    }


def inspection(session, scope: str, index: int | None) -> dict:
    """The ``inspection`` message of the session's current weights."""
    model = session.model
    X, y = session.inputs["train"], session.data.y_train
    rows = np.array([index]) if scope == "point" else session_rows(session)
    result = backprop(model, model.params, X[rows], y[rows])
    steps, state = optimizer_step(result["model"], result["grads"])
    grads, layers, at = result["grads"], [], 0
    reduce = (lambda M: M[0]) if scope == "point" else (lambda M: M.mean(axis=0))
    for i, (layer, name) in enumerate(zip(model.layers, layer_names(model))):
        dZ = result["dZ"][i]
        layers.append(
            {
                "name": name,
                "activation": layer.activation.name,
                "W": tolist(layer.W),
                "b": tolist(layer.b),
                "z": tolist(reduce(result["Z"][i])),
                "a": tolist(reduce(result["A"][i])),
                "delta": tolist(dZ[0] if scope == "point" else dZ.sum(axis=0)),
                "dW": tolist(grads[at]),
                "db": tolist(grads[at + 1]),
                "step_W": tolist(steps[at]),
                "step_b": tolist(steps[at + 1]),
            }
        )
        at += 2
    opt = model.optimizer
    setting = session.settings["optimizer"]
    slots = {} if setting == "sgd" else state
    target = None
    if scope == "point":
        target = float(y[index]) if session.task == "regression" else int(y[index])
    return {
        "type": "inspection",
        "scope": scope,
        "index": index,
        "rows": rows.tolist(),
        "x": tolist(X[rows].mean(axis=0)),
        "target": target,
        "loss": tolist(result["loss"]),
        "layers": layers,
        "optimizer": {
            "name": setting,
            "lr": float(opt.learning_rate),
            "iterations": opt.iterations,
            "hyperparameters": {k: v for k, v in opt.hyperparameters().items() if k != "nesterov"},
            "state": {
                name: [
                    {"W": tolist(arrays[2 * j]), "b": tolist(arrays[2 * j + 1])}
                    for j in range(len(model.layers))
                ]
                for name, arrays in slots.items()
            },
        },
        "formulas": formulas(model, scope, setting),
    }


# --------------------------------------------------------------------------- the session's switch


class Inspector:
    """What a session inspects, the data it belongs to and the key of its last inspection.

    ``data`` is the session's ``data_version`` that ``index`` names a point of.
    """

    def __init__(self, scope: str | None = None, index: int | None = None, data: int = 0):
        self.scope, self.index, self.data, self.shown = scope, index, data, None


def _key(session) -> bytes:
    """What an inspection depends on: the weights, the optimizer's step count, the position,
    the settings it uses and the points (their version)."""
    h = hashlib.blake2b(digest_size=16)
    for p in session.model.params:
        h.update(p.tobytes())
    h.update(f"{session.run},{session.position},{session.model.optimizer.iterations}".encode())
    h.update(f"{session.settings['batch_size']},{session.settings['lr']}".encode())
    h.update(f",{session.data_version}".encode())
    return h.digest()


def set_scope(session, scope: str | None, index: int | None) -> dict | None:
    """The ``inspect`` message: switch the inspector; returns the first inspection (or None)."""
    if scope == "point":
        n = len(session.data.y_train)
        if index >= n:
            raise ProtocolError(f"index must be a training point from 0 to {n - 1}, got {index}")
    point = index if scope == "point" else None
    session.inspector = Inspector(scope, point, session.data_version)
    return due(session) if scope is not None else None


def points_edited(session, message: dict) -> None:
    """After a ``points`` edit: the inspected point still has its index unless it was
    deleted, or an earlier training point was (then its index names another point).

    Adding a point (at the end) or moving one keeps the index; the inspection
    that follows shows the new numbers.  Otherwise the inspector turns off at
    the next frame (see ``due``).
    """
    inspector = session.inspector
    if inspector is None or inspector.scope != "point":
        return
    gone = (
        message["part"] == "train"
        and message["action"] == "delete"
        and message["index"] <= inspector.index
    )
    if not gone:
        inspector.data = session.data_version


OFF_TEXT = (
    "the inspected training point no longer exists (the points changed), so the inspector is off"
)


def due(session) -> dict | None:
    """An inspection if the inspector is on and what it shows changed since its last one.

    When the inspected point no longer exists the inspector turns off, and says
    so (once) with an inspection of scope None carrying a one-line message.
    """
    inspector = session.inspector
    if inspector is None or inspector.scope is None or session.model is None:
        return None
    if inspector.scope == "point" and inspector.data != session.data_version:
        inspector.scope = inspector.index = None  # new points under it: off
        return {"type": "inspection", "scope": None, "message": OFF_TEXT}
    key = _key(session)
    if key == inspector.shown:
        return None
    inspector.shown = key
    return inspection(session, inspector.scope, inspector.index)
