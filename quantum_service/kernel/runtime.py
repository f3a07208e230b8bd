"""Predicted run time of jobs on simulated QPUs: what a queued job's ETA adds up.

A simulated QPU's job lasts as long as its *simulation*, not its device time: a 20-qubit job
with 2 ms of device time may simulate for seconds. The ETA of a queued job is therefore the
predicted wall-clock run time of the running job (less what it has run) plus that of every job
ahead of it (:meth:`~quantum_service.kernel.scheduler.QpuQueue.estimates`).

Model (one program ``p`` of a job, on ``n`` active qubits, ``g`` compiled gates):

* **work** ``W = executions × (g + 1) × S(n) + shots × (n + 1)``: the gate sweeps over the
  simulated state plus sampling, with ``executions`` the parameter sets and ``S(n)`` the state
  size the engine sweeps (:data:`~quantum_service.engines.select` rules): ``2^n`` for a state
  vector, ``4^n`` for an exact density matrix (noisy, ``n ≤ 10``), ``2^n × min(shots, 32)``
  for noisy trajectories (branches; a crude bound the learned rate absorbs), ``n`` for a
  matrix-product state (``n ≥ 25``; its cost depends on entanglement the prediction cannot
  see);
* **time** ``t = overhead + rate × W``, with ``rate`` per (QPU, engine class), learned online
  from every job that ran alone: an exponentially weighted mean of ``log((wall - overhead) /
  W)`` with weight :data:`LEARNING_WEIGHT` (log space, so one outlier moves the rate by a
  bounded factor), starting from :data:`PRIOR_RATE_S` (measured on a 2-core x86-64 machine
  with the fused numba kernels; the first jobs of a class correct it).

The classes mirror :func:`~quantum_service.engines.select.select_engine`; the engine actually
chosen is recorded on results, the prediction only needs its cost class.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from quantum_service.contract import MitigationOptions, PreparedProgram, QpuCapabilities
from quantum_service.engines.select import DENSITY_MATRIX_MAX_QUBITS

__all__ = [
    "LEARNING_WEIGHT",
    "OVERHEAD_S",
    "PRIOR_RATE_S",
    "RunTimeModel",
    "WorkEstimate",
    "job_work",
]

#: Fixed cost per job (store, dispatch, result encoding), seconds.
OVERHEAD_S = 0.005

#: Weight of the newest observation in the rate's exponentially weighted log-mean.
LEARNING_WEIGHT = 0.5

#: Widest state vector; wider executables run as matrix-product states.
_MPS_FROM_QUBITS = 25

#: Trajectory branches assumed per execution (at most the shots).
_BRANCHES = 32

#: Seconds per unit of work before any job of the class ran (see the module docstring).
PRIOR_RATE_S: dict[str, float] = {
    "statevector": 2e-9,
    "density_matrix": 4e-9,
    "trajectories": 4e-9,
    "mps": 2e-4,
}


@dataclass(frozen=True, slots=True)
class WorkEstimate:
    """A job's cost class and work (see the module docstring).

    Attributes:
        engine_class: a key of :data:`PRIOR_RATE_S`: the most expensive class among the job's
            programs.
        work: dimensionless work units, >= 0.
    """

    engine_class: str
    work: float


def _engine_class(program: PreparedProgram, caps: QpuCapabilities) -> str:
    n = len(program.physical_qubits)
    if n >= _MPS_FROM_QUBITS:
        return "mps"
    dynamic = program.circuit.dynamic_feature() is not None
    if dynamic or (caps.noisy and n > DENSITY_MATRIX_MAX_QUBITS):
        return "trajectories"
    return "density_matrix" if caps.noisy else "statevector"


def _state_size(engine_class: str, n: int, shot_count: int) -> float:
    if engine_class == "mps":
        return float(n)
    if engine_class == "density_matrix":
        return 4.0 ** n
    if engine_class == "trajectories":
        return 2.0 ** n * max(1, min(shot_count, _BRANCHES))
    return 2.0 ** n


def job_work(programs: Sequence[PreparedProgram], caps: QpuCapabilities, *,
             shot_count: int, parameter_set_count: int,
             mitigation: MitigationOptions | None = None) -> WorkEstimate:
    """The work of a job (module docstring) from its prepared programs.

    Args:
        programs: the job's programs, prepared for ``caps``' QPU.
        caps: the QPU's capabilities (``noisy`` decides the engine class).
        shot_count: shots per program and parameter set (0: exact).
        parameter_set_count: parameter sets (0 counts as 1).
        mitigation: circuit-level mitigation: each scale factor ``λ`` and Pauli frame runs the
            program again with ``λ`` times its gates; every scale factor samples every shot.
    """
    executions = max(parameter_set_count, 1)
    gate_factor, shot_factor = 1.0, 1.0
    if mitigation is not None:
        gate_factor = sum(mitigation.scale_factors) * mitigation.randomization_count
        shot_factor = float(len(mitigation.scale_factors))
    work, classes = 0.0, []
    for program in programs:
        engine_class = _engine_class(program, caps)
        classes.append(engine_class)
        n = len(program.physical_qubits)
        work += executions * (gate_factor * (program.compiled_gate_count + 1)
                              * _state_size(engine_class, n, shot_count)
                              + shot_factor * shot_count * (n + 1))
    costliest = max(classes, key=lambda c: PRIOR_RATE_S[c], default="statevector")
    return WorkEstimate(costliest, work)


class RunTimeModel:
    """Per (QPU, engine class) learned rates and the predicted run time of jobs.

    Thread-safe: jobs finish on the event loop, predictions are made on the admission pool.
    """

    def __init__(self) -> None:
        self._log_rate: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def rate_s(self, qpu_id: str, engine_class: str) -> float:
        """Seconds per work unit on ``qpu_id`` for ``engine_class`` (learned, else prior)."""
        with self._lock:
            log_rate = self._log_rate.get((qpu_id, engine_class))
        return PRIOR_RATE_S[engine_class] if log_rate is None else math.exp(log_rate)

    def predict_s(self, qpu_id: str, estimate: WorkEstimate) -> float:
        """Predicted wall-clock run time of a job of ``estimate`` on ``qpu_id``, seconds."""
        return OVERHEAD_S + self.rate_s(qpu_id, estimate.engine_class) * estimate.work

    def observe(self, qpu_id: str, estimate: WorkEstimate, wall_s: float) -> None:
        """Learns from a job of ``estimate`` that ran alone on ``qpu_id`` for ``wall_s``
        seconds (jobs with no work or no measurable time beyond the overhead teach nothing)."""
        busy = wall_s - OVERHEAD_S
        if estimate.work <= 0 or busy <= 0:
            return
        observed = math.log(busy / estimate.work)
        key = (qpu_id, estimate.engine_class)
        with self._lock:
            old = self._log_rate.get(key)
            self._log_rate[key] = observed if old is None else (
                (1 - LEARNING_WEIGHT) * old + LEARNING_WEIGHT * observed)
