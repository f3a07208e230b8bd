"""The executor the service's settings ask for (``QuantumSettings.executor``)."""

from __future__ import annotations

import sys
from typing import Any

from quantum_service.config import QuantumSettings
from quantum_service.contract import Executor
from quantum_service.execution.inprocess import InProcessExecutor

__all__ = ["slurm_cluster_options", "start_executor"]


def slurm_cluster_options(settings: QuantumSettings) -> dict[str, Any]:
    """Keyword arguments of ``dask_jobqueue.SLURMCluster`` from the ``slurm_*`` settings
    (each job runs ``slurm_processes`` workers of ``slurm_cores / slurm_processes`` threads)."""
    options: dict[str, Any] = {
        "cores": settings.slurm_cores, "processes": settings.slurm_processes,
        "memory": settings.slurm_memory, "walltime": settings.slurm_walltime,
        "job_extra_directives": list(settings.slurm_job_extra_directives),
        "job_script_prologue": list(settings.slurm_job_script_prologue),
        "python": settings.slurm_python or sys.executable,
    }
    if settings.slurm_queue:
        options["queue"] = settings.slurm_queue
    if settings.slurm_account:
        options["account"] = settings.slurm_account
    if settings.slurm_interface:
        options["interface"] = settings.slurm_interface
    return options


def start_executor(settings: QuantumSettings) -> Executor:
    """Starts the executor of ``settings.executor`` (blocking: run it off the event loop).

    * ``in_process``: :class:`~.inprocess.InProcessExecutor`;
    * ``local``: a ``distributed.LocalCluster`` of ``dask_workers`` worker processes on
      127.0.0.1 (no dashboard), closed with the executor;
    * ``scheduler``: a client of the scheduler at ``dask_scheduler``;
    * ``slurm``: a ``dask_jobqueue.SLURMCluster`` (:func:`slurm_cluster_options`) scaled to
      ``dask_workers`` Slurm jobs, closed with the executor.

    Dask is imported only for the last three (the ``dask`` extra; ``slurm`` also needs the
    ``hpc`` extra). An unreachable cluster does not fail the start: batches run in-process
    until it answers (:class:`~.dask_executor.DaskExecutor`).

    Raises:
        ImportError: Dask (or dask-jobqueue) is not installed.
    """
    if settings.executor == "in_process":
        return InProcessExecutor()
    from distributed import Client

    from quantum_service.execution.dask_executor import DaskExecutor

    timeout = settings.dask_connect_timeout_s
    common: dict[str, Any] = {"min_offload_s": settings.dask_min_offload_s,
                              "retry_s": settings.dask_retry_s}
    if settings.executor == "scheduler":
        address = settings.dask_scheduler
        assert address is not None  # QuantumSettings validates it
        return DaskExecutor(lambda: Client(address, timeout=timeout), description=address,
                            **common)
    if settings.executor == "local":
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=settings.dask_workers,
                               threads_per_worker=settings.dask_threads_per_worker,
                               processes=True, host="127.0.0.1", dashboard_address=None)
        description = f"LocalCluster, {settings.dask_workers} worker process(es)"
    else:
        from dask_jobqueue import SLURMCluster

        cluster = SLURMCluster(**slurm_cluster_options(settings))
        cluster.scale(jobs=settings.dask_workers)
        description = f"SLURMCluster, {settings.dask_workers} job(s)"
    try:
        return DaskExecutor(lambda: Client(cluster, timeout=timeout), description=description,
                            on_close=cluster.close, **common)
    except BaseException:
        cluster.close()
        raise
