"""What recording costs: training time of the demo with and without the recorders.

The demo (circle, 5,000 points, Dense(8) → Dense(1), SGD 0.01, 50 epochs of
125 steps) is trained ``--repeats`` times per case from the same seed, on
each engine, and the median wall time of ``model.fit`` is compared:

* ``none``       no recorder (``model.fit`` as ``train_run`` called it before);
* ``gradients``  what every run records: per-layer gradient norms per epoch;
* ``animate``    + frames (``--animate``);
* ``all``        + frames and the weights' trajectory (``--animate --landscape``).

A short run (``--short-epochs``, default 10) is timed too.  Frames and the
trajectory are taken at gradient steps spaced densely at the start
(``recording.frame_steps``); the compiled engine runs the steps between two
snapshots in one kernel call (``Callback.batches_wanted``).  The drawing after
training (GIF, MP4, landscape) is timed separately; it is not training time.

Usage::

    python bench/bench_recording.py [--repeats 5] [--short-epochs 10]

Measured on the 2-core machine on 2026-12-01 (median of 5), ``fit`` of the
50-epoch demo: numpy engine 192 ms without recording, 200 ms with gradients
(x 1.04), 238 ms with everything (x 1.24); compiled engine 9.9 ms, 14.1 ms
(x 1.42), 31.7 ms (x 3.2; 112 snapshots, each measuring the loss on the
4,000 training points and drawing a grid).  The 10-epoch run: numpy x 1.48,
compiled x 8.7 (2.1 -> 18 ms).  Drawing the demo's pictures after training
takes about 5 s; its learning.gif has 112 frames.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from backprop_lab.runs.recording import make_recorders
from backprop_lab.runs.runner import build_model, load_data
from backprop_lab.runs.settings import Settings

CASES = {
    "none": None,
    "gradients": dict(gradients=True),
    "animate": dict(gradients=True, frames=True),
    "all": dict(gradients=True, frames=True, trajectory=True),
}


def time_fit(settings: Settings, data, options) -> float:
    model = build_model(settings, 2, data.n_classes)
    callbacks = []
    if options is not None:
        callbacks, _ = make_recorders(data.X_train, data.y_train, **options)
    start = time.perf_counter()
    model.fit(
        data.X_train,
        data.y_train,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        validation_data=(data.X_test, data.y_test),
        verbose=0,
        callbacks=callbacks,
    )
    return time.perf_counter() - start


def table(settings: Settings, repeats: int) -> None:
    data = load_data(settings)
    time_fit(settings.replace(epochs=1), data, CASES["all"])  # warm up (numba, caches)
    medians = {}
    for name, options in CASES.items():
        medians[name] = statistics.median(time_fit(settings, data, options) for _ in range(repeats))
    base = medians["none"]
    for name, seconds in medians.items():
        print(f"  {name:<10} {seconds * 1000:8.1f} ms   × {seconds / base:4.2f}")


def drawing(settings: Settings) -> None:
    from backprop_lab.pictures.learning import write_learning_pictures
    from backprop_lab.runs.runner import train_run

    result = train_run(settings, animate=True, landscape=True)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_learning_pictures(Path(tmp), result, result.recording)
        seconds = time.perf_counter() - start
        sizes = {p.name: p.stat().st_size for p in Path(tmp).iterdir()}
    frames = result.recording.n_frames
    print(f"  drawing after training: {seconds:.2f} s ({frames} frames)")
    for name in sorted(sizes):
        print(f"  {name:<14} {sizes[name] / 1e6:6.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--short-epochs", type=int, default=10)
    args = parser.parse_args()
    np.seterr(all="ignore")
    demo = Settings(seed=1, name="demo").validate()
    for engine in ("numpy", "compiled"):
        for epochs in (demo.epochs, args.short_epochs):
            settings = demo.replace(engine=engine, epochs=epochs)
            print(f"{engine} engine, {epochs} epochs (median of {args.repeats} runs of fit):")
            table(settings, args.repeats)
    print("demo with --animate --landscape:")
    drawing(demo)


if __name__ == "__main__":
    main()
