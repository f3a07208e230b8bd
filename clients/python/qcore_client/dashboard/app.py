"""The dashboard's web app (Starlette): the page, its static files, the fleet view as JSON and
as server-sent events.

Routes:

* ``GET /`` — the page (``static/index.html``); Chart.js 4 is served from ``static/vendor/``
  (MIT, shipped in this package), so the page needs no network beyond this server;
* ``GET /api/fleet`` — the current fleet view (:mod:`qcore_client.dashboard.fleet`), JSON;
* ``GET /events`` — ``text/event-stream`` of ``fleet`` events, each carrying the whole view as
  JSON: the current one at once, then one per change (the poller's interval bounds the delay).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from qcore_client.dashboard.fleet import FleetPoller

__all__ = ["create_app", "serve_dashboard", "STATIC_DIR"]

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(poller: FleetPoller) -> Starlette:
    """The dashboard app reading from ``poller`` (started and stopped with the app)."""

    async def index(request: Request) -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    async def fleet(request: Request) -> JSONResponse:
        return JSONResponse(poller.view())

    async def events(request: Request) -> EventSourceResponse:
        async def stream() -> AsyncIterator[dict]:
            async for view in poller.updates():
                yield {"event": "fleet", "data": json.dumps(view)}
        return EventSourceResponse(stream(), ping=15)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await poller.start()
        try:
            yield
        finally:
            await poller.stop()

    return Starlette(routes=[
        Route("/", index), Route("/api/fleet", fleet), Route("/events", events),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ], lifespan=lifespan)


def serve_dashboard(poller: FleetPoller, *, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server of :func:`create_app` on ``host:port`` (not started: ``await
    server.serve()``, or ``server.run()`` to block)."""
    return uvicorn.Server(uvicorn.Config(create_app(poller), host=host, port=port,
                                         log_level="warning", lifespan="on"))
