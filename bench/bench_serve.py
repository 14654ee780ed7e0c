"""Benchmark of the live playground (`backprop-lab serve`) against the issue's targets.

The server runs in a child process (``serve_in_background`` inside it, so the
clients do not share its interpreter lock, as a browser would not); the
clients are real WebSocket clients (the ``websockets`` package, asyncio), one
connection per tab, sending the page's messages and acknowledging every frame
as soon as its meta is parsed. Measured, each as a median:

(a) time from opening the socket to the first frame, after the article's
    settings (the defaults), over fresh connections;
(b) frames per second of one tab training the article's network;
(c) the frame's size for the article's network and for 6 layers of 16;
(d) frames per second per tab with 1, 5, 10, 20 and 50 tabs training at once,
    and a tab beyond a limit of 20 told "busy" while the 20 keep their rate;
(e) latency from a settings change to the first frame that shows it;
(f) 20 tabs by the number of worker threads;
(g) whether heavy requests stall training: tab A plays the article's network
    (at the page's fastest speed, and at the bench's speed) alone, then while
    tab B sends heavy requests back to back (``HEAVY``: the inspector on a
    whole batch, timeline seeks back and forth, a safetensors export, the
    loss landscape), B on the article's network and on 6 layers of 16 with
    Adam; A's epochs/s and frames/s with B over alone, and B's request latencies. Also A alone with
    its own inspector on (a point, a batch) against off.

Run: ``.venv/bin/python bench/bench_serve.py`` (about 6 minutes; ``--part g``
runs only part (g), about 4 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import statistics
import struct
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from backprop_lab.serve.config import ServeConfig
from backprop_lab.serve.server import serve_in_background

SPEED = 50  # epochs per second while playing
ARTICLE: dict = {}  # the defaults are the article's settings
WIDE = {"layers": [{"units": 16, "activation": "relu"}] * 6}
FASTEST = 5000.0  # the page's fastest speed, epochs/s (js/controls.js SPEEDS)
# permessage-deflate, as browsers negotiate it; --no-compression turns it off.
COMPRESSION = {"compression": "deflate"}


# --------------------------------------------------------------------------- the server


def _serve(pipe, max_sessions: int, workers: int) -> None:
    config = ServeConfig(max_sessions=max_sessions, workers=workers)
    with serve_in_background(config=config) as url:
        pipe.send(url)
        pipe.recv()  # until the parent says stop


class Server:
    """The playground in a child process, for a ``with`` block; ``.url`` is its address."""

    def __init__(self, max_sessions: int, workers: int = ServeConfig.workers):
        self.max_sessions, self.workers = max_sessions, workers

    def __enter__(self):
        ctx = mp.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        args = (child, self.max_sessions, self.workers)
        self.process = ctx.Process(target=_serve, args=args, daemon=True)
        self.process.start()
        self.url = self.pipe.recv()
        return self

    def __exit__(self, *exc):
        self.pipe.send("stop")
        self.process.join(20)
        if self.process.is_alive():
            self.process.kill()


# --------------------------------------------------------------------------- one tab


def frame_meta(data: bytes) -> dict:
    assert data[:4] == b"BPLF"
    (m,) = struct.unpack_from("<I", data, 4)
    return json.loads(data[8 : 8 + m])


class Tab:
    """One WebSocket client: records every frame (time, meta, size) and acks it."""

    def __init__(self, url: str):
        self.url = url
        self.frames: list[tuple[float, dict, int]] = []
        self.texts: list[tuple[float, dict]] = []
        self.waiters: list[tuple[object, asyncio.Future]] = []
        self.closed: tuple[int | None, str] | None = None

    async def open(self, settings: dict | None = None) -> float:
        """Connect, send the settings, wait for the first frame; return the seconds it took."""
        t0 = time.perf_counter()
        self.ws = await connect(
            self.url.replace("http", "ws", 1) + "/ws",
            origin=Origin(self.url),
            proxy=None,
            max_size=None,
            **COMPRESSION,
        )
        self.task = asyncio.create_task(self._pump())
        await self.wait(lambda kind, m: kind == "text" and m["type"] in ("hello", "busy"))
        if self.texts[0][1]["type"] == "busy":
            return float("nan")
        await self.send({"type": "settings", "settings": settings or {}})
        await self.wait(lambda kind, m: kind == "frame")
        return time.perf_counter() - t0

    async def send(self, message: dict) -> None:
        await self.ws.send(json.dumps(message))

    async def _pump(self) -> None:
        try:
            async for data in self.ws:
                now = time.perf_counter()
                if isinstance(data, bytes):
                    meta = frame_meta(data)
                    await self.ws.send(json.dumps({"type": "ack", "seq": meta["seq"]}))
                    self.frames.append((now, meta, len(data)))
                    self._notify("frame", meta)
                else:
                    message = json.loads(data)
                    self.texts.append((now, message))
                    self._notify("text", message)
        except ConnectionClosed:
            pass
        self.closed = (self.ws.close_code, self.ws.close_reason or "")
        for _, future in self.waiters:
            if not future.done():
                future.set_exception(ConnectionError(f"closed {self.closed}"))

    def _notify(self, kind: str, message: dict) -> None:
        for wanted, future in list(self.waiters):
            if not future.done() and wanted(kind, message):
                future.set_result((time.perf_counter(), message))
                self.waiters.remove((wanted, future))

    async def wait(self, wanted, timeout: float = 60.0):
        """(time, message) of the next message for which ``wanted(kind, message)``."""
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((wanted, future))
        return await asyncio.wait_for(future, timeout)

    def rate(self, t0: float, t1: float) -> float:
        """Frames per second received in [t0, t1)."""
        return sum(1 for t, _, _ in self.frames if t0 <= t < t1) / (t1 - t0)

    async def close(self) -> None:
        await self.ws.close()
        await self.task


# --------------------------------------------------------------------------- measurements


async def first_frame(url: str, n: int = 10) -> list[float]:
    seconds = []
    for _ in range(n):
        tab = Tab(url)
        seconds.append(await tab.open(ARTICLE))
        await tab.close()
    return seconds


async def playing(url: str, n: int, window: float, warmup: float = 1.0):
    """``n`` tabs training the article's network at once: per-tab frames/s and
    epochs/s over ``window`` s after ``warmup`` s."""
    tabs = [Tab(url) for _ in range(n)]
    await asyncio.gather(*(tab.open({"speed": SPEED}) for tab in tabs))
    for tab in tabs:
        await tab.send({"type": "play"})
    await asyncio.sleep(warmup)
    t0 = time.perf_counter()
    await asyncio.sleep(window)
    t1 = time.perf_counter()
    fps = [tab.rate(t0, t1) for tab in tabs]
    eps = [epochs_per_second(tab, t0, t1) for tab in tabs]
    await asyncio.gather(*(tab.close() for tab in tabs))
    return fps, eps


def epochs_per_second(tab: Tab, t0: float, t1: float) -> float:
    inside = [(t, m) for t, m, _ in tab.frames if t0 <= t < t1]
    if len(inside) < 2:
        return 0.0
    (ta, a), (tb, b) = inside[0], inside[-1]
    steps = a["steps_per_epoch"]
    return (b["iterations"] - a["iterations"]) / steps / (tb - ta)


async def frame_sizes(url: str) -> tuple[int, int]:
    sizes = []
    for settings in (ARTICLE, WIDE):
        tab = Tab(url)
        await tab.open(settings)
        sizes.append(tab.frames[0][2])
        await tab.close()
    return sizes[0], sizes[1]


async def busy(url: str, limit: int, window: float = 3.0):
    """``limit`` tabs play; one more connects. Returns (median fps before, after,
    the extra tab's first message type, its close code)."""
    tabs = [Tab(url) for _ in range(limit)]
    await asyncio.gather(*(tab.open({"speed": SPEED}) for tab in tabs))
    for tab in tabs:
        await tab.send({"type": "play"})
    await asyncio.sleep(1.0)
    t0 = time.perf_counter()
    await asyncio.sleep(window)
    t1 = time.perf_counter()
    extra = Tab(url)
    await extra.open()
    await asyncio.wait_for(extra.task, 10)
    t2 = time.perf_counter()
    await asyncio.sleep(window)
    t3 = time.perf_counter()
    before = statistics.median(tab.rate(t0, t1) for tab in tabs)
    after = statistics.median(tab.rate(t2, t3) for tab in tabs)
    lowest_after = min(tab.rate(t2, t3) for tab in tabs)
    await asyncio.gather(*(tab.close() for tab in tabs))
    kind = extra.texts[0][1]["type"] if extra.texts else None
    return before, after, lowest_after, kind, extra.closed


async def latency(url: str, n: int = 30):
    """Seconds from a settings change to the first frame that shows it, training
    playing: a noise change (new data and network: the frame's ``run`` rises),
    and a learning-rate change (the ``state`` echo, then the next frame)."""
    tab = Tab(url)
    await tab.open({"speed": SPEED})
    await tab.send({"type": "play"})
    await tab.wait(lambda kind, m: kind == "frame" and m["playing"])
    rebuild, lr_state, lr_frame = [], [], []
    for i in range(n):
        await asyncio.sleep(0.2)
        run = tab.frames[-1][1]["run"]
        t0 = time.perf_counter()
        await tab.send({"type": "settings", "settings": {"noise": 0.05 * ((i + 1) % 2)}})
        t1, _ = await tab.wait(lambda kind, m, r=run: kind == "frame" and m["run"] > r)
        rebuild.append(t1 - t0)
        await tab.send({"type": "play"})  # a rebuild pauses nothing, but make sure
        await asyncio.sleep(0.2)
        lr = 0.01 if i % 2 else 0.02
        t0 = time.perf_counter()
        await tab.send({"type": "settings", "settings": {"lr": lr}})
        t1, _ = await tab.wait(
            lambda kind, m, lr=lr: (
                kind == "text" and m["type"] == "state" and m["settings"]["lr"] == lr
            )
        )
        t2, _ = await tab.wait(lambda kind, m: kind == "frame")
        lr_state.append(t1 - t0)
        lr_frame.append(t2 - t0)
    await tab.close()
    return rebuild, lr_state, lr_frame


# --------------------------------------------------------------------------- (g) heavy requests


def _is_error(kind: str, m: dict) -> bool:
    return kind == "text" and m["type"] == "error"


# Tab B's heavy requests, sent in turn, each after the previous one's answer: (name, the
# message of its i-th time given B's number of snapshots n, whether a message answers it).
HEAVY = [
    (
        "inspect batch",
        lambda i, n: {"type": "inspect", "scope": "batch"},
        lambda sent, kind, m: kind == "text" and m["type"] == "inspection",
    ),
    (
        # the second snapshot (one step in: a landscape needs a path), then the last, and so
        # on: the weights change each time
        "seek",
        lambda i, n: {"type": "seek", "index": 1 + (n - 2) * (i % 2)},
        lambda sent, kind, m: kind == "frame" and m.get("snapshot") == sent["index"],
    ),
    (
        "export safetensors",
        lambda i, n: {"type": "export", "what": "safetensors"},
        lambda sent, kind, m: kind == "text" and m["type"] == "export",
    ),
    (
        "landscape",  # computed in a thread of its own, outside B's lock
        lambda i, n: {"type": "landscape"},
        lambda sent, kind, m: kind == "text" and m["type"] == "landscape",
    ),
]


async def until_frame(tab: Tab, wanted) -> dict:
    """The first frame (received or to come) whose meta ``wanted`` accepts."""
    for _, meta, _ in tab.frames:
        if wanted(meta):
            return meta
    _, meta = await tab.wait(lambda kind, m: kind == "frame" and wanted(m))
    return meta


async def heavy_tab(url: str, settings: dict, epochs: int = 5) -> tuple[Tab, int]:
    """Tab B, paused after ``epochs`` Steps (a timeline to seek in); (B, its snapshots)."""
    tab = Tab(url)
    await tab.open(settings)
    for _ in range(epochs):
        await tab.send({"type": "step", "unit": "epoch"})
    meta = await until_frame(tab, lambda m: m["epoch"] == epochs and not m["playing"])
    return tab, meta["snapshots"]


async def hammer(tab: Tab, snapshots: int, stop: asyncio.Event, seconds: dict) -> None:
    """B's heavy requests in turn until ``stop``; (when sent, seconds to its answer) of each
    one goes to ``seconds[name]`` (or to ``seconds["error"]`` when an ``error`` answered it)."""
    i = 0
    while not stop.is_set():
        name, message, answers = HEAVY[i % len(HEAVY)]
        sent = message(i // len(HEAVY), snapshots)
        future = asyncio.get_running_loop().create_future()
        tab.waiters.append((lambda k, m, s=sent, a=answers: a(s, k, m) or _is_error(k, m), future))
        t0 = time.perf_counter()
        await tab.send(sent)
        t1, reply = await asyncio.wait_for(future, 60)
        took = (t0, t1 - t0)
        seconds.setdefault("error" if reply.get("type") == "error" else name, []).append(took)
        i += 1


def frame_gaps(tab: Tab, t0: float, t1: float) -> list[float]:
    times = [t for t, _, _ in tab.frames if t0 <= t < t1]
    return [b - a for a, b in zip(times, times[1:])]


async def tab_a(url: str, speed: float, window: float, heavy: dict | None, inspect: dict | None):
    """Tab A playing the article's network at ``speed`` for ``window`` s (after 1 s of warm-up),
    with its own inspector on (``inspect``: the ``inspect`` message's fields) or off, and tab B
    sending ``HEAVY`` requests with the settings ``heavy`` (None: no tab B). Returns A's
    frames/s, epochs/s, frame gaps, inspections/s and the seconds B's requests sent in the
    window took, by request name."""
    a = Tab(url)
    await a.open({"speed": speed})
    if inspect:
        await a.send({"type": "inspect", **inspect})
    seconds: dict[str, list[tuple[float, float]]] = {}
    stop = asyncio.Event()
    b = worker = None
    if heavy is not None:
        b, snapshots = await heavy_tab(url, heavy)
        worker = asyncio.create_task(hammer(b, snapshots, stop, seconds))
    await a.send({"type": "play"})
    await asyncio.sleep(1.0)
    t0 = time.perf_counter()
    await asyncio.sleep(window)
    t1 = time.perf_counter()
    stop.set()
    if worker is not None:
        await worker
        await b.close()
    inspections = sum(1 for t, m in a.texts if t0 <= t < t1 and m["type"] == "inspection")
    result = (
        a.rate(t0, t1),
        epochs_per_second(a, t0, t1),
        frame_gaps(a, t0, t1),
        inspections / (t1 - t0),
        {name: [took for sent, took in v if t0 <= sent < t1] for name, v in seconds.items()},
    )
    await a.close()
    return result


def p90(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(0.9 * len(values)))]


async def heavy_requests(url: str, window: float, repeats: int = 3) -> list[tuple]:
    """Part (g): prints its figures; returns the table's rows (A's lowest ratio with B)."""
    conditions = {
        "A alone": (None, None),
        "B: article": (ARTICLE, None),
        "B: 6x16 Adam": ({**WIDE, "optimizer": "adam"}, None),
        "A inspects a point": (None, {"scope": "point", "index": 0}),
        "A inspects a batch": (None, {"scope": "batch"}),
    }
    lowest = 1.0
    for speed in (FASTEST, SPEED):
        runs: dict[str, list] = {name: [] for name in conditions}
        for _ in range(repeats):  # the conditions in turn, so that the load shifts hit all
            for name, (heavy, inspect) in conditions.items():
                runs[name].append(await tab_a(url, speed, window, heavy, inspect))
        fps = {name: statistics.median(r[0] for r in rs) for name, rs in runs.items()}
        eps = {name: statistics.median(r[1] for r in rs) for name, rs in runs.items()}
        print(
            f"(g) tab A playing the article's network at {speed:g} epochs/s, "
            f"{repeats} windows of {window:g} s each (medians):",
            flush=True,
        )
        for name, rs in runs.items():
            gaps = [g for r in rs for g in r[2]]
            line = (
                f"    {name:19s} {fps[name]:5.1f} frames/s ({fps[name] / fps['A alone']:.2f}x),"
                f" {eps[name]:7.1f} epochs/s ({eps[name] / eps['A alone']:.2f}x); "
                f"A's frame gap median {ms(statistics.median(gaps))}, p90 {ms(p90(gaps))}"
            )
            if name.startswith("A inspects"):
                line += f"; {statistics.median(r[3] for r in rs):.1f} inspections/s"
            print(line, flush=True)
            if name.startswith("B:"):
                lowest = min(lowest, fps[name] / fps["A alone"], eps[name] / eps["A alone"])
                seconds: dict[str, list[float]] = {}
                for r in rs:
                    for request, values in r[4].items():
                        seconds.setdefault(request, []).extend(values)
                each = [
                    f"{request} {len(v) / repeats:.0f} a window, "
                    f"median {ms(statistics.median(v))} p90 {ms(p90(v))}"
                    for request, v in seconds.items()
                ]
                print("        B's requests: " + "; ".join(each), flush=True)
    return [
        (
            "A's rate while B sends heavy requests",
            "no stall (>= 0.7x alone)",
            f"lowest {lowest:.2f}x",
            lowest >= 0.7,
        )
    ]


# --------------------------------------------------------------------------- report


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.0f} ms"


def print_rows(rows: list[tuple]) -> int:
    print()
    print("| measure | target | measured (median) | |")
    print("|---|---|---|---|")
    for name, target, value, met in rows:
        print(f"| {name} | {target} | {value} | {'met' if met else 'not met'} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0 if all(row[3] for row in rows) else 1


async def main(window: float, part: str = "all") -> int:
    print(
        f"machine: {platform.system()} {platform.release()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; Python {platform.python_version()}; "
        f"compression {COMPRESSION['compression']}",
        flush=True,
    )
    if part == "g":
        with Server(max_sessions=60) as server:
            return print_rows(await heavy_requests(server.url, window))
    rows = []
    with Server(max_sessions=60) as server:
        url = server.url
        print(f"server: {url} (max_sessions=60, in a child process)", flush=True)

        firsts = await first_frame(url)
        print(
            f"(a) first frame after connect + settings: median {ms(statistics.median(firsts))}"
            f" (min {ms(min(firsts))}, max {ms(max(firsts))}, {len(firsts)} fresh connections)",
            flush=True,
        )
        rows.append(
            (
                "first frame (article)",
                "<= 1 s",
                ms(statistics.median(firsts)),
                statistics.median(firsts) <= 1.0,
            )
        )

        fps, eps = await playing(url, 1, window)
        print(
            f"(b) one tab playing at {SPEED} epochs/s: {fps[0]:.1f} frames/s "
            f"({eps[0]:.1f} epochs/s trained) over {window:g} s",
            flush=True,
        )
        rows.append(("frames/s, one tab playing", ">= 30", f"{fps[0]:.1f}", fps[0] >= 30))

        article, wide = await frame_sizes(url)
        print(
            f"(c) frame size: article (8 hidden neurons) {article} bytes; 6x16 {wide} bytes",
            flush=True,
        )
        rows.append(("frame size (article)", "<= 20 KB", f"{article} B", article <= 20_000))

        at20 = None
        print("(d) tabs playing at once: frames/s per tab (median, min), epochs/s (median)")
        for n in (1, 5, 10, 20, 50):
            fps, eps = await playing(url, n, window)
            med = statistics.median(fps)
            print(
                f"    {n:3d} tabs: median {med:6.1f}, min {min(fps):6.1f} frames/s; "
                f"{statistics.median(eps):6.1f} epochs/s",
                flush=True,
            )
            if n == 20:
                at20 = (med, min(fps))
        rows.append(
            (
                "frames/s per tab, 20 tabs",
                ">= 10",
                f"{at20[0]:.2f} (min {at20[1]:.2f})",
                at20[0] >= 10,
            )
        )

    with Server(max_sessions=20) as server:
        before, after, lowest, kind, closed = await busy(server.url, 20)
        print(
            f"(d) limit 20: the 21st tab got {kind!r} then close {closed}; the 20 tabs: "
            f"median {before:.1f} frames/s before, {after:.1f} after (min {lowest:.1f})",
            flush=True,
        )
        rows.append(
            (
                "tab beyond the limit",
                "busy, others keep rate",
                f"{kind}, close {closed[0] if closed else None}; {before:.1f} -> {after:.1f} fps",
                kind == "busy" and after >= 0.8 * before,
            )
        )

    with Server(max_sessions=60) as server:
        rebuild, lr_state, lr_frame = await latency(server.url)
        print(
            f"(e) latency, {len(rebuild)} changes each, training playing: noise change -> "
            f"frame of the new run: median {ms(statistics.median(rebuild))} "
            f"(max {ms(max(rebuild))}); lr change -> state echo median "
            f"{ms(statistics.median(lr_state))}, -> next frame median "
            f"{ms(statistics.median(lr_frame))} (max {ms(max(lr_frame))})",
            flush=True,
        )
        rows.append(
            (
                "latency, change -> frame (noise)",
                "<= 100 ms",
                ms(statistics.median(rebuild)),
                statistics.median(rebuild) <= 0.1,
            )
        )
        rows.append(
            (
                "latency, change -> frame (lr)",
                "<= 100 ms",
                ms(statistics.median(lr_frame)),
                statistics.median(lr_frame) <= 0.1,
            )
        )

    # (f) Why one worker thread: the same 20 tabs with 1, 2 and 4 workers.
    by_workers = {}
    for workers in (1, 2, 4):
        with Server(max_sessions=60, workers=workers) as server:
            fps, _ = await playing(server.url, 20, window)
            by_workers[workers] = statistics.median(fps)
    print(
        "(f) 20 tabs, frames/s per tab (median) by worker threads: "
        + ", ".join(f"{w}: {v:.1f}" for w, v in by_workers.items()),
        flush=True,
    )

    with Server(max_sessions=60) as server:
        rows += await heavy_requests(server.url, window)
    return print_rows(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=5.0, help="seconds measured per run")
    parser.add_argument("--speed", type=float, default=SPEED, help="epochs/s while playing")
    parser.add_argument(
        "--no-compression", action="store_true", help="clients refuse permessage-deflate"
    )
    parser.add_argument(
        "--part", choices=["all", "g"], default="all", help="g: only part (g), heavy requests"
    )
    args = parser.parse_args()
    SPEED = args.speed
    if args.no_compression:
        COMPRESSION["compression"] = None
    sys.exit(asyncio.run(main(args.window, args.part)))
