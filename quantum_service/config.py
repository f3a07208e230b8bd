"""Settings of the quantum service, from environment variables ``QCORE_QUANTUM_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from broker.topics import DEFAULT_PREFIX, PREFIX_ENV_VAR, check_prefix

__all__ = ["QuantumSettings"]


class QuantumSettings(BaseSettings):
    """Validated settings (pydantic); every field can be set as ``QCORE_QUANTUM_<NAME>``.

    ``mqtt_url`` is read from ``QCORE_MQTT_URL`` and ``topic_prefix`` from
    ``QCORE_TOPIC_PREFIX`` (both shared with the classical service) and, like every field, may
    be passed by name: ``QuantumSettings(mqtt_url="mqtt://host:1883")``.
    """

    # populate_by_name: without it a field with a validation_alias (mqtt_url) is only set
    # through its alias, and ``mqtt_url=...`` would be silently dropped as an extra input.
    model_config = SettingsConfigDict(env_prefix="QCORE_QUANTUM_", extra="ignore",
                                      populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = Field(50051, ge=0, le=65535, description="0 picks a free port")
    db_path: Path = Field(Path("var/quantum_jobs.sqlite"),
                          description="SQLite job store and API tokens (table api_tokens)")
    workers: int = Field(2, ge=1, le=64, description="threads executing jobs and sessions")
    max_sessions_per_qpu: int = Field(8, ge=1)
    telemetry: bool = Field(True, description="publish telemetry over MQTT")
    auto_calibration: bool = Field(True, description="calibrate QPUs between jobs (schedule, "
                                   "drift canaries) and serve the Calibrate RPC")
    mqtt_url: str | None = Field(None, validation_alias="QCORE_MQTT_URL")
    topic_prefix: str = Field(DEFAULT_PREFIX, validation_alias=PREFIX_ENV_VAR,
                              description="MQTT topic prefix of this deployment")
    grace_s: float = Field(2.0, ge=0, description="graceful shutdown period")
    metrics_port: int | None = Field(
        None, ge=0, le=65535, description="Prometheus /metrics port on `host` (0 = a free "
        "port); None = no metrics endpoint")

    # -- scheduler (see quantum_service/kernel/scheduler.py for the formulas and sources) -----
    fair_share_half_life_s: float = Field(
        3600.0, gt=0, description="half-life of the decay of recorded usage (Slurm "
        "PriorityDecayHalfLife)")
    weight_fair_share: float = Field(0.5, ge=0, description="weight of the fair-share factor")
    weight_priority: float = Field(0.3, ge=0, description="weight of the 0-10 job priority")
    weight_age: float = Field(0.2, ge=0, description="weight of the queue-age factor")
    max_age_s: float = Field(600.0, gt=0, description="queue age at which the age factor is 1 "
                             "(Slurm PriorityMaxAge)")
    user_shares: dict[str, float] = Field(
        default_factory=dict, description="shares per user (JSON); users not listed have 1")
    quota_max_queued_jobs: int = Field(100, ge=1, description="QUEUED+RUNNING jobs per user")
    quota_device_s_per_window: float = Field(
        3600.0, gt=0, description="device seconds a user may use (and have queued) per window")
    quota_window_s: float = Field(3600.0, gt=0, description="length of the quota window")
    placement_wait_scale_s: float = Field(
        60.0, gt=0, description="predicted wait that costs as much as a factor e in fidelity")
    multiprogramming: bool = Field(True, description="pack jobs onto disjoint qubit regions")
    multiprogramming_max_jobs: int = Field(4, ge=1, description="jobs per merged program")
    multiprogramming_max_fidelity_loss: float = Field(
        0.05, ge=0, le=1, description="largest predicted relative fidelity loss of a packed "
        "job vs its best region alone; above it the job runs alone")
    crosstalk_phase_rad: float | None = Field(
        None, ge=0, description="spectator phase per simultaneous neighbouring 2-qubit gate; "
        "None = the per-modality default")
    parallel_chunks: int = Field(2, ge=1, le=64,
                                 description="chunks of one job executed concurrently")

    @field_validator("topic_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        return check_prefix(value)  # InvalidTopicError is a ValueError: a validation error
