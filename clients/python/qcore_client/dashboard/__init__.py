"""The qcore web dashboard (``qcore dashboard``): fleet, queues, live jobs, calibration history.

A monitoring client like any other: it reads the quantum service through its gRPC API with an
API token (:mod:`qcore_client.dashboard.fleet`) and serves one page with server-sent events
(:mod:`qcore_client.dashboard.app`; Starlette + sse-starlette under uvicorn, Chart.js served
from the package — no CDN). Needs the ``observe`` extra.
"""
