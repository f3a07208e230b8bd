"""Telemetry for a qcore service: find (or start) a broker, then publish without waiting.

Resolution order (DESIGN.md): ``QCORE_MQTT_URL`` if set; else a broker answering on
``localhost:1883``; else an embedded amqtt broker started in this process (on 1883 when free, so
the other services find it, else on a free port). Nothing here ever blocks a caller on the
broker: the publisher queues and reconnects in the background.

Credentials: the publisher logs in as :func:`broker.credentials.resolve_credentials` says, else
with the login of the service's credentials file (``credentials_file``, beside its state). An
embedded broker started here admits only that login: the file is written on the first start
(:func:`broker.credentials.ensure_credentials_file`) and reused afterwards, so a service
started later with the same state finds the broker on 1883 with it and publishes there too.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from broker.config import DEFAULT_HOST, DEFAULT_PORT, resolve_broker_url
from broker.credentials import (
    LOCAL_CREDENTIALS_FILE,
    ensure_credentials_file,
    read_credentials_file,
    resolve_credentials,
)
from broker.embedded import EmbeddedBroker
from broker.errors import BrokerConfigError
from broker.publisher import NullPublisher, Publisher, TelemetryPublisher
from broker.topics import DEFAULT_PREFIX

__all__ = ["ServiceTelemetry", "start_service_telemetry"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ServiceTelemetry:
    """A started publisher and, if this process had to start one, its embedded broker."""

    publisher: TelemetryPublisher | NullPublisher
    url: str | None
    embedded: EmbeddedBroker | None = None

    async def stop(self) -> None:
        await self.publisher.stop()
        if self.embedded is not None:
            await self.embedded.stop()


async def start_service_telemetry(service: str, *, address: str = "", url: str | None = None,
                                  enabled: bool = True, version: str = "0.1.0",
                                  prefix: str = DEFAULT_PREFIX,
                                  credentials_file: Path | None = None) -> ServiceTelemetry:
    """Starts telemetry publishing for ``service``.

    Args:
        service: service name (``quantum``, ``classical``), one topic level.
        address: the service's gRPC address, published in its status.
        url: broker URL overriding the resolution order.
        enabled: ``False`` returns a no-op publisher.
        prefix: the deployment's topic prefix (``QCORE_TOPIC_PREFIX``).
        credentials_file: where the login of an embedded broker is kept (see the module
            docstring); None: ``var/mqtt.credentials``.
    Raises:
        InvalidTopicError: ``service`` or ``prefix`` is not valid in a topic.
        BrokerConfigError: configured credentials that cannot be read.
        TlsConfigError: the CA bundle of an ``mqtts://`` broker cannot be read.
    """
    if not enabled:
        publisher = NullPublisher()
        await publisher.start()
        return ServiceTelemetry(publisher, None)
    embedded = None
    own_file = credentials_file or LOCAL_CREDENTIALS_FILE
    login = resolve_credentials()
    if login is None and own_file.exists():
        login = read_credentials_file(own_file)
    resolved = url or await resolve_broker_url(credentials=login)
    if resolved is None:
        login = ensure_credentials_file(own_file)
        for port in (DEFAULT_PORT, 0):
            try:
                embedded = EmbeddedBroker(host=DEFAULT_HOST, port=port, credentials=login)
                resolved = await embedded.start()
                break
            except BrokerConfigError as exc:
                log.warning("embedded broker on port %s: %s", port, exc)
                embedded = None
        if resolved is None:
            log.warning("no MQTT broker available; telemetry disabled")
            publisher = NullPublisher()
            await publisher.start()
            return ServiceTelemetry(publisher, None)
        log.info("started an embedded MQTT broker at %s", resolved)
    client_id = f"qcore-{service}-{socket.gethostname()}-{os.getpid()}"
    publisher: Publisher = TelemetryPublisher(resolved, client_id=client_id, service=service,
                                              prefix=prefix, address=address, version=version,
                                              credentials=login)
    await publisher.start()
    return ServiceTelemetry(publisher, resolved, embedded)
