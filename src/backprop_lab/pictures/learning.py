"""Every picture of a run folder, drawn after training: ``draw_run`` draws them all.

``boundary.png`` (for 2-D data) and ``curves.png`` always; ``network.png``
for 2-D inputs and up to 6 hidden layers; ``gradients.png`` when gradient
norms were recorded (``gradients.csv`` is a data file); ``learning.gif`` (and
``learning.mp4``) when frames were recorded (``--animate``); ``landscape.png``
when the weights' trajectory was recorded (``--landscape``); and, last,
``report.html``, which embeds them.  ``recording.make_recorders`` sets up what
is recorded; ``folders.write_run`` has written the data files before.
``absent_pictures`` says, one line each, why a picture every run has is
missing from this one (data with other than 2 features, too deep a network,
no gradient norms); ``absent_reasons`` decides it from the input features,
the number of hidden layers and whether gradient norms were recorded, which
``pictures.redraw`` reads from a run folder without loading the run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..engine.model import architecture
from ..runs.recording import LOSS_SAMPLES, Recording, describe_points, sample_rows
from . import animation, gradients, landscape, network, plotting, surface
from .report import write_report
from .style import save_figure

__all__ = [
    "PLANE_PICTURES",
    "STANDARD_PICTURES",
    "absent_pictures",
    "absent_reasons",
    "draw_run",
    "write_learning_pictures",
    "write_result_pictures",
]


def draw_run(folder: Path, result, *, only=None) -> list[str]:
    """Draw every picture of a finished (or stopped) run into its folder, then ``report.html``.

    Parameters
    ----------
    folder : Path
        The run folder, holding the data files ``folders.write_run`` wrote.
    result : RunResult
        What ``runner.train_run`` returned; its ``recording`` (if any) adds
        the pictures of learning.
    only : set of str, optional
        Draw only these pictures (``redraw`` draws the missing ones); the
        report is written in any case.

    Returns
    -------
    names : list of str
        The files written, ``report.html`` last.  ``absent_pictures(result)``
        says why any picture every run has is not among them.
    """
    folder = Path(folder)
    names = write_result_pictures(folder, result, only=only)
    names += write_learning_pictures(folder, result, result.recording, only=only)
    write_report(folder)  # last: it embeds every picture
    return [*names, "report.html"]


def _boundary_absence(n_features: int) -> str | None:
    if n_features != 2:
        return f"the data has {n_features} input features and the picture is a plane of 2 (x1, x2)"
    return None


def _network_absence(
    n_features: int, hidden_layers: int, not_dense: str | None = None
) -> str | None:
    if not_dense is not None:
        return not_dense
    if n_features != 2:
        return (
            f"the data has {n_features} input features "
            "and the picture draws each neuron as a map over a plane of 2 (x1, x2)"
        )
    if hidden_layers > network.MAX_HIDDEN_LAYERS:
        return (
            f"the network has {hidden_layers} hidden layers "
            f"and the picture draws up to {network.MAX_HIDDEN_LAYERS}"
        )
    return None


def _gradients_absence(recorded: bool) -> str | None:
    return None if recorded else "no gradient norms were recorded"


def _has_gradients(recording: Recording | None) -> bool:
    return recording is not None and bool(recording.gradient_norms)


def _hidden_layers(model) -> int:
    return len(model.layers) - 1


STANDARD_PICTURES = ("boundary.png", "curves.png", "network.png", "gradients.png")
# Of them, the pictures drawn over the plane of the training points: drawing
# them again needs the data, not only the run folder's files.
PLANE_PICTURES = frozenset({"boundary.png", "network.png"})


def absent_reasons(
    n_features: int, hidden_layers: int, *, gradients: bool, not_dense: str | None = None
) -> dict[str, str]:
    """``{name: reason}`` for each of ``STANDARD_PICTURES`` that ``draw_run`` leaves out.

    ``draw_run`` decides with the same tests, so a name here is never among
    the files it returns, and the other way round.  The arguments are what a
    run folder's ``config.json`` and ``gradients.csv`` tell, so
    ``pictures.redraw`` knows a run's pictures without loading it.

    Parameters
    ----------
    n_features : int
        Input features of the model.
    hidden_layers : int
        Its layers but the output layer.
    gradients : bool
        Whether gradient norms were recorded.
    not_dense : str, optional
        ``network.not_dense(model)``: why a model with other layers than Dense
        (from a Keras script) has no network picture.

    Returns
    -------
    dict of str to str
        One line each, in drawing order, without a final period.
    """
    reasons = {
        "boundary.png": _boundary_absence(n_features),
        "network.png": _network_absence(n_features, hidden_layers, not_dense),
        "gradients.png": _gradients_absence(gradients),
    }
    return {name: why for name, why in reasons.items() if why is not None}


def absent_pictures(result) -> list[str]:
    """Why ``draw_run`` leaves out pictures every run normally has: one line per picture.

    Parameters
    ----------
    result : RunResult
        What ``runner.train_run`` returned.

    Returns
    -------
    lines : list of str
        In drawing order, each ``"NAME not drawn: reason"`` on one line with
        no final period, for ``boundary.png``, ``network.png`` and
        ``gradients.png``; empty when all of them are drawn (any run on 2
        input features with up to 6 hidden layers).  Pictures that must be
        asked for (``learning.gif``, ``landscape.png``) are never listed.
    """
    model = result.model
    reasons = absent_reasons(
        model.n_features,
        _hidden_layers(model),
        gradients=_has_gradients(result.recording),
        not_dense=network.not_dense(model),
    )
    return [f"{name} not drawn: {why}" for name, why in reasons.items()]


def _title(result) -> str:
    return f"{result.settings.dataset} · {architecture(result.model.get_config())}"


def _wanted(name: str, only) -> bool:
    return only is None or name in only


def _plane_figure(result, regression: bool):
    """``boundary.png``'s figure: the regions of a classifier, the surface of a regression."""
    data, model, m = result.data, result.model, result.metrics
    split = (data.X_train, data.y_train, data.X_test, data.y_test)
    if regression:  # the same file name: what was learned over the plane
        return surface.plot_surface(
            lambda G: model.predict(G, verbose=0),
            *split,
            true_values=data.true_labels,
            r2=m.get("r2"),
            mse=m.get("mse"),
            baseline_mse=m.get("baseline_mse"),
            title=_title(result),
        )

    def proba(G):
        P = model.predict(G, verbose=0)
        return P[:, 0] if P.shape[1] == 1 else P

    return plotting.plot_boundary(
        proba,
        *split,
        true_labels=data.true_labels,
        accuracy=m.get("test_accuracy"),
        baseline=m.get("baseline_accuracy"),
        title=_title(result),
    )


def write_result_pictures(folder: Path, result, *, only=None) -> list[str]:
    """Write ``boundary.png`` (for 2-D data) and ``curves.png``; returns their names.

    For a regression (``surface.problem_kind``) ``boundary.png`` is the
    predicted surface and ``curves.png`` has no accuracy panel.
    """
    model, m = result.model, result.metrics
    regression = surface.problem_kind(model) == "regression"
    names = []
    if _boundary_absence(model.n_features) is None and _wanted("boundary.png", only):
        save_figure(_plane_figure(result, regression), folder / "boundary.png")
        names.append("boundary.png")
    if _wanted("curves.png", only):
        # fit's validation data is the run's test split.
        fig = plotting.plot_curves(
            result.history,
            baseline=m.get("baseline_accuracy"),
            validation="test set",
            regression=regression,
        )
        save_figure(fig, folder / "curves.png")
        names.append("curves.png")
    return names


# Training points the loss surface is measured on: the same as the frames'
# loss (recording.LOSS_SAMPLES), so learning.gif's last loss is landscape.png's
# loss at the trained weights.
LANDSCAPE_SAMPLES = LOSS_SAMPLES


def _training_subset(data, model):
    """The training points of the loss surface (all, or a fixed subset of 4,096) and their name."""
    X, y = sample_rows(data.X_train, data.y_train, LANDSCAPE_SAMPLES)
    points = describe_points(len(X), len(data.X_train))
    X = np.ascontiguousarray(X, dtype=model.dtype)
    return X, model.loss.prepare_targets(y, model.layers[-1].units, model.dtype), points


def _kept_path(result, recording: Recording) -> np.ndarray:
    """The recorded weights up to the ones the run kept, which end the path.

    A diverged or interrupted run keeps the weights of its last finished,
    finite epoch; snapshots after that are left out.
    """
    n = recording.n_trajectory
    steps = np.asarray(recording.trajectory_steps[:n])
    path = np.array(recording.trajectory[:n])
    if result.diverged_epoch or result.interrupted:
        kept_epochs = (
            result.diverged_epoch - 1 if result.diverged_epoch else len(result.epoch_seconds)
        )
        path = path[steps <= kept_epochs * recording.steps_per_epoch]
    final = np.concatenate(result.model.params, axis=None)
    if len(path) == 0 or not np.array_equal(path[-1], final):
        path = np.vstack([path.reshape(-1, final.size), final])
    return path


def write_learning_pictures(
    folder: Path, result, recording: Recording | None = None, *, only=None
) -> list[str]:
    """Write the pictures of learning that ``result`` (a ``RunResult``) and ``recording`` allow.

    Returns the names of the files written (see the module's docstring).
    """
    model, data = result.model, result.data
    title = _title(result)
    names = []
    two_d = model.n_features == 2
    hidden = _hidden_layers(model)
    not_dense = network.not_dense(model)
    if _network_absence(model.n_features, hidden, not_dense) is None and _wanted(
        "network.png", only
    ):
        extent = recording.extent if recording is not None else (-1.0, 1.0, -1.0, 1.0)
        fig = network.plot_network(model, extent=extent, title=title)
        save_figure(fig, folder / "network.png")
        names.append("network.png")
    if recording is None:
        return names
    if _gradients_absence(_has_gradients(recording)) is None and _wanted("gradients.png", only):
        epochs, norms = recording.gradient_epochs, recording.gradient_table()
        # Named per layer when every layer is Dense; a script's Dropout or
        # BatchNormalization layers have no kernel, and their norms are not recorded.
        labels = None if not_dense else gradients.layer_names(model)
        fig = gradients.plot_gradients(epochs, norms, layer_names=labels)
        save_figure(fig, folder / "gradients.png")
        names.append("gradients.png")
    if recording.n_frames and two_d and _wanted("learning.gif", only):
        names += animation.write_animation(
            folder,
            recording,
            data.X_train,
            data.y_train,
            true_labels=data.true_labels,
            title=title,
            epochs=result.settings.epochs,
            regression=surface.problem_kind(model) == "regression",
        )
    if recording.n_trajectory and _wanted("landscape.png", only):
        X, Y, points = _training_subset(data, model)
        trajectory = _kept_path(result, recording)
        surfaces = landscape.surfaces(model, X, Y, trajectory)
        heading = f"The descent on the loss surface · {title}"
        fig = landscape.plot_landscape(surfaces, title=heading, points=points)
        save_figure(fig, folder / "landscape.png")
        names.append("landscape.png")
    return names
