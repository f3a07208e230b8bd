"""Settings of the quantum service, from environment variables ``QCORE_QUANTUM_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator
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
    workers: int = Field(2, ge=1, le=64, description="admission threads: parsing, placement "
                         "and compiling of submissions and sessions (never a simulation)")
    lane_workers: int = Field(2, ge=1, le=64, description="threads of each QPU's own execution "
                              "lane (its jobs' chunks, session evaluations, Calibrate calls); "
                              "a long job on one QPU never waits for or delays another's")
    max_sessions_per_qpu: int = Field(8, ge=1)
    session_idle_timeout_s: float = Field(
        300.0, gt=0, description="idle timeout of a session that asks for none (idle_timeout_s "
        "= 0)")
    max_session_idle_timeout_s: float = Field(
        3600.0, gt=0, description="longest idle timeout a session is granted: a larger "
        "requested idle_timeout_s is clamped to it (SessionReady.expire_time shows the grant)")
    telemetry: bool = Field(True, description="publish telemetry over MQTT")
    auto_calibration: bool = Field(True, description="calibrate QPUs between jobs (schedule, "
                                   "drift canaries) and serve the Calibrate RPC")
    mqtt_url: str | None = Field(None, validation_alias="QCORE_MQTT_URL")
    topic_prefix: str = Field(DEFAULT_PREFIX, validation_alias=PREFIX_ENV_VAR,
                              description="MQTT topic prefix of this deployment")
    metrics_port: int | None = Field(
        None, ge=0, le=65535, description="Prometheus /metrics port on `host` (0 = a free "
        "port); None = no metrics endpoint")
    grace_s: float = Field(
        5.0, ge=0, le=60, description="graceful stop (SIGTERM): in-flight calls get this long, "
        "running jobs are interrupted at their next parameter set and left QUEUED for a re-run; "
        "the process exits within about this time (the launcher waits 15 s)")

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

    @model_validator(mode="after")
    def _default_idle_within_cap(self) -> QuantumSettings:
        if self.session_idle_timeout_s > self.max_session_idle_timeout_s:
            raise ValueError(
                f"session_idle_timeout_s ({self.session_idle_timeout_s:g}) exceeds "
                f"max_session_idle_timeout_s ({self.max_session_idle_timeout_s:g})")
        return self
