"""Settings of the quantum service, from environment variables ``QCORE_QUANTUM_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["QuantumSettings"]


class QuantumSettings(BaseSettings):
    """Validated settings (pydantic); every field can be set as ``QCORE_QUANTUM_<NAME>``.

    ``mqtt_url`` is read from ``QCORE_MQTT_URL`` (shared with the classical service).
    """

    model_config = SettingsConfigDict(env_prefix="QCORE_QUANTUM_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(50051, ge=0, le=65535, description="0 picks a free port")
    db_path: Path = Field(Path("var/quantum_jobs.sqlite"), description="SQLite job store")
    workers: int = Field(2, ge=1, le=64, description="threads executing jobs and sessions")
    max_sessions_per_qpu: int = Field(8, ge=1)
    telemetry: bool = Field(True, description="publish telemetry over MQTT")
    mqtt_url: str | None = Field(None, validation_alias="QCORE_MQTT_URL")
    grace_s: float = Field(2.0, ge=0, description="graceful shutdown period")
