"""End-to-end cost of the command line: `backprop-lab demo` and the default `scale`.

Run ``python bench/bench_demo.py``.  Each command runs in a fresh process, as a
user runs it, with the numba cache warm (one warm-up run first); the script
prints the median wall time and the peak resident memory of the process, read
from the kernel's accounting of the finished child (``os.wait4``).

For ``scale`` it also splits the time: the sum of the trainings' own
``seconds`` (from ``results.csv``, spread over the worker processes) against
the wall time of the whole command.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``python -m backprop_lab ...`` process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "backprop_lab", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed: {proc.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def measure(argv: list[str], repeats: int) -> tuple[float, float, list[Path]]:
    outs = []
    times, peaks = [], []
    for _ in range(repeats + 1):  # the first run warms the numba cache and the disk
        out = Path(tempfile.mkdtemp(prefix="bench-demo-"))
        seconds, peak = run([*argv, "--out", str(out)])
        times.append(seconds)
        peaks.append(peak)
        outs.append(out)
    return statistics.median(times[1:]), max(peaks[1:]), outs[1:]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args(argv)

    seconds, peak, _ = measure(["demo", "--seed", "1", "--quiet"], args.repeats)
    print(
        f"backprop-lab demo (start to PNGs written): median {seconds:.2f} s, "
        f"peak memory {peak:.0f} MB (median of {args.repeats})"
    )
    seconds, peak, _ = measure(["demo", "--seed", "1", "--quiet", "--animate"], args.repeats)
    print(f"backprop-lab demo --animate: median {seconds:.2f} s, peak memory {peak:.0f} MB")
    if args.skip_scale:
        return
    seconds, peak, outs = measure(["scale", "--seed", "0", "--quiet"], 1)
    (folder,) = outs[0].iterdir()
    with (folder / "results.csv").open() as f:
        train = sum(float(row["seconds"]) for row in csv.DictReader(f))
    workers = os.cpu_count() or 1
    print(
        f"backprop-lab scale (default: 10 sizes x 5 seeds x 2 protocols = 100 trainings): "
        f"{seconds:.1f} s wall on {workers} workers; training itself {train:.1f} s of worker "
        f"time (= {train / workers:.1f} s of wall time if spread evenly), the rest "
        f"({seconds - train / workers:.1f} s) is process start-up, data, testing on 100,000 "
        f"points, pictures and scheduling"
    )


if __name__ == "__main__":
    main()
