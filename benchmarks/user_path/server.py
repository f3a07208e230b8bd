"""``python -m benchmarks.user_path.server DB_PATH``: a quantum service for the user-path run.

Started the way the integration tests start one (``create_server(QuantumSettings(port=0,
db_path=...))``: a free loopback port, a fresh SQLite job store), but in a process of its own,
so that the client and the service do not share an interpreter. Telemetry is off (no broker is
needed), and the per-user device-time quota is raised to :data:`QUOTA_DEVICE_S` (the deep and
3 MB programs at 1000 shots use minutes of simulated trapped-ion device time each, and a run
submits dozens); every other setting is the service's default. Prints one JSON line ``{"address":
"127.0.0.1:PORT", "token": "..."}`` once serving (an API token of user ``bench``, minted into the
fresh store), then runs until stdin closes or SIGTERM/SIGINT arrives.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

#: Device seconds per quota window for the benchmark's user (the default is 3600).
QUOTA_DEVICE_S = 1e9


async def _serve(db_path: Path) -> None:
    from quantum_service.config import QuantumSettings
    from quantum_service.server.app import create_server

    server = await create_server(QuantumSettings(port=0, db_path=db_path, telemetry=False,
                                                 quota_device_s_per_window=QUOTA_DEVICE_S))
    token = server.tokens.create("bench")
    print(json.dumps({"address": server.address, "token": token}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)
    await stop.wait()
    await server.stop(0.5)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.user_path.server DB_PATH", file=sys.stderr)
        return 2
    asyncio.run(_serve(Path(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
