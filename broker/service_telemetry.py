"""Telemetry for a qcore service: find (or start) a broker, then publish without waiting.

Resolution order (DESIGN.md): ``QCORE_MQTT_URL`` if set; else a broker answering on
``localhost:1883``; else an embedded amqtt broker started in this process (on 1883 when free, so
the other services find it, else on a free port). Nothing here ever blocks a caller on the
broker: the publisher queues and reconnects in the background.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass

from broker.config import DEFAULT_HOST, DEFAULT_PORT, resolve_broker_url
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
                                  prefix: str = DEFAULT_PREFIX) -> ServiceTelemetry:
    """Starts telemetry publishing for ``service``.

    Args:
        service: service name (``quantum``, ``classical``), one topic level.
        address: the service's gRPC address, published in its status.
        url: broker URL overriding the resolution order.
        enabled: ``False`` returns a no-op publisher.
        prefix: the deployment's topic prefix (``QCORE_TOPIC_PREFIX``).
    Raises:
        InvalidTopicError: ``service`` or ``prefix`` is not valid in a topic.
    """
    if not enabled:
        publisher = NullPublisher()
        await publisher.start()
        return ServiceTelemetry(publisher, None)
    embedded = None
    resolved = url or await resolve_broker_url()
    if resolved is None:
        for port in (DEFAULT_PORT, 0):
            try:
                embedded = EmbeddedBroker(host=DEFAULT_HOST, port=port)
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
                                              prefix=prefix, address=address, version=version)
    await publisher.start()
    return ServiceTelemetry(publisher, resolved, embedded)
