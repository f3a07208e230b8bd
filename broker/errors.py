"""Exceptions of the telemetry package.

``broker`` is shared by the quantum and the classical service, so it does not import either
service's error module; its exceptions mirror their convention instead: each carries an
UPPER_SNAKE ``reason`` code, and bad input subclasses :class:`ValueError`.
"""

from __future__ import annotations

__all__ = [
    "TelemetryError",
    "InvalidTopicError",
    "InvalidPayloadError",
    "BrokerConfigError",
    "BrokerUnavailableError",
    "TlsConfigError",
]


class TelemetryError(Exception):
    """Base class. ``reason`` is an UPPER_SNAKE machine-readable code."""

    reason = "TELEMETRY_ERROR"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class InvalidTopicError(TelemetryError, ValueError):
    """A topic or topic id breaks the schema in :mod:`broker.topics`."""

    reason = "INVALID_TOPIC"


class InvalidPayloadError(TelemetryError, ValueError):
    """A payload is not the JSON form of the message class its topic carries."""

    reason = "INVALID_PAYLOAD"


class BrokerConfigError(TelemetryError, ValueError):
    """A broker address (``QCORE_MQTT_URL``, a listener setting) is malformed."""

    reason = "INVALID_BROKER_CONFIG"


class BrokerUnavailableError(TelemetryError, ConnectionError):
    """The MQTT broker cannot be reached or dropped the connection (subscribers only:
    publishers never raise it, they reconnect)."""

    reason = "BROKER_UNAVAILABLE"


class TlsConfigError(TelemetryError, ValueError):
    """A TLS setting is unusable: a certificate, key or CA file that cannot be read or is not
    PEM, or a certificate without its key (:mod:`broker.tls`)."""

    reason = "INVALID_TLS_CONFIG"
