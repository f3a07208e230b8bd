"""``python -m broker``: run the embedded MQTT broker as a process.

Usage::

    python -m broker [--host 127.0.0.1] [--port 1883] [--credentials FILE | --anonymous]
                     [--tls-cert PEM --tls-key PEM]

Without ``--host``/``--port`` it listens where ``QCORE_MQTT_URL`` points, else on
``127.0.0.1:1883``; ``--port 0`` picks a free port. It admits only the login of the credentials
file (``--credentials``, default ``var/mqtt.credentials``; written with a random password on the
first start, see :mod:`broker.credentials`), which clients find through
``QCORE_MQTT_CREDENTIALS`` or in ``var/mqtt.credentials``; ``--anonymous`` admits anyone
instead (tests). ``--tls-cert``/``--tls-key`` serve MQTT over TLS (``mqtts://``). The first line
on stdout is the broker URL (``mqtt://127.0.0.1:41234``). SIGTERM or SIGINT stops it cleanly
(exit status 0); a port that cannot be bound, or a credentials or TLS file that cannot be used,
exits with status 1 and a message on stderr.

For production run Mosquitto with ``broker/production/mosquitto.conf`` instead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from broker.config import DEFAULT_HOST, DEFAULT_PORT, URL_ENV_VAR, parse_mqtt_url
from broker.credentials import LOCAL_CREDENTIALS_FILE, ensure_credentials_file
from broker.embedded import EmbeddedBroker
from broker.errors import BrokerConfigError, TlsConfigError

__all__ = ["main"]


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m broker",
        description="Run qcore's embedded MQTT telemetry broker (amqtt).",
    )
    parser.add_argument("--host", help=f"interface to bind (default: from {URL_ENV_VAR}, "
                                       f"else {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, help=f"TCP port, 0 for a free one (default: from "
                                                 f"{URL_ENV_VAR}, else {DEFAULT_PORT})")
    login = parser.add_mutually_exclusive_group()
    login.add_argument("--credentials", type=Path, default=LOCAL_CREDENTIALS_FILE,
                       help="JSON file of the one login admitted, created on the first start "
                            f"(default: {LOCAL_CREDENTIALS_FILE})")
    login.add_argument("--anonymous", action="store_true",
                       help="admit clients without credentials (tests only)")
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate chain: serve mqtts://")
    parser.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    return parser.parse_args(argv)


async def _serve(host: str, port: int, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    credentials = None if args.anonymous else ensure_credentials_file(args.credentials)
    async with EmbeddedBroker(host=host, port=port, credentials=credentials,
                              tls_cert=args.tls_cert, tls_key=args.tls_key) as broker:
        print(broker.url, flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the broker until SIGTERM/SIGINT; returns the process exit status."""
    args = _parse_args(argv)
    try:
        host, port = DEFAULT_HOST, DEFAULT_PORT
        configured = os.environ.get(URL_ENV_VAR, "").strip()
        if configured:
            address = parse_mqtt_url(configured)
            host, port = address.host, address.port
        host = args.host if args.host is not None else host
        port = args.port if args.port is not None else port
        asyncio.run(_serve(host, port, args))
    except (BrokerConfigError, TlsConfigError) as exc:
        print(f"qcore broker: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
