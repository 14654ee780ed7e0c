"""One tab's WebSocket: its messages in, its frames out.

Two tasks per tab share the socket.  The receiver reads the tab's messages,
checks each (``protocol.parse_message``) and applies it to the session.  The
pump trains while playing, by the wall clock at the set speed, and sends a
frame whenever something changed and the tab has acknowledged the previous
one, so at most one frame is ever in flight: a slow tab gets fewer frames,
never a queue.  All work on the session (training, frames, settings) runs in
the server's worker threads under the session's lock; the event loop only
moves messages.  An exception in a session is logged on the server, told to
its tab in one line (never a traceback or a path), and pauses that session
only.  A loss landscape (``landscape.py``) is the one exception to "all work
in the worker threads": only its copying runs there, under the lock; its
computation runs on the server's low-priority background thread, as a task of
the connection, so the receiver and the pump go on meanwhile (one landscape
per tab at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from starlette.websockets import WebSocketDisconnect

from . import divergence, export, landscape, timeline, userdata, warmup
from . import inspection as inspector
from .protocol import DEFAULTS, HELLO_CHOICES, LIMITS, VERSION, ProtocolError, parse_message
from .session import Session

log = logging.getLogger("backprop_lab.serve")
IN_FLIGHT_WAIT = 0.1  # s: how long training waits for a frame's ack before going on
FIRST_MESSAGE = '{"type": "settings", "settings": {}}'


def _edit_points(session, message: dict) -> list[dict]:
    """A ``points`` edit, and the inspector told of it in the same turn (no frame between)."""
    replies = userdata.edit_points(session, message)
    inspector.points_edited(session, message)  # the inspected point may have moved or gone
    return replies


class Connection:
    """The session of one WebSocket and the two tasks that serve it.

    Parameters
    ----------
    websocket : starlette.websockets.WebSocket
        Accepted.
    config : ServeConfig
    executor : concurrent.futures.Executor
        The worker threads shared by all sessions.
    background : concurrent.futures.Executor
        The thread that computes loss landscapes for all sessions.
    """

    def __init__(self, websocket, config, executor, background):
        self.ws, self.config, self.executor = websocket, config, executor
        self.background = background
        self.session = Session()
        self.wake = asyncio.Event()
        self.in_flight = None  # the frame sent and not yet acknowledged
        self.started = False  # the first settings have arrived
        self._send_lock = asyncio.Lock()
        self._last_frame = 0.0
        self._told_diverged = False
        self._landscape = None  # the task computing this tab's loss landscape

    async def send(self, message) -> None:
        async with self._send_lock:
            if isinstance(message, bytes):
                await self.ws.send_bytes(message)
            else:
                await self.ws.send_json(message)

    async def work(self, fn, *args):
        """``fn(*args)`` in a worker thread under the session's lock, its CPU time counted."""
        session = self.session

        def call():
            with session.lock:
                began = time.thread_time()
                try:
                    return fn(*args)
                finally:
                    session.cpu_seconds += time.thread_time() - began

        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    async def run(self) -> None:
        """Serve the tab until it goes, stays silent too long, or the server stops."""
        hello = {"type": "hello", "version": VERSION, "defaults": DEFAULTS, "limits": LIMITS}
        await self.send({**hello, "choices": HELLO_CHOICES})
        pump = asyncio.create_task(self._pump())
        try:
            await self._receive()
        except WebSocketDisconnect:
            pass
        finally:
            tasks = [pump] + ([self._landscape] if self._landscape else [])
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await task

    async def _receive(self) -> None:
        idle = self.config.idle_timeout
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), idle)
            except asyncio.TimeoutError:
                text = f"this tab sent nothing for {idle:g} s, so its session was closed; reload"
                await self.send({"type": "status", "message": text + " the page to start again"})
                await self.ws.close(code=1000)
                return
            if message["type"] == "websocket.disconnect":
                return
            try:
                await self._handle(message)
            except ProtocolError as e:
                await self.send(e.to_message())
            except WebSocketDisconnect:
                raise
            except Exception as e:
                await self._failed(e)

    async def _failed(self, e: Exception) -> None:
        """A session's own failure: logged here, one line to its tab, this tab only."""
        log.exception("playground session failed")
        self.session.playing = False
        text = f"the server could not go on ({type(e).__name__}); training is paused"
        await self.send({"type": "error", "message": text})

    async def _handle(self, message: dict) -> None:
        if message.get("text") is None:
            raise ProtocolError("messages must be JSON text; binary messages are not accepted")
        config = self.config
        msg = parse_message(message["text"], config.max_message_bytes, config.max_upload_bytes)
        kind, session = msg["type"], self.session
        if kind == "ack":
            if msg["seq"] == self.in_flight:
                self.in_flight = None
                self.wake.set()
            return
        if session.cpu_seconds > self.config.cpu_limit:
            raise ProtocolError(self._cpu_text())
        if kind != "settings" and not self.started:
            raise ProtocolError(f"send the settings first, e.g. {FIRST_MESSAGE}")
        if kind == "settings" and not self.started:
            if not warmup.ready():
                await self.send({"type": "status", "message": self._preparing()})
            errors, replies = await self.work(session.start, msg["settings"])
            self.started = True
            await self.send({"type": "status", "message": ""})
            for reply in errors + replies:
                await self.send(reply)
        elif kind == "settings":
            self._told_diverged = False
            for reply in await self.work(session.update, msg["settings"]):
                await self.send(reply)
        elif kind == "focus":
            await self.work(session.set_focus, msg["neuron"])
        elif kind in ("points", "upload"):  # own data (userdata.py)
            if kind == "upload":  # a new network; a points edit keeps the weights
                self._told_diverged = False
            edit, arg = (_edit_points, msg) if kind == "points" else (userdata.upload, msg["csv"])
            for reply in await self.work(edit, session, arg):
                await self.send(reply)
        elif kind == "export":
            await self.send(await self.work(export.export, session, msg["what"], config.out))
        elif kind == "inspect":  # the backprop inspector (inspection.py)
            reply = await self.work(inspector.set_scope, session, msg["scope"], msg.get("index"))
            if reply is not None:
                await self.send(reply)
        elif kind == "landscape":
            self._start_landscape(await self._prepare_landscape())
        else:
            if kind in ("play", "pause"):
                if kind == "play":
                    self._check_may_train()
                if session.playing != (kind == "play"):
                    session.playing = kind == "play"
                    session.changed = True  # the next frame says so
                    if kind == "pause":  # a snapshot of where it stopped (timeline.py)
                        await self.work(session.timeline.mark, session)
            elif kind == "step":
                self._check_may_train()
                await self.work(session.step, msg["unit"])
            elif kind == "reset":
                self._told_diverged = False
                await self.work(session.reset)
            elif kind == "seek":
                await self.work(timeline.seek, session, msg["index"])
                self._told_diverged = False
            elif kind == "rewind":
                await self.work(divergence.rewind, session)
                self._told_diverged = False
            await self.send(await self.work(session.state_message))
        self.wake.set()

    async def _prepare_landscape(self) -> landscape.Request:
        if self._landscape is not None and not self._landscape.done():
            raise ProtocolError(landscape.ALREADY)
        return await self.work(landscape.prepare, self.session)  # copies, under the lock

    def _start_landscape(self, request: landscape.Request) -> None:
        """Compute the landscape of ``request`` on the background thread; send it when done."""

        async def compute():
            loop = asyncio.get_running_loop()
            try:
                reply = await loop.run_in_executor(
                    self.background, landscape.compute, self.session, request
                )
            except Exception:
                log.exception("playground landscape failed")
                text = "the server could not compute the loss landscape; training goes on"
                reply = {"type": "error", "message": text}
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # the tab may be gone
                await self.send(reply)

        self._landscape = asyncio.create_task(compute())

    def _check_may_train(self) -> None:
        if self.session.diverged:
            raise ProtocolError(divergence.REFUSAL)

    def _cpu_text(self) -> str:
        return (
            f"this session used its {self.config.cpu_limit:g} s of CPU time (the server's "
            "limit per session), so training stopped; reload the page for a new session"
        )

    @staticmethod
    def _preparing() -> str:
        if warmup.compiled_before():
            return "Loading the compiled engine..."
        return (
            "Preparing the compiled engine: this machine has not compiled its kernels yet "
            "(about 10 s, once); training starts as soon as they are ready"
        )

    async def _pump(self) -> None:
        """Train while playing and send a frame whenever one is due and allowed."""
        loop = asyncio.get_running_loop()
        session, interval = self.session, self.config.frame_interval
        last = loop.time()
        while True:
            # While a frame is in flight, its ack wakes the pump; training catches
            # up by the clock then, in one larger chunk instead of many small ones.
            timeout = None
            if session.playing:
                timeout = interval if self.in_flight is None else IN_FLIGHT_WAIT
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout)
            self.wake.clear()
            wait = interval - (loop.time() - self._last_frame)
            if session.playing and wait > 0:  # no faster than the frame interval
                await asyncio.sleep(wait)
            now = loop.time()
            elapsed, last = (now - last if session.playing else 0.0), now
            if not self.started:
                continue
            try:
                await self._tick(elapsed)
            except WebSocketDisconnect:
                raise
            except Exception as e:
                await self._failed(e)

    async def _tick(self, elapsed: float) -> None:
        """Train for ``elapsed`` seconds of play, say what happened, send a frame if due."""
        session = self.session
        if session.cpu_seconds > self.config.cpu_limit:  # nothing more runs for this tab
            if session.playing:
                session.playing = False
                await self.send({"type": "error", "message": self._cpu_text()})
                await self.send(session.state_message())  # reads settings only: no work
            return
        frame_due = self.in_flight is None
        if not session.playing and not (frame_due and session.changed):
            return

        def step():  # one trip to the worker thread for all
            if session.playing:
                session.advance(elapsed)
            if not (frame_due and session.changed):
                return None, None
            return inspector.due(session), session.frame()  # the inspection comes first

        inspection, frame = await self.work(step)
        if session.diverged and not self._told_diverged:
            self._told_diverged = True
            await self.send({"type": "status", "message": divergence.status_text(session)})
            await self.send(await self.work(divergence.report, session))
            await self.send(await self.work(session.state_message))
            self.wake.set()  # the frame that shows it, if this one could not
        if inspection is not None:
            await self.send(inspection)
        if frame is not None:
            self.in_flight = session.seq
            self._last_frame = asyncio.get_running_loop().time()
            await self.send(frame)
