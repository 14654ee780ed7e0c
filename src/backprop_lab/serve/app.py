"""The playground's web app: the page, ``/healthz``, and one WebSocket per tab at ``/ws``."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from . import landscape, warmup
from .config import ServeConfig
from .connection import Connection

STATIC = Path(__file__).parent / "static"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
BUSY_CODE = 1013  # "try again later"
POLICY_CODE = 1008


def _host_port(netloc: str, scheme: str) -> tuple[str, int | None]:
    parts = urlsplit(f"{scheme}://{netloc}")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
    except ValueError:
        return "", None
    return ("loopback" if host in LOOPBACK else host), port


def same_origin(headers, scheme: str = "http") -> bool:
    """Whether a WebSocket's ``Origin`` header is the server's own origin.

    No header (a program, not a browser page) is allowed; a page on another
    origin is not, so it cannot drive the server.  localhost and 127.0.0.1
    count as the same host.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    server = _host_port(headers.get("host", ""), "https" if scheme == "wss" else "http")
    return _host_port(parts.netloc, parts.scheme) == server and server[1] is not None


def host_allowed(headers, allowed) -> bool:
    """Whether the request's ``Host`` header names one of ``allowed`` (None: any)."""
    if allowed is None:
        return True
    name = urlsplit("//" + headers.get("host", "")).hostname
    return name is not None and name.lower() in allowed


class Hub:
    """The open sessions, the worker threads they share, and one background thread.

    The background thread computes loss landscapes (``landscape.py``) for all
    sessions in turn, at a lower CPU priority than training, so a landscape
    takes what the workers leave.
    """

    def __init__(self, config: ServeConfig):
        self.config = config
        self.connections: set[Connection] = set()
        self.executor = ThreadPoolExecutor(config.workers, thread_name_prefix="playground")
        self.background = ThreadPoolExecutor(
            1, thread_name_prefix="playground-background", initializer=landscape.lower_priority
        )

    async def websocket(self, ws) -> None:
        allowed = self.config.allowed_hosts
        if not (same_origin(ws.headers, ws.url.scheme) and host_allowed(ws.headers, allowed)):
            await ws.close(code=POLICY_CODE)  # before accept: the handshake gets 403
            return
        await ws.accept()
        if len(self.connections) >= self.config.max_sessions:
            text = (
                f"the server is busy: it serves {self.config.max_sessions} sessions at once "
                "(its limit); close another tab or try again later"
            )
            await ws.send_json({"type": "busy", "message": text})
            await ws.close(code=BUSY_CODE)
            return
        connection = Connection(ws, self.config, self.executor, self.background)
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)


def create_app(config: ServeConfig | None = None) -> Starlette:
    """The playground app; see docs/playground-protocol.md for what ``/ws`` speaks."""
    hub = Hub(config or ServeConfig())
    warmup.start()

    async def index(request):
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def healthz(request):
        return JSONResponse({"status": "ok", "sessions": len(hub.connections)})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        hub.executor.shutdown(wait=False, cancel_futures=True)
        hub.background.shutdown(wait=False, cancel_futures=True)

    routes = [
        Route("/", index),
        Route("/healthz", healthz),
        WebSocketRoute("/ws", hub.websocket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.hub = hub
    return app
