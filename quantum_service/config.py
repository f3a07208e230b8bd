"""Settings of the quantum service, from environment variables ``QCORE_QUANTUM_*``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from broker.tls_settings import ServerTlsSettings
from broker.topics import DEFAULT_PREFIX, PREFIX_ENV_VAR, check_prefix

__all__ = ["QuantumSettings"]


class QuantumSettings(ServerTlsSettings):
    """Validated settings (pydantic); every field can be set as ``QCORE_QUANTUM_<NAME>``.

    ``mqtt_url`` is read from ``QCORE_MQTT_URL``, ``topic_prefix`` from ``QCORE_TOPIC_PREFIX``
    and the TLS files from ``QCORE_TLS_CERT``, ``QCORE_TLS_KEY`` and ``QCORE_TLS_CLIENT_CA``
    (:class:`~broker.tls_settings.ServerTlsSettings`; all shared with the classical service)
    and, like every field, may be passed by name:
    ``QuantumSettings(mqtt_url="mqtt://host:1883")``.
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
    parallel_chunks: int = Field(2, ge=1, le=64,
                                 description="chunks of one job executed concurrently")
    chunk_parameter_sets: int = Field(
        8, ge=1, le=4096, description="parameter sets per chunk of a job (a cancellation check "
        "between chunks); results do not depend on it")

    # -- executor: where simulations run (see quantum_service/execution) ----------------------
    executor: Literal["in_process", "local", "scheduler", "slurm"] = Field(
        "in_process", description="in_process: the QPU lanes' threads; local: a Dask "
        "LocalCluster of dask_workers worker processes on this host; scheduler: the Dask "
        "scheduler at dask_scheduler; slurm: dask-jobqueue SLURMCluster workers (the hpc extra)")
    dask_scheduler: str | None = Field(
        None, validation_alias="QCORE_DASK_SCHEDULER", description="address of an existing "
        "Dask scheduler (tcp://host:8786); setting it alone selects executor=scheduler")
    dask_workers: int = Field(2, ge=1, le=1024, description="local: worker processes; "
                              "slurm: Slurm jobs of workers")
    dask_threads_per_worker: int = Field(1, ge=1, le=256)
    dask_min_offload_s: float = Field(
        0.05, ge=0, description="estimated seconds of work below which a batch runs "
        "in-process (0: every batch goes to the cluster)")
    dask_retry_s: float = Field(30.0, gt=0, description="seconds after a cluster failure "
                                "before it is tried again (meanwhile batches run in-process)")
    dask_connect_timeout_s: float = Field(10.0, gt=0)
    slurm_queue: str | None = Field(None, description="Slurm partition of the workers")
    slurm_account: str | None = None
    slurm_cores: int = Field(4, ge=1, description="cores per Slurm job")
    slurm_processes: int = Field(1, ge=1, description="Dask worker processes per Slurm job")
    slurm_memory: str = Field("8GB", description="memory per Slurm job")
    slurm_walltime: str = Field("01:00:00")
    slurm_job_extra_directives: list[str] = Field(
        default_factory=list, description="extra #SBATCH lines (JSON list)")
    slurm_job_script_prologue: list[str] = Field(
        default_factory=list, description="shell lines run before each worker starts (e.g. "
        "activating the virtual environment)")
    slurm_interface: str | None = Field(
        None, description="network interface the scheduler and workers listen on (e.g. ib0); "
        "default: dask-jobqueue's")
    slurm_python: str | None = Field(None, description="Python of the workers (default: this "
                                     "interpreter)")

    @field_validator("topic_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        return check_prefix(value)  # InvalidTopicError is a ValueError: a validation error

    @model_validator(mode="after")
    def _scheduler_selects_executor(self) -> QuantumSettings:
        if self.dask_scheduler and "executor" not in self.model_fields_set:
            self.executor = "scheduler"
        if self.executor == "scheduler" and not self.dask_scheduler:
            raise ValueError("executor=scheduler needs dask_scheduler (QCORE_DASK_SCHEDULER)")
        return self

    @model_validator(mode="after")
    def _default_idle_within_cap(self) -> QuantumSettings:
        if self.session_idle_timeout_s > self.max_session_idle_timeout_s:
            raise ValueError(
                f"session_idle_timeout_s ({self.session_idle_timeout_s:g}) exceeds "
                f"max_session_idle_timeout_s ({self.max_session_idle_timeout_s:g})")
        return self
