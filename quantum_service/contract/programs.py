"""What drivers execute and return: prepared programs, execution options and results.

Part of the driver contract (:mod:`quantum_service.contract`). A driver *prepares* a circuit
once (compiles it for its QPU: :class:`PreparedProgram`) and *executes* it many times, for a
batch of parameter sets (:class:`ExecutionOptions` → :class:`ExecutionResult`). Device time on
results follows :mod:`quantum_service.contract.device_time`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from quantum_service.circuits.ir import Circuit
from quantum_service.contract.mitigation import MitigationOptions, MitigationRecord

__all__ = ["ExecutionCancelled", "ExecutionOptions", "ExecutionResult", "PreparedProgram"]


class ExecutionCancelled(Exception):
    """Raised by :meth:`QpuDriver.execute` when ``ExecutionOptions.should_stop`` returned
    ``True``: the batch stopped early and returns no result (no device time is charged)."""


@dataclass(frozen=True, slots=True)
class ExecutionOptions:
    """How to execute a prepared program.

    Attributes:
        shot_count: 0 for exact expectation values (observable programs only); otherwise the
            number of shots per circuit and parameter set.
        gradient: also return gradients of expectation values (parameter-shift rule or adjoint).
        seed: seed for shot sampling and stochastic noise. Parameter set ``r`` of the batch
            draws from its own stream, ``SeedSequence(seed, spawn_key=(first_row + r, block))``
            (numpy), so a result does not depend on how a job is chunked or on how many
            workers ran it.
        first_row: index, within the job, of the batch's first parameter set (see ``seed``).
        readout_mitigation: also return counts corrected with the latest calibrated readout
            assignment matrices (``ExecutionResult.mitigated_probabilities``).
        gradient_method: ``"parameter_shift"`` (runs on any QPU; device time counts the
            shifted circuits) or ``"adjoint"`` (exact, noiseless simulation only).
        should_stop: asked by the driver between parameter sets (in the service process;
            every ~0.1 s while tasks run on a Dask cluster); when it returns ``True`` the
            driver raises
            :class:`ExecutionCancelled`. Must be cheap and thread-safe (e.g. a
            ``threading.Event``'s ``is_set``). ``None``: run the batch to the end.
        device_state: run on the device as it was when :meth:`QpuDriver.device_state`
            returned this token (a simulated device's drift step and calibration snapshot), so
            that a job's parameter sets all see one device state and a replay with the same
            seed gives bit-identical results. ``None``: the device as it is now.
        mitigation: zero-noise extrapolation, Pauli twirling and dynamical decoupling applied
            to the compiled program (observable programs only; drivers declaring the matching
            ``supports`` flags). With twirling, ``shot_count`` is split among the frames.
            ``None``: none.
        max_bond_dimension: cap on a matrix-product state's bonds for this batch (>= 1); it
            lowers the driver's own cap, never raises it. ``None``: the driver's own cap.
            Drivers without such a simulation ignore it.
    """

    shot_count: int = 0
    gradient: bool = False
    seed: int | None = None
    first_row: int = 0
    readout_mitigation: bool = False
    gradient_method: str = "parameter_shift"
    should_stop: Callable[[], bool] | None = None
    device_state: str | None = None
    mitigation: MitigationOptions | None = None
    max_bond_dimension: int | None = None


@dataclass(slots=True)
class ExecutionResult:
    """Results for a batch of ``m`` parameter sets of one prepared program.

    Attributes:
        expectation_values: float64 ``(m,)`` (observable programs), ``(m, k)`` for a program
            prepared with ``k`` observables (``PreparedProgram.observables``, in their order),
            else ``None``.
        standard_errors: the shape of ``expectation_values``; zeros for exact values.
        gradients: float64 ``(m, parameter_count)`` when requested; ``(m, k,
            parameter_count)`` with ``k`` observables.
        counts: per parameter set, bitstring → count (sampling programs), else ``None``.
        device_time_s: QPU time this batch used, seconds
            (:func:`~quantum_service.contract.device_time.device_time_s`).
        circuit_executions: circuits run, counting every shifted circuit of a gradient.
        discarded_shot_counts: per parameter set, shots the device discarded (photonic failed
            heralds, lost atoms); ``counts`` hold the kept shots only.
        mitigated_probabilities: per parameter set, readout-mitigated quasi-probabilities
            (when ``ExecutionOptions.readout_mitigation``).
        engine: the engine that ran the batch (``statevector``, ``density_matrix``; see
            :mod:`quantum_service.engines`); empty for drivers without one.
        engine_reason: why that engine was chosen (one sentence), and where it ran when not
            in the service process (a Dask cluster, or an in-process fallback and why).
        executor: where the batch ran (``MappedBatch.where``); empty for drivers without an
            executor.
        mitigation: per parameter set, what mitigation measured (when
            ``ExecutionOptions.mitigation``); ``expectation_values`` then hold the mitigated
            values (zero-noise extrapolated with ZNE) and ``standard_errors`` their errors.
        truncation_errors: per parameter set, the truncation error of the states behind its
            results: the largest accumulated discarded weight ``Σ ε_i`` of one
            matrix-product-state trajectory (relative weights discarded by its SVD
            truncations; its fidelity with the untruncated state is about ``Π (1 - ε_i)``,
            :mod:`quantum_service.engines.mps`); 0 for exact engines. ``None`` for drivers
            without an engine.
    """

    expectation_values: np.ndarray | None = None
    standard_errors: np.ndarray | None = None
    gradients: np.ndarray | None = None
    counts: list[dict[str, int]] | None = None
    device_time_s: float = 0.0
    circuit_executions: int = 0
    discarded_shot_counts: list[int] | None = None
    mitigated_probabilities: list[dict[str, float]] | None = None
    engine: str = ""
    engine_reason: str = ""
    executor: str = ""
    mitigation: list[MitigationRecord] | None = None
    truncation_errors: list[float] | None = None


@dataclass(slots=True)
class PreparedProgram:
    """A circuit compiled for one QPU, plus what to compute from it.

    Created by :meth:`QpuDriver.prepare`; drivers attach their own executable form in
    ``payload``. ``parameters`` are the symbolic parameters, in parameter-vector order.
    """

    qpu_id: str
    circuit: Circuit
    parameters: tuple[str, ...]
    observable: Sequence[tuple[str, float]] | None
    compiled_gate_count: int
    compiled_depth: int
    swap_count: int
    calibration_snapshot_id: str
    #: One shot's gate schedule on the device, ns (readout and reset excluded); 0 if unknown.
    duration_ns: float = 0.0
    #: Device qubits the program occupies (gates, measurements, observable support).
    physical_qubits: tuple[int, ...] = ()
    #: The observables of a program prepared with several (``QpuDriver.prepare(observables=)``),
    #: in order; ``observable`` then holds their distinct Pauli strings, coefficient 1.0 each,
    #: which is what measurement settings and device time count. Empty otherwise.
    observables: tuple[Sequence[tuple[str, float]], ...] = ()
    payload: object = field(default=None, repr=False)
