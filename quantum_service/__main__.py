"""``python -m quantum_service``: run the quantum service (settings from QCORE_QUANTUM_*).

SIGINT or SIGTERM stops it gracefully within about ``grace_s`` seconds
(:meth:`~quantum_service.server.app.QuantumServer.stop`): running jobs are stored QUEUED and
run again after the next start. A simulation thread still inside one step when the grace
period is over is abandoned (its job is already stored QUEUED): the process exits without
joining it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time

from broker.tracing import configure_tracing
from quantum_service.config import QuantumSettings
from quantum_service.server.app import create_server

log = logging.getLogger("quantum_service")


async def _main() -> bool:
    """Serves until a signal; returns whether simulation threads were left running."""
    settings = QuantumSettings()
    tracing = configure_tracing("quantum")  # OTEL_TRACES_EXPORTER; off by default
    running = await create_server(settings)
    print(f"quantum service listening on {settings.host}:{running.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    began = time.monotonic()
    await running.stop(settings.grace_s)
    if tracing is not None:
        tracing.shutdown()  # flushes the spans still buffered
    abandoned = running.kernel.lanes.busy
    log.info("stopped in %.2f s (grace %.1f s); %d simulation thread(s) abandoned",
             time.monotonic() - began, settings.grace_s, abandoned)
    return abandoned > 0


def main() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    abandoned = asyncio.run(_main())
    if abandoned:  # do not join threads stuck in a simulation step: their jobs are stored
        logging.shutdown()
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
