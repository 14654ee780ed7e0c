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
* :class:`StepRecorder` takes snapshots at the gradient steps
  ``frame_steps`` chooses when training begins: at most ``max_frames`` of
  them however long the run (every step when there are fewer steps than
  that).  Over the first third of the gaps between snapshots the gap grows
  geometrically from one step, and the other two thirds are evenly spaced,
  so the first steps, where a network on a large data set does most of its
  learning (often within the first epoch), get frames too.  It uses batch
  hooks and says which batches end at a snapshot step (``batches_wanted``),
  so a compiled engine runs the steps between two snapshots in one kernel
  call (``bench/bench_recording.py`` measures the cost); a run that records
  no frames and no trajectory keeps whole-epoch kernel calls.
  At each snapshot it stores the model's output on a ``resolution`` x
  ``resolution`` grid of the input plane as float32 (``frames``), the loss
  and accuracy at those weights on the training set, or on a fixed subset of
  ``LOSS_SAMPLES`` (4,096) of its points (the same points the loss landscape
  uses), and the flattened weights (``trajectory``).  Memory is therefore
  bounded by ``max_frames`` grids and weight vectors.

These losses are taken *at* the snapshot's weights, so none of them equals
the loss ``fit`` logs, which is the mean over an epoch's batches, each taken
before its update (Keras semantics).  ``Recording`` says on how many of the
training points each was measured, and ``describe_points`` words it for the
pictures.

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
from ..engine.gradcheck import random_states, training_output
from ..engine.layers import Dense
from ..engine.metrics import count_correct, grid_points, padded_extent

__all__ = [
    "GradientRecorder",
    "Recording",
    "StepRecorder",
    "describe_points",
    "frame_steps",
    "layer_gradient_norms",
    "make_recorders",
    "sample_rows",
]

MAX_FRAMES = 120  # 10 s at 12 frames per second
# Training points for the gradient norms: enough for a norm within a few per
# cent of the full-batch one, few enough that recording stays cheap next to a
# compiled engine's epoch (see bench/).
MAX_SAMPLES = 1024
# Training points for the loss and accuracy of the frames, and for the loss
# landscape (pictures.learning), so the two pictures show the same numbers:
# every point of the article's 4,000, a fixed subset of larger sets.
LOSS_SAMPLES = 4096
RESOLUTION = 64  # grid points per side of a frame


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
        Loss and accuracy at each frame's weights on ``loss_points`` of the
        training points (not the logged loss: see the module's docstring).
    trajectory_steps : list of int
    trajectory : list of ndarray of shape (n_params,)
        The weights ``np.concatenate(model.params, axis=None)`` at those steps.
    n_train : int
        Training points of the run (0: unknown).
    loss_points, gradient_points : int
        How many of them ``frame_loss``/``frame_accuracy`` and
        ``gradient_norms`` were measured on: all of them, or a fixed subset
        (``sample_rows``).
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
    n_train: int = 0
    loss_points: int = 0
    gradient_points: int = 0

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


def frame_steps(total_steps: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """The gradient steps at which snapshots are taken: at most ``max_frames``, ascending.

    Step 0 (the initial weights) and ``total_steps`` (the end) always; every
    step when ``total_steps < max_frames``.  Otherwise the gap between two
    snapshots starts at one step and grows by a constant factor over the first
    third of the gaps until it reaches ``k = total_steps / (two thirds of
    the gaps)``, then stays ``k``: the first steps of a long run, where a
    network on a large data set learns most (often within its first epoch),
    are seen frame by frame, and the rest evenly.
    """
    total_steps = check_positive_int("total_steps", total_steps)
    max_frames = check_positive_int("max_frames", max_frames)
    if max_frames < 2:
        raise ValueError(f"max_frames must be at least 2 (the start and the end), got {max_frames}")
    if total_steps < max_frames:
        return list(range(total_steps + 1))
    gaps = max_frames - 1
    early = gaps // 3  # gaps that grow
    even = total_steps / (gaps - early)
    ratio = even ** (1.0 / early) if early else 1.0
    steps, position, gap = [0], 0.0, 1.0 if early else even
    # Every gap is at least one step, so the rounded positions never repeat;
    # at most ``early`` gaps are shorter than ``even``, so at most
    # ``gaps - early - 1`` even ones fit before the end: ``max_frames`` in all.
    while True:
        position += min(gap, even)
        if round(position) >= total_steps:
            break
        steps.append(round(position))
        gap *= ratio
    steps.append(total_steps)
    return steps


def describe_points(used: int, total: int) -> str:
    """``"all 4,000 training points"`` or ``"4,096 of the 40,000 training points"``.

    ``total`` 0 (unknown) gives ``"the training points"``.
    """
    if total <= 0:
        return "the training points"
    if used >= total:
        return f"all {total:,} training points"
    return f"{used:,} of the {total:,} training points"


def sample_rows(X: np.ndarray, y: np.ndarray, max_samples: int = MAX_SAMPLES):
    """``(X, y)``, or a fixed subset of ``max_samples`` of their rows (in order) if longer."""
    max_samples = check_positive_int("max_samples", max_samples)
    if len(X) <= max_samples:
        return X, y
    # A fixed generator: the same subset for every run, no global state touched.
    keep = np.sort(np.random.default_rng(0).choice(len(X), max_samples, replace=False))
    return X[keep], y[keep]


def layer_gradient_norms(model, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``||dL/dW_l||`` of every Dense layer's kernel for the batch ``(X, Y)``, one per layer.

    ``L`` is the model's mean loss on the batch plus its regularization
    penalty.  The model's stored gradients are put back afterwards.
    """
    saved = [g.copy() for g in model.grads]
    # A Keras script's model may hold Dropout and BatchNormalization layers:
    # this extra training pass must not change the masks training draws next
    # nor the moving statistics, so both are put back; only Dense layers have
    # a kernel.
    state = [w.copy() for w in model.non_trainable_weights]
    draws = random_states(model)
    model.backward(Y, training_output(model, X, draws))
    norms = np.array(
        [np.linalg.norm(layer.grads[0]) for layer in model.layers if isinstance(layer, Dense)]
    )
    for g, s in zip(model.grads, saved):
        g[...] = s
    for w, s in zip(model.non_trainable_weights, state):
        w[...] = s
    for generator, s in draws:
        generator.bit_generator.state = s
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
        # Measured first: a Ctrl-C during the measurement must not leave an epoch
        # without its row (the run folder of an interrupted run is still written).
        norms = layer_gradient_norms(self.model, self.X, self.Y)
        self.recording.gradient_epochs.append(epoch)
        self.recording.gradient_norms.append(norms)

    def on_train_begin(self, logs=None):
        self._prepare()
        self.recording.gradient_epochs.clear()
        self.recording.gradient_norms.clear()
        self.recording.gradient_points = len(self.X)
        self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        self._record(epoch + 1)


class StepRecorder(_Sampled):
    """Snapshots at the steps ``frame_steps`` picks: output grids (``frames``) and/or weights.

    It uses batch hooks and says which batches it needs (``batches_wanted``),
    so a compiled engine runs the steps between two snapshots in one kernel call.

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
    max_samples : int
        Training points the loss and accuracy are measured on (a fixed subset
        when there are more).
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
        max_samples: int = LOSS_SAMPLES,
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

    def on_train_begin(self, logs=None):
        self._prepare()
        rec = self.recording
        for series in (rec.frame_steps, rec.frames, rec.frame_loss, rec.frame_accuracy):
            series.clear()
        rec.trajectory_steps.clear()
        rec.trajectory.clear()
        steps = self.params.get("steps") or 1
        rec.steps_per_epoch = steps
        rec.loss_points = len(self.X)
        self.schedule = frame_steps((self.params.get("epochs") or 1) * steps, self.max_frames)
        self._next = 1  # index of the next scheduled step (step 0 is taken now)
        if self.frames:
            grid = grid_points(rec.extent, self.resolution)
            self.grid = np.ascontiguousarray(grid, dtype=self.model.dtype)
        self._epoch = 0
        self.step = 0
        self._snapshot()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def batches_wanted(self, steps: int) -> np.ndarray:
        """This epoch's batches that end at a scheduled step: an engine need stop only there."""
        first = self._epoch * steps
        schedule = np.asarray(self.schedule)
        return schedule[(schedule > first) & (schedule <= first + steps)] - first - 1

    def on_train_batch_end(self, batch, logs=None):
        # From the epoch and batch numbers, so an engine that reports batches
        # in chunks still gets the right step (and the snapshot it passed).
        self.step = step = self._epoch * self.recording.steps_per_epoch + batch + 1
        schedule = self.schedule
        if self._next < len(schedule) and step >= schedule[self._next]:
            while self._next < len(schedule) and schedule[self._next] <= step:
                self._next += 1
            self._snapshot()

    def on_train_end(self, logs=None):
        if self.step != self._last:
            self._snapshot()  # the final weights, wherever training stopped

    def _snapshot(self) -> None:
        rec, model = self.recording, self.model
        self._last = self.step
        if self.trajectory:
            rec.trajectory.append(np.concatenate(model.params, axis=None))
            rec.trajectory_steps.append(self.step)
        if not self.frames:
            return
        P = model.apply(self.X)
        loss = float(model.loss.value(self.Y, P) + model.penalty())
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


def make_recorders(
    X,
    y,
    *,
    gradients: bool = True,
    frames: bool = False,
    trajectory: bool = False,
    max_frames: int = MAX_FRAMES,
    resolution: int = RESOLUTION,
    max_samples: int = MAX_SAMPLES,
    loss_samples: int = LOSS_SAMPLES,
) -> tuple[list[Callback], Recording]:
    """The callbacks that record what is asked for, and the ``Recording`` they fill.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The training inputs (frames need ``n_features == 2``).
    y : ndarray of shape (n_samples,)
        The training labels.
    max_samples : int
        Training points the gradient norms are measured on.
    loss_samples : int
        Training points the frames' loss and accuracy are measured on.

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
    recording = Recording(extent=extent, n_train=len(X))
    callbacks: list[Callback] = []
    if gradients:
        callbacks.append(GradientRecorder(recording, X, y, max_samples=max_samples))
    if frames or trajectory:
        callbacks.append(
            StepRecorder(
                recording,
                X,
                y,
                frames=frames,
                trajectory=trajectory,
                max_frames=max_frames,
                resolution=resolution,
                max_samples=loss_samples,
            )
        )
    return callbacks, recording
