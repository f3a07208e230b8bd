"""Executors: where a simulated QPU's pure simulation work runs.

* :class:`~.inprocess.InProcessExecutor` — the default: the calling QPU lane thread;
* :class:`~.dask.DaskExecutor` — Dask distributed workers: a local cluster of worker processes
  (``distributed.LocalCluster``), an existing scheduler (``QCORE_DASK_SCHEDULER``), or
  dask-jobqueue's ``SLURMCluster`` (the optional ``hpc`` extra), chosen by configuration
  (:func:`~.factory.start_executor`);
* :mod:`.simulation` — the pure tasks they run and the per-parameter-set random streams that
  make results independent of where and how they ran.

The interface is :class:`quantum_service.contract.Executor`; drivers receive one through
:meth:`quantum_service.contract.Offloadable.use_executor`.
"""

from __future__ import annotations

from quantum_service.execution.inprocess import InProcessExecutor

__all__ = ["InProcessExecutor"]
