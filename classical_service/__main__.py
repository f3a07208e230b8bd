"""``python -m classical_service``: run the classical service (settings from QCORE_CLASSICAL_*)."""

from __future__ import annotations

import asyncio
import logging
import signal

from broker.tracing import configure_tracing
from classical_service.config import ClassicalSettings
from classical_service.server.app import create_server


async def _main() -> None:
    settings = ClassicalSettings()
    tracing = configure_tracing("classical")  # OTEL_TRACES_EXPORTER; off by default
    running = await create_server(settings)
    print(f"classical service listening on {settings.host}:{running.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop(settings.grace_s)
    if tracing is not None:
        tracing.shutdown()  # flushes the spans still buffered


def main() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_main())


if __name__ == "__main__":
    main()
