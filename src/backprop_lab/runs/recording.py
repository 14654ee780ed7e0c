"""Recording what a network does while it trains, for the pictures drawn afterwards.

Two callbacks fill one :class:`Recording`:

* :class:`GradientRecorder` (epoch hooks only) measures, before training and
  at the end of every epoch, the gradient norm of each layer's kernel,
  ``||dL/dW_l||`` (Frobenius), of the *full-batch* training loss (the mean
  loss plus any L2 penalty) on the training set, or on a fixed random subset
  of ``max_samples`` (1,024) points of it when it is larger.  These are
  gradients at the weights of the end of each epoch, not means of the noisy
  mini-batch gradients, so a layer whose gradient shrinks towards zero shows
  as a line falling on the log axis.
* :class:`StepRecorder` and :class:`BatchStepRecorder` sample every ``k``-th
  gradient step, with ``k`` chosen when training begins so that at most
  ``max_frames`` snapshots are kept however long the run is (every step when
  there are fewer steps than that).  ``StepRecorder`` takes ``k`` as a whole
  number of epochs and needs only epoch hooks, so a compiled engine keeps
  running whole epochs per call; ``make_recorders`` picks it for runs with
  enough epochs, ``BatchStepRecorder`` (batch hooks) for the others.  At
  each snapshot they store the model's output on
  a ``resolution`` x ``resolution`` grid of the input plane as float32
  (``frames``), the loss and accuracy on the same training points as the
  gradients, and the flattened weights (``trajectory``).  Memory is
  therefore bounded by ``max_frames`` grids and weight vectors.

The recorders only observe: they draw no random numbers and put back the
gradients they overwrite, so a run trains to the same weights with or
without them.  Nothing here draws; ``pictures.animation``, ``pictures.landscape`` and
``pictures.network`` turn a ``Recording`` into pictures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine._checks import check_positive_int
from ..engine.callbacks import Callback
from ..engine.metrics import count_correct, grid_points, padded_extent

__all__ = [
    "BatchStepRecorder",
    "GradientRecorder",
    "Recording",
    "StepRecorder",
    "frame_interval",
    "layer_gradient_norms",
    "make_recorders",
    "sample_rows",
]

MAX_FRAMES = 120  # 10 s at 12 frames per second
# Training points for the gradients, the loss and the accuracy: enough for a
# gradient norm within a few per cent of the full-batch one, few enough that
# recording stays cheap next to a compiled engine's epoch (see bench/).
MAX_SAMPLES = 1024
RESOLUTION = 64  # grid points per side of a frame
# Fewest snapshots for which epoch-end sampling is smooth enough (6.5 s at 6 fps).
MIN_EPOCH_FRAMES = 40


@dataclass
class Recording:
    """What the recorders saw; lists grow as training goes on.

    Attributes
    ----------
    extent : tuple (x_min, x_max, y_min, y_max)
        The square the frames cover.
    steps_per_epoch : int
        Gradient steps per epoch, so that ``step / steps_per_epoch`` is the epoch.
    gradient_epochs : list of int
        0 for the weights before training, then ``e`` for the end of epoch ``e``.
    gradient_norms : list of ndarray of shape (n_layers,)
        The kernel gradient norm of every layer at each of ``gradient_epochs``.
    frame_steps : list of int
        Gradient steps taken before each frame (0: the initial weights).
    frames : list of ndarray of shape (resolution, resolution) or (resolution, resolution, k)
        The model's output over the grid: ``P(class 1)`` for one output, the
        ``k`` class probabilities otherwise.  Row ``i`` is the ``i``-th ``x2``
        value from the bottom, as ``imshow(origin="lower")`` expects.
    frame_loss, frame_accuracy : list of float
        Training loss and accuracy at each frame.
    trajectory_steps : list of int
    trajectory : list of ndarray of shape (n_params,)
        The weights ``np.concatenate(model.params, axis=None)`` at those steps.
    """

    extent: tuple = (-1.0, 1.0, -1.0, 1.0)
    steps_per_epoch: int = 0
    gradient_epochs: list = field(default_factory=list)
    gradient_norms: list = field(default_factory=list)
    frame_steps: list = field(default_factory=list)
    frames: list = field(default_factory=list)
    frame_loss: list = field(default_factory=list)
    frame_accuracy: list = field(default_factory=list)
    trajectory_steps: list = field(default_factory=list)
    trajectory: list = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        """Complete frames (a Ctrl-C can land between the appends of a snapshot)."""
        series = (self.frames, self.frame_loss, self.frame_accuracy, self.frame_steps)
        return min(len(s) for s in series)

    @property
    def n_trajectory(self) -> int:
        return min(len(self.trajectory), len(self.trajectory_steps))

    def frame_epochs(self) -> np.ndarray:
        """The (fractional) epoch of each frame, shape ``(n_frames,)``."""
        steps = np.asarray(self.frame_steps[: self.n_frames], dtype=np.float64)
        return steps / max(self.steps_per_epoch, 1)

    def gradient_table(self) -> np.ndarray:
        """``gradient_norms`` as one array of shape ``(n_points, n_layers)``."""
        return np.array(self.gradient_norms, dtype=np.float64).reshape(len(self.gradient_norms), -1)


def frame_interval(total_steps: int, max_frames: int = MAX_FRAMES) -> int:
    """Steps between two snapshots so that at most ``max_frames`` are taken.

    Snapshots are taken at step 0, every ``k`` steps and at the last step, so
    ``1 + total_steps // k + 1`` at most; ``k = 1`` (every step) when
    ``total_steps < max_frames``.
    """
    total_steps = check_positive_int("total_steps", total_steps)
    max_frames = check_positive_int("max_frames", max_frames)
    if max_frames < 2:
        raise ValueError(f"max_frames must be at least 2 (the start and the end), got {max_frames}")
    return max(1, -(-total_steps // (max_frames - 1)))


def sample_rows(X: np.ndarray, y: np.ndarray, max_samples: int = MAX_SAMPLES):
    """``(X, y)``, or a fixed subset of ``max_samples`` of their rows (in order) if longer."""
    max_samples = check_positive_int("max_samples", max_samples)
    if len(X) <= max_samples:
        return X, y
    # A fixed generator: the same subset for every run, no global state touched.
    keep = np.sort(np.random.default_rng(0).choice(len(X), max_samples, replace=False))
    return X[keep], y[keep]


def layer_gradient_norms(model, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``||dL/dW_l||`` of every layer's kernel for the batch ``(X, Y)``, shape ``(n_layers,)``.

    ``L`` is the model's mean loss on the batch plus its regularization
    penalty.  The model's stored gradients are put back afterwards.
    """
    saved = [g.copy() for g in model.grads]
    model.backward(Y, model.forward(X))
    norms = np.array([np.linalg.norm(layer.grads[0]) for layer in model.layers])
    for g, s in zip(model.grads, saved):
        g[...] = s
    return norms


class _Sampled(Callback):
    """Shared by the recorders: the training points they evaluate, prepared once."""

    def __init__(self, recording: Recording, X: np.ndarray, y: np.ndarray, max_samples: int):
        super().__init__()
        self.recording = recording
        self._X, self._y = sample_rows(X, y, max_samples)

    def _prepare(self) -> None:
        model = self.model
        self.X = np.ascontiguousarray(self._X, dtype=model.dtype)
        self.Y = model.loss.prepare_targets(self._y, model.layers[-1].units, model.dtype)


class GradientRecorder(_Sampled):
    """Records each layer's kernel gradient norm before training and after every epoch."""

    def __init__(self, recording: Recording, X, y, *, max_samples: int = MAX_SAMPLES):
        super().__init__(recording, X, y, max_samples)

    def _record(self, epoch: int) -> None:
        self.recording.gradient_epochs.append(epoch)
        self.recording.gradient_norms.append(layer_gradient_norms(self.model, self.X, self.Y))

    def on_train_begin(self, logs=None):
        self._prepare()
        self.recording.gradient_epochs.clear()
        self.recording.gradient_norms.clear()
        self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        self._record(epoch + 1)


class StepRecorder(_Sampled):
    """Snapshots every ``k``-th step: output grids (``frames``) and/or weights (``trajectory``).

    ``k`` is a whole number of epochs, so only epoch hooks are needed and a
    compiled engine keeps running whole epochs per call; use
    :class:`BatchStepRecorder` when the run has too few epochs for enough frames.

    Parameters
    ----------
    recording : Recording
    X, y : training inputs of shape (n, n_features) and labels of shape (n,)
    frames : bool
        Store the output grid, loss and accuracy (needs 2 input features).
    trajectory : bool
        Store the flattened weights.
    max_frames : int
        Upper bound on the number of snapshots, the first and last included.
    resolution : int
        Grid points per side of a frame.
    """

    def __init__(
        self,
        recording: Recording,
        X,
        y,
        *,
        frames: bool = True,
        trajectory: bool = False,
        max_frames: int = MAX_FRAMES,
        resolution: int = RESOLUTION,
        max_samples: int = MAX_SAMPLES,
    ):
        super().__init__(recording, X, y, max_samples)
        if frames and X.shape[1] != 2:
            raise ValueError(
                f"the animation needs 2 input features to draw the plane, the data has {X.shape[1]}"
            )
        if not (frames or trajectory):
            raise ValueError("StepRecorder records nothing: set frames or trajectory")
        self.frames, self.trajectory = frames, trajectory
        self.max_frames = check_positive_int("max_frames", max_frames)
        self.resolution = check_positive_int("resolution", resolution)

    def _interval(self, epochs: int, steps: int) -> int:
        return steps * frame_interval(epochs, self.max_frames)

    def on_train_begin(self, logs=None):
        self._prepare()
        rec = self.recording
        for series in (rec.frame_steps, rec.frames, rec.frame_loss, rec.frame_accuracy):
            series.clear()
        rec.trajectory_steps.clear()
        rec.trajectory.clear()
        steps = self.params.get("steps", 1)
        rec.steps_per_epoch = steps
        self.every = self._interval(self.params.get("epochs", 1), steps)
        if self.frames:
            grid = grid_points(rec.extent, self.resolution)
            self.grid = np.ascontiguousarray(grid, dtype=self.model.dtype)
        self._epoch = 0
        self.step = 0
        self._snapshot()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._at((epoch + 1) * self.recording.steps_per_epoch)

    def on_train_end(self, logs=None):
        if self.step != self._last:
            self._snapshot()  # the final weights, wherever training stopped

    def _at(self, step: int) -> None:
        self.step = step
        if step % self.every == 0 and step != self._last:
            self._snapshot()

    def _snapshot(self) -> None:
        rec, model = self.recording, self.model
        self._last = self.step
        if self.trajectory:
            rec.trajectory.append(np.concatenate(model.params, axis=None))
            rec.trajectory_steps.append(self.step)
        if not self.frames:
            return
        P = model.apply(self.X)
        loss = float(model.loss(self.Y, P) + model.penalty())
        accuracy = count_correct(self.Y, P) / len(self.X)
        G = model.apply(self.grid)
        if G.shape[1] == 2:  # two softmax columns say as much as P(class 1)
            G = G[:, 1:]
        shape = (self.resolution, self.resolution)
        frame = G[:, 0].reshape(shape) if G.shape[1] == 1 else G.reshape(*shape, G.shape[1])
        rec.frames.append(frame.astype(np.float32))
        rec.frame_loss.append(loss)
        rec.frame_accuracy.append(accuracy)
        rec.frame_steps.append(self.step)  # last: n_frames counts complete snapshots


class BatchStepRecorder(StepRecorder):
    """``StepRecorder`` with ``k`` counted in steps, for runs with few epochs.

    It uses batch hooks, which make a compiled engine run one call per step.
    """

    def _interval(self, epochs: int, steps: int) -> int:
        return frame_interval(epochs * steps, self.max_frames)

    def on_train_batch_end(self, batch, logs=None):
        # From the epoch and batch numbers, so an engine that reports batches
        # in chunks still gets the right step.
        self._at(self._epoch * self.recording.steps_per_epoch + batch + 1)


def make_recorders(
    X,
    y,
    *,
    gradients: bool = True,
    frames: bool = False,
    trajectory: bool = False,
    epochs: int | None = None,
    batch_size: int | None = None,
    max_frames: int = MAX_FRAMES,
    resolution: int = RESOLUTION,
    max_samples: int = MAX_SAMPLES,
) -> tuple[list[Callback], Recording]:
    """The callbacks that record what is asked for, and the ``Recording`` they fill.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The training inputs (frames need ``n_features == 2``).
    y : ndarray of shape (n_samples,)
        The training labels.
    epochs, batch_size : int, optional
        The ``fit`` arguments.  When the run has at least ``max_frames`` steps
        and ``MIN_EPOCH_FRAMES - 1`` epochs, snapshots are taken at epoch ends
        (no batch hooks, so a compiled engine is not slowed down); otherwise,
        or when they are not given, every ``k`` steps.

    Examples
    --------
    >>> callbacks, recording = make_recorders(X, y, frames=True)   # doctest: +SKIP
    >>> model.fit(X, y, epochs=20, callbacks=callbacks)            # doctest: +SKIP
    >>> len(recording.frames) <= 120                               # doctest: +SKIP
    True
    """
    X = np.asarray(X)
    y = np.asarray(y)
    extent = padded_extent(X) if X.ndim == 2 and X.shape[1] == 2 else (-1.0, 1.0, -1.0, 1.0)
    recording = Recording(extent=extent)
    callbacks: list[Callback] = []
    if gradients:
        callbacks.append(GradientRecorder(recording, X, y, max_samples=max_samples))
    if frames or trajectory:
        whole_epochs = (
            epochs is not None
            and batch_size is not None
            and epochs >= MIN_EPOCH_FRAMES - 1
            and epochs * -(-len(X) // batch_size) >= max_frames
        )
        kind = StepRecorder if whole_epochs else BatchStepRecorder
        callbacks.append(
            kind(
                recording,
                X,
                y,
                frames=frames,
                trajectory=trajectory,
                max_frames=max_frames,
                resolution=resolution,
                max_samples=max_samples,
            )
        )
    return callbacks, recording
