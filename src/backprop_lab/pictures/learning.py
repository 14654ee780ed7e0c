"""The pictures of how a run learned, written into its folder after training.

``network.png`` always (for 2-D inputs and up to 6 hidden layers);
``gradients.png`` and ``gradients.csv`` when gradient norms were recorded;
``learning.gif`` (and ``learning.mp4``) when frames were recorded
(``--animate``); ``landscape.png`` when the weights' trajectory was recorded
(``--landscape``).  ``recording.make_recorders`` sets up what is recorded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..engine.model import architecture
from ..runs.recording import Recording, sample_rows

__all__ = ["write_learning_pictures"]


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


def write_learning_pictures(folder: Path, result, recording: Recording | None = None) -> None:
    """Write the pictures above that ``result`` (a ``RunResult``) and ``recording`` allow."""
    from . import animation, landscape, plotting
    from . import gradients as gradient_plot
    from . import network as network_plot

    model, data = result.model, result.data
    title = f"{result.settings.dataset} · {architecture(model.get_config())}"
    two_d = model.n_features == 2
    if two_d and len(model.layers) - 1 <= network_plot.MAX_HIDDEN_LAYERS:
        extent = recording.extent if recording is not None else (-1.0, 1.0, -1.0, 1.0)
        fig = network_plot.plot_network(model, extent=extent, title=title)
        plotting.save_figure(fig, folder / "network.png")
    if recording is None:
        return
    if recording.gradient_norms:
        epochs, norms = recording.gradient_epochs, recording.gradient_table()
        gradient_plot.write_gradients(folder / "gradients.csv", epochs, norms)
        fig = gradient_plot.plot_gradients(epochs, norms, layer_names=_layer_names(model))
        plotting.save_figure(fig, folder / "gradients.png")
    if recording.n_frames and two_d:
        animation.write_animation(
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
        plotting.save_figure(fig, folder / "landscape.png")
