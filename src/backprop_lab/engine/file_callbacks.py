"""Callbacks that write files: ``ModelCheckpoint`` and ``CSVLogger``, as Keras's.

``ModelCheckpoint`` saves through the model's own ``save`` / ``save_weights``
(Keras's ``.keras`` and ``.weights.h5`` files); ``CSVLogger`` writes one row
of epoch logs per epoch.  Keras's ``RemoteMonitor`` and ``TensorBoard`` are
named here only to refuse them clearly.
"""

from __future__ import annotations

import csv
import os
import warnings

from .callbacks import Callback, MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Saves the model (or its weights) at the end of each epoch, as Keras 3 does.

    Parameters
    ----------
    filepath : str or path
        May hold ``{epoch}`` (1-based) and any log key, with format specs:
        ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``.  Must end in ``.keras``
        (or ``.h5``), or ``.weights.h5`` with ``save_weights_only``.
    monitor : str
        The log key that ``save_best_only`` compares.
    verbose : int
        1 prints each decision.
    save_best_only : bool
        Save only when ``monitor`` improves on the best so far (always when it
        is missing, with Keras's warning).
    save_weights_only : bool
        ``model.save_weights`` instead of ``model.save``.
    mode : {"auto", "min", "max"}
    save_freq : "epoch"
        Saving every N batches is not supported.
    initial_value_threshold : float, optional
        The value to beat at first with ``save_best_only``.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        if save_freq != "epoch":
            if isinstance(save_freq, int) and not isinstance(save_freq, bool):
                raise NotImplementedError(
                    "ModelCheckpoint(save_freq=<batches>) is not supported by backprop_lab; "
                    "use save_freq='epoch'"
                )
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. "
                "Expected save_freq are 'epoch' or integer values"
            )
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError(
                "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                f"provided must end in `.weights.h5` (Keras weights format). Received: "
                f"filepath={self.filepath}"
            )
        if not save_weights_only and not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format). "
                f"Received: filepath={self.filepath}"
            )
        if not save_weights_only and self.filepath.endswith(".h5"):
            # Keras accepts it and writes its legacy HDF5 format, which backprop-lab does
            # not have: say so now, not after the first epoch.
            raise NotImplementedError(
                f"ModelCheckpoint({self.filepath!r}): the legacy .h5 model format is not "
                "supported by backprop_lab; use a .keras path"
            )

    def _path(self, epoch: int, logs: dict) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}'
            ) from None

    def _should_save(self, epoch: int, logs: dict, path: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                    f"{current:.5f}, saving model to {path}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs or {}
        path = self._path(epoch, logs)
        if not self._should_save(epoch, logs, path):
            return
        if os.path.isdir(path):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {path}"
            )
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)


class CSVLogger(Callback):
    """Writes the epoch logs to a CSV file: ``epoch`` then the log keys, sorted.

    Parameters
    ----------
    filename : str or path
    separator : str
        The field separator.
    append : bool
        Add to an existing file (its header kept) instead of overwriting it.

    As in Keras, the columns are fixed at the first epoch; without validation
    the ``val_`` columns are written too, as ``NA``.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.keys = None
        self.writer = None
        self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                self.append_header = not bool(len(f.readline()))
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(
                self.csv_file,
                fieldnames=["epoch", *self.keys],
                delimiter=self.sep,
                lineterminator="\r\n",  # csv.excel's, as Keras writes
            )
            if self.append_header:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


class RemoteMonitor(Callback):
    """Keras's ``RemoteMonitor`` (posting logs to a server): refused."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "keras.callbacks.RemoteMonitor is not supported by backprop_lab; "
            "use CSVLogger or history.history to record the logs"
        )


class TensorBoard(Callback):
    """Keras's ``TensorBoard`` (event files for TensorBoard): refused."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "keras.callbacks.TensorBoard is not supported by backprop_lab; "
            "use CSVLogger or history.history to record the logs"
        )
