"""``QcoreEstimatorV2``: Qiskit's Estimator V2 on qcore observable jobs.

Each PUB ``(circuit, observables, parameter_values[, precision])`` is broadcast as Qiskit does
(NumPy rules over the observables' and the parameter values' shapes; the result keeps the
broadcast shape). Parameter rows that meet the same set of observables share one qcore job,
which measures those observables together (``SubmitJobRequest.observables``: one execution per
circuit, parameter set and shared measurement setting serves all of them), so an outer-product
PUB (observables of shape ``(k, 1)`` against parameter values of shape ``(m,)``) is one job,
and a PUB pairing each row with its own observable is one job per row. Equal observables are
measured once. ``precision`` maps to ``shot_count = ceil(1 / precision**2)`` (Qiskit's
``BackendEstimatorV2`` rule); precision 0, the default, asks qcore for exact expectation values
(``shot_count = 0``: exact for the QPU's noise model, ``stds`` 0).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from qiskit.primitives import BaseEstimatorV2, PrimitiveResult, PubResult
from qiskit.primitives.containers import DataBin
from qiskit.primitives.containers.estimator_pub import EstimatorPub, EstimatorPubLike

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore_client.client import QuantumClient
from qcore_client.qiskit.jobs import QcorePrimitiveJob
from qcore_client.qiskit.observables import to_qcore_observable
from qcore_client.qiskit.programs import QcorePrograms, to_programs

__all__ = ["QcoreEstimatorV2", "shots_for_precision"]


def shots_for_precision(precision: float) -> int:
    """``ceil(1 / precision**2)`` shots, 0 (exact) for precision 0.

    Raises:
        ValueError: a negative or non-finite precision.
    """
    if not math.isfinite(precision) or precision < 0:
        raise ValueError(f"precision must be finite and >= 0, got {precision}")
    return 0 if precision == 0 else math.ceil(1.0 / precision**2)


@dataclass(frozen=True)
class _PlannedJob:
    """One qcore job of a PUB.

    Attributes:
        observables: the distinct observables it measures (indices into ``_PubPlan.distinct``).
        programs: the circuit at the rows it evaluates.
        positions: PUB parameter row → its row within ``programs``.
    """

    observables: tuple[int, ...]
    programs: QcorePrograms
    positions: dict[int, int]


class _PubPlan:
    """The qcore jobs of one PUB and where their values go in the broadcast result."""

    def __init__(self, pub: EstimatorPub) -> None:
        self.pub = pub
        self.shape = np.broadcast_shapes(pub.observables.shape, pub.parameter_values.shape)
        rows = pub.parameter_values.as_array(pub.circuit.parameters).reshape(
            pub.parameter_values.size, pub.circuit.num_parameters)
        keys: dict[tuple, int] = {}
        #: The PUB's distinct observables, and for each broadcast location its index there.
        self.distinct: list[object] = []
        flat = []
        for i in range(pub.observables.size):
            observable = pub.observables[np.unravel_index(i, pub.observables.shape)]
            key = tuple(sorted(observable.items()))
            if key not in keys:
                keys[key] = len(self.distinct)
                self.distinct.append(observable)
            flat.append(keys[key])
        self.observable_index = np.broadcast_to(
            np.array(flat, dtype=np.int64).reshape(pub.observables.shape), self.shape)
        self.row_index = np.broadcast_to(
            np.arange(pub.parameter_values.size).reshape(pub.parameter_values.shape), self.shape)
        needed: dict[int, set[int]] = {}
        for index in np.ndindex(self.shape):
            needed.setdefault(int(self.row_index[index]), set()).add(
                int(self.observable_index[index]))
        by_set: dict[tuple[int, ...], list[int]] = {}
        for row, observables in sorted(needed.items()):
            by_set.setdefault(tuple(sorted(observables)), []).append(row)
        circuit = pub.circuit.remove_final_measurements(inplace=False)
        self.jobs = [_PlannedJob(observables, to_programs(circuit, rows[members]),
                                 {r: k for k, r in enumerate(members)})
                     for observables, members in by_set.items()]


class QcoreEstimatorV2(BaseEstimatorV2):
    """Estimator V2 on a qcore QPU.

    Args:
        qpu_id: target QPU; empty lets qcore's scheduler choose.
        client: a :class:`~qcore_client.client.QuantumClient`; default one from ``address`` and
            ``token`` (``QCORE_QUANTUM_ADDRESS``, ``QCORE_TOKEN``, ...).
        default_precision: precision of PUBs that set none; 0 means exact.
        seed: sampling seed of shot-based estimates (0: qcore picks).
        priority: job priority 0–10.
        readout_mitigation: correct readout errors with the calibrated assignment matrices.
        mitigation: zero-noise extrapolation, Pauli twirling, dynamical decoupling of every
            expectation value (:func:`~qcore_client.client.mitigation_options`); the
            standard errors then include the extrapolation's.
    """

    def __init__(self, *, qpu_id: str = "", client: QuantumClient | None = None,
                 address: str | None = None, token: str | None = None,
                 default_precision: float = 0.0, seed: int = 0, priority: int = 0,
                 readout_mitigation: bool = False,
                 mitigation: common_pb2.MitigationOptions | None = None) -> None:
        shots_for_precision(default_precision)
        self.client = client or QuantumClient(address, token=token)
        self.qpu_id = qpu_id
        self.default_precision = default_precision
        self.seed = seed
        self.priority = priority
        self.readout_mitigation = readout_mitigation
        self.mitigation = mitigation

    def run(self, pubs: Iterable[EstimatorPubLike], *, precision: float | None = None
            ) -> QcorePrimitiveJob:
        """Validates the PUBs, submits their qcore jobs and returns the primitive job.

        Raises:
            ValueError: a malformed PUB (Qiskit's checks), a negative precision, or an
                observable with complex coefficients.
            grpc.RpcError: ``INVALID_ARGUMENT`` when qcore rejects a circuit or observable.
        """
        precision = self.default_precision if precision is None else precision
        plans = [_PubPlan(EstimatorPub.coerce(pub, precision)) for pub in pubs]
        submitted: list[list[str]] = []
        for plan in plans:
            shot_count = shots_for_precision(plan.pub.precision)
            ids = []
            width = plan.pub.circuit.num_qubits
            for planned in plan.jobs:
                observables = [to_qcore_observable(plan.distinct[i], qubit_count=width)
                               for i in planned.observables]
                one = len(observables) == 1
                ids.append(self.client.submit_job(
                    list(planned.programs.programs),
                    observable=observables[0] if one else None,
                    observables=None if one else observables,
                    shot_count=shot_count, parameter_sets=planned.programs.parameter_sets,
                    qpu_id=self.qpu_id, name=plan.pub.circuit.name or "estimator",
                    seed=self.seed, priority=self.priority,
                    readout_mitigation=self.readout_mitigation,
                    mitigation=self.mitigation).job_id)
            submitted.append(ids)

        def assemble(jobs: list[qs_pb2.Job]) -> PrimitiveResult:
            results, cursor = [], 0
            for plan, ids in zip(plans, submitted):
                done = jobs[cursor:cursor + len(ids)]
                cursor += len(ids)
                results.append(_pub_result(plan, done))
            return PrimitiveResult(results, metadata={"version": 2})

        return QcorePrimitiveJob(self.client, [i for ids in submitted for i in ids], assemble)


def _pub_result(plan: _PubPlan, jobs: list[qs_pb2.Job]) -> PubResult:
    evs = np.zeros(plan.shape, dtype=np.float64)
    stds = np.zeros(plan.shape, dtype=np.float64)
    where: dict[tuple[int, int], tuple[qs_pb2.ExperimentResult, int | None]] = {}
    for job, planned in zip(jobs, plan.jobs):
        by_index = {(e.program_index, e.parameter_set_index): e for e in job.result.experiments}
        for row, position in planned.positions.items():
            experiment = by_index[planned.programs.experiment_index(position)]
            for slot, observable in enumerate(planned.observables):
                where[row, observable] = (experiment,
                                          None if len(planned.observables) == 1 else slot)
    for index in np.ndindex(plan.shape):
        experiment, slot = where[int(plan.row_index[index]), int(plan.observable_index[index])]
        if slot is None:  # a job with one observable
            evs[index], stds[index] = experiment.expectation_value, experiment.standard_error
        else:
            evs[index] = experiment.expectation_values[slot]
            stds[index] = experiment.standard_errors[slot]
    shot_count = shots_for_precision(plan.pub.precision)
    return PubResult(DataBin(evs=evs, stds=stds, shape=plan.shape), metadata={
        "target_precision": plan.pub.precision, "shots": shot_count,
        "qcore_job_ids": [j.job_id for j in jobs], "circuit_metadata": plan.pub.circuit.metadata})
