"""Every picture of a run folder, drawn after training: ``draw_run`` draws them all.

``boundary.png`` (for 2-D data) and ``curves.png`` always; ``network.png``
for 2-D inputs and up to 6 hidden layers; ``gradients.png`` and
``gradients.csv`` when gradient norms were recorded; ``learning.gif`` (and
``learning.mp4``) when frames were recorded (``--animate``); ``landscape.png``
when the weights' trajectory was recorded (``--landscape``); and, last,
``report.html``, which embeds them.  ``recording.make_recorders`` sets up what
is recorded; ``folders.write_run`` has written the data files before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..engine.model import architecture
from ..runs.recording import Recording, sample_rows
from . import animation, gradients, landscape, network, plotting
from .report import write_report
from .style import save_figure

__all__ = ["draw_run", "write_learning_pictures", "write_result_pictures"]


def draw_run(folder: Path, result) -> list[str]:
    """Draw every picture of a finished (or stopped) run into its folder, then ``report.html``.

    Parameters
    ----------
    folder : Path
        The run folder, holding the data files ``folders.write_run`` wrote.
    result : RunResult
        What ``runner.train_run`` returned; its ``recording`` (if any) adds
        the pictures of learning.

    Returns
    -------
    names : list of str
        The files written, ``report.html`` last.
    """
    folder = Path(folder)
    names = write_result_pictures(folder, result)
    names += write_learning_pictures(folder, result, getattr(result, "recording", None))
    write_report(folder)  # last: it embeds every picture
    return [*names, "report.html"]


def _title(result) -> str:
    return f"{result.settings.dataset} · {architecture(result.model.get_config())}"


def write_result_pictures(folder: Path, result) -> list[str]:
    """Write ``boundary.png`` (for 2-D data) and ``curves.png``; returns their names."""
    data, model, m = result.data, result.model, result.metrics
    names = []

    def proba(G):
        P = model.predict(G, verbose=0)
        return P[:, 0] if P.shape[1] == 1 else P

    if data.X_train.shape[1] == 2:
        fig = plotting.plot_boundary(
            proba,
            data.X_train,
            data.y_train,
            data.X_test,
            data.y_test,
            true_labels=data.true_labels,
            accuracy=m.get("test_accuracy"),
            baseline=m.get("baseline_accuracy"),
            title=_title(result),
        )
        save_figure(fig, folder / "boundary.png")
        names.append("boundary.png")
    fig = plotting.plot_curves(result.history, baseline=m.get("baseline_accuracy"))
    save_figure(fig, folder / "curves.png")
    return [*names, "curves.png"]


def _layer_names(model) -> list[str]:
    n = len(model.layers)
    return [
        f"{'output' if i == n - 1 else f'hidden {i + 1}'} ({layer.units} {layer.activation.name})"
        for i, layer in enumerate(model.layers)
    ]


LANDSCAPE_SAMPLES = 4096  # training points the loss surface is measured on


def _training_subset(data, model):
    """The training points of the loss surface: all, or a fixed subset of 4,096."""
    X, y = sample_rows(data.X_train, data.y_train, LANDSCAPE_SAMPLES)
    X = np.ascontiguousarray(X, dtype=model.dtype)
    return X, model.loss.prepare_targets(y, model.layers[-1].units, model.dtype)


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


def write_learning_pictures(folder: Path, result, recording: Recording | None = None) -> list[str]:
    """Write the pictures of learning that ``result`` (a ``RunResult``) and ``recording`` allow.

    Returns the names of the files written (see the module's docstring).
    """
    model, data = result.model, result.data
    title = _title(result)
    names = []
    two_d = model.n_features == 2
    if two_d and len(model.layers) - 1 <= network.MAX_HIDDEN_LAYERS:
        extent = recording.extent if recording is not None else (-1.0, 1.0, -1.0, 1.0)
        fig = network.plot_network(model, extent=extent, title=title)
        save_figure(fig, folder / "network.png")
        names.append("network.png")
    if recording is None:
        return names
    if recording.gradient_norms:
        epochs, norms = recording.gradient_epochs, recording.gradient_table()
        gradients.write_gradients(folder / "gradients.csv", epochs, norms)
        fig = gradients.plot_gradients(epochs, norms, layer_names=_layer_names(model))
        save_figure(fig, folder / "gradients.png")
        names += ["gradients.csv", "gradients.png"]
    if recording.n_frames and two_d:
        names += animation.write_animation(
            folder,
            recording,
            data.X_train,
            data.y_train,
            true_labels=data.true_labels,
            title=title,
            epochs=result.settings.epochs,
        )
    if recording.n_trajectory:
        X, Y = _training_subset(data, model)
        trajectory = _kept_path(result, recording)
        surfaces = landscape.surfaces(model, X, Y, trajectory)
        fig = landscape.plot_landscape(surfaces, title=f"The descent on the loss surface · {title}")
        save_figure(fig, folder / "landscape.png")
        names.append("landscape.png")
    return names
