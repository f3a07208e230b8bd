"""Settings of the classical service, from environment variables ``QCORE_CLASSICAL_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from broker.topics import DEFAULT_PREFIX, PREFIX_ENV_VAR, check_prefix

__all__ = ["ClassicalSettings"]


class ClassicalSettings(BaseSettings):
    """Validated settings; every field can be set as ``QCORE_CLASSICAL_<NAME>``.

    ``mqtt_url`` is read from ``QCORE_MQTT_URL`` and ``topic_prefix`` from
    ``QCORE_TOPIC_PREFIX`` (both shared with the quantum service) and, like every field, may
    be passed by name: ``ClassicalSettings(mqtt_url="mqtt://host:1883")``.
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

    @field_validator("topic_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        return check_prefix(value)  # InvalidTopicError is a ValueError: a validation error
