"""Running the playground app on uvicorn: in the foreground, or in a thread for tests."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
import webbrowser

import uvicorn

from .app import LOOPBACK, create_app
from .config import ServeConfig

# Messages beyond this are cut by the WebSocket layer itself; smaller ones that are
# still too large get the app's one-line error (ServeConfig.max_message_bytes).
WS_MAX_SIZE = 1 << 20


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one).

    Raises
    ------
    OSError
        With a one-line message naming the address, e.g. a port in use.
    """
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: a frame's last segment must not wait for
        # the tab's delayed ACK (Nagle's algorithm; 40 ms on Linux).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as e:
        raise OSError(e.errno, f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(128)
    return sock


def _server(config: ServeConfig | None, host: str) -> uvicorn.Server:
    config = config or ServeConfig()
    if host in LOOPBACK and config.allowed_hosts is None:
        config = dataclasses.replace(config, allowed_hosts=tuple(LOOPBACK))
    app = create_app(config)
    return uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            ws_max_size=WS_MAX_SIZE,
            # Frames go to this machine or a LAN: compressing them would cost more
            # CPU (on both ends) than the bytes it saves.
            ws_per_message_deflate=False,
            lifespan="on",
        )
    )


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"


@contextlib.contextmanager
def serve_in_background(host: str = "127.0.0.1", port: int = 0, config: ServeConfig | None = None):
    """Run the playground in a thread for the block; yields its base URL.

    Examples
    --------
    >>> with serve_in_background() as url:  # doctest: +SKIP
    ...     print(url)
    http://127.0.0.1:40423
    """
    sock = bind(host, port)
    server = _server(config, host)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the playground server did not start")
        time.sleep(0.01)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def run(host: str, port: int, open_browser: bool, config: ServeConfig) -> None:
    """Serve until Ctrl-C, printing the address (and a warning off loopback)."""
    sock = bind(host, port)
    url = url_of(sock)
    print(f"backprop-lab playground: {url}/  (Ctrl-C stops it)", flush=True)
    if host not in LOOPBACK:
        print(
            f"warning: listening on {host}, so other machines that reach this one can open "
            "the playground and use its CPU; use --host 127.0.0.1 to keep it private",
            flush=True,
        )
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url + "/",)).start()
    _server(config, host).run(sockets=[sock])
