"""Settings of the classical service, from environment variables ``QCORE_CLASSICAL_*``."""

from __future__ import annotations

from pathlib import Path

import grpc
from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from broker.tls import channel_credentials
from broker.tls_settings import ServerTlsSettings
from broker.topics import DEFAULT_PREFIX, PREFIX_ENV_VAR, check_prefix

__all__ = ["ClassicalSettings"]


class ClassicalSettings(ServerTlsSettings):
    """Validated settings; every field can be set as ``QCORE_CLASSICAL_<NAME>``.

    ``mqtt_url`` is read from ``QCORE_MQTT_URL``, ``topic_prefix`` from ``QCORE_TOPIC_PREFIX``
    and the server's TLS files from ``QCORE_TLS_CERT``, ``QCORE_TLS_KEY`` and
    ``QCORE_TLS_CLIENT_CA`` (:class:`~broker.tls_settings.ServerTlsSettings`; all shared with
    the quantum service). Its channel to the quantum service reads the clients' variables:
    ``QCORE_TLS_CA`` (the CA of the quantum service's certificate), ``QCORE_TLS_CLIENT_CERT``
    and ``QCORE_TLS_CLIENT_KEY`` (for a quantum service that requires client certificates).
    Every field may be passed by name: ``ClassicalSettings(mqtt_url="mqtt://host:1883")``.
    """

    # populate_by_name: without it a field with a validation_alias (mqtt_url) is only set
    # through its alias, and ``mqtt_url=...`` would be silently dropped as an extra input.
    model_config = SettingsConfigDict(env_prefix="QCORE_CLASSICAL_", extra="ignore",
                                      populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = Field(50052, ge=0, le=65535, description="0 picks a free port")
    quantum_address: str = Field("127.0.0.1:50051", description="the quantum service")
    max_concurrent_runs: int = Field(8, ge=1, description="Minimize calls running at once")
    model_dir: Path = Field(Path("var/models"),
                            description="saved models served by Infer; FineTune saves here")
    max_concurrent_finetunes: int = Field(1, ge=1)
    telemetry: bool = True
    mqtt_url: str | None = Field(None, validation_alias="QCORE_MQTT_URL")
    topic_prefix: str = Field(DEFAULT_PREFIX, validation_alias=PREFIX_ENV_VAR,
                              description="MQTT topic prefix of this deployment")
    grace_s: float = Field(2.0, ge=0)
    quantum_tls: bool | None = Field(
        None, description="TLS on the channel to the quantum service; None: when "
        "quantum_tls_ca is set or this service serves TLS itself")
    quantum_tls_ca: Path | None = Field(
        None, validation_alias="QCORE_TLS_CA", description="PEM CA bundle the quantum "
        "service's certificate must chain to; None: the system's roots")
    quantum_tls_cert: Path | None = Field(
        None, validation_alias="QCORE_TLS_CLIENT_CERT", description="PEM client certificate "
        "presented to the quantum service (mutual TLS)")
    quantum_tls_key: Path | None = Field(
        None, validation_alias="QCORE_TLS_CLIENT_KEY", description="PEM private key of "
        "quantum_tls_cert")

    @field_validator("topic_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        return check_prefix(value)  # InvalidTopicError is a ValueError: a validation error

    @model_validator(mode="after")
    def _client_cert_and_key_together(self) -> ClassicalSettings:
        if (self.quantum_tls_cert is None) != (self.quantum_tls_key is None):
            raise ValueError("a client certificate needs its key: set both "
                             "QCORE_TLS_CLIENT_CERT and QCORE_TLS_CLIENT_KEY (or neither)")
        return self

    def quantum_credentials(self) -> grpc.ChannelCredentials | None:
        """TLS credentials of the channels to the quantum service, or None for plaintext
        (see ``quantum_tls``).

        Raises:
            TlsConfigError: a file cannot be read or is not PEM.
        """
        use_tls = self.quantum_tls
        if use_tls is None:
            use_tls = self.quantum_tls_ca is not None or self.serves_tls
        if not use_tls:
            return None
        return channel_credentials(ca=self.quantum_tls_ca, cert=self.quantum_tls_cert,
                                   key=self.quantum_tls_key)
