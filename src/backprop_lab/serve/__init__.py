"""``backprop-lab serve``: the live playground in the browser, trained by the real engine.

``app`` is the Starlette app (the page, ``/healthz`` and one WebSocket per tab),
``connection`` one tab's messages and frames, ``session`` its data, network
and training, ``frames`` the binary frames, ``protocol`` the checks of every
message, ``server`` uvicorn around it.  The page itself is in ``static/``.
The protocol is written out in docs/playground-protocol.md.
"""

from .app import create_app
from .config import ServeConfig
from .server import serve_in_background

__all__ = ["ServeConfig", "create_app", "serve_in_background"]
