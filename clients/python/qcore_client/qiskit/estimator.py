"""``QcoreEstimatorV2``: Qiskit's Estimator V2 on qcore observable jobs.

Each PUB ``(circuit, observables, parameter_values[, precision])`` is broadcast as Qiskit does
(NumPy rules over the observables' and the parameter values' shapes; the result keeps the
broadcast shape). Equal observables of a PUB share one qcore job, which evaluates the parameter
rows they meet (one qcore job carries one observable). ``precision`` maps to
``shot_count = ceil(1 / precision**2)`` (Qiskit's ``BackendEstimatorV2`` rule); precision 0, the
default, asks qcore for exact expectation values (``shot_count = 0``: exact for the QPU's
noise model, ``stds`` 0).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from qiskit.primitives import BaseEstimatorV2, PrimitiveResult, PubResult
from qiskit.primitives.containers import DataBin
from qiskit.primitives.containers.estimator_pub import EstimatorPub, EstimatorPubLike

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


class _PubPlan:
    """The qcore jobs of one PUB and where their values go in the broadcast result."""

    def __init__(self, pub: EstimatorPub) -> None:
        self.pub = pub
        self.shape = np.broadcast_shapes(pub.observables.shape, pub.parameter_values.shape)
        observable_index = np.broadcast_to(
            np.arange(pub.observables.size).reshape(pub.observables.shape), self.shape)
        row_index = np.broadcast_to(
            np.arange(pub.parameter_values.size).reshape(pub.parameter_values.shape), self.shape)
        rows = pub.parameter_values.as_array(pub.circuit.parameters).reshape(
            pub.parameter_values.size, pub.circuit.num_parameters)
        flat_observables = [pub.observables[np.unravel_index(i, pub.observables.shape)]
                            for i in range(pub.observables.size)]
        groups: dict[tuple, list[int]] = {}
        for i, observable in enumerate(flat_observables):
            groups.setdefault(tuple(sorted(observable.items())), []).append(i)
        circuit = pub.circuit.remove_final_measurements(inplace=False)
        #: per job: (observable, programs, {row: position in programs}, result positions)
        self.jobs: list[tuple[object, QcorePrograms, dict[int, int], np.ndarray]] = []
        for members in groups.values():
            mask = np.isin(observable_index, members)
            needed = np.unique(row_index[mask])
            positions = {int(r): k for k, r in enumerate(needed)}
            self.jobs.append((flat_observables[members[0]], to_programs(circuit, rows[needed]),
                              positions, mask))
        self.row_index = row_index


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
    """

    def __init__(self, *, qpu_id: str = "", client: QuantumClient | None = None,
                 address: str | None = None, token: str | None = None,
                 default_precision: float = 0.0, seed: int = 0, priority: int = 0,
                 readout_mitigation: bool = False) -> None:
        shots_for_precision(default_precision)
        self.client = client or QuantumClient(address, token=token)
        self.qpu_id = qpu_id
        self.default_precision = default_precision
        self.seed = seed
        self.priority = priority
        self.readout_mitigation = readout_mitigation

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
            for observable, programs, _, _ in plan.jobs:
                ids.append(self.client.submit_job(
                    list(programs.programs), observable=to_qcore_observable(
                        observable, qubit_count=plan.pub.circuit.num_qubits),
                    shot_count=shot_count, parameter_sets=programs.parameter_sets,
                    qpu_id=self.qpu_id, name=plan.pub.circuit.name or "estimator",
                    seed=self.seed, priority=self.priority,
                    readout_mitigation=self.readout_mitigation).job_id)
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
    for job, (_, programs, positions, mask) in zip(jobs, plan.jobs):
        by_index = {(e.program_index, e.parameter_set_index): e for e in job.result.experiments}
        for index in np.ndindex(plan.shape):
            if not mask[index]:
                continue
            row = positions[int(plan.row_index[index])]
            experiment = by_index[programs.experiment_index(row)]
            evs[index] = experiment.expectation_value
            stds[index] = experiment.standard_error
    shot_count = shots_for_precision(plan.pub.precision)
    return PubResult(DataBin(evs=evs, stds=stds, shape=plan.shape), metadata={
        "target_precision": plan.pub.precision, "shots": shot_count,
        "qcore_job_ids": [j.job_id for j in jobs], "circuit_metadata": plan.pub.circuit.metadata})
