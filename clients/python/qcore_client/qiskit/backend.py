"""``QcoreBackend``: a qcore QPU as a Qiskit ``BackendV2``.

``backend.run(circuits, shots=1024)`` sends the circuits as one qcore job (OpenQASM 3 from
``qiskit.qasm3.dumps``; qcore compiles them for the QPU, so they need not be transpiled) and
returns a :class:`QcoreJob`, whose ``result()`` is a ``qiskit.result.Result`` with counts (keys
as Qiskit writes them: highest clbit first, registers separated by spaces).
"""

from __future__ import annotations

from collections.abc import Sequence

from qiskit import QuantumCircuit, qasm3
from qiskit.providers import BackendV2, JobStatus, JobV1, Options
from qiskit.result import Result
from qiskit.transpiler import Target

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore_client.client import QuantumClient
from qcore_client.qiskit.jobs import JOB_STATUS
from qcore_client.qiskit.target import target_from_qpu

__all__ = ["QcoreBackend", "QcoreJob"]



class QcoreBackend(BackendV2):
    """One qcore QPU as a ``BackendV2``.

    Args:
        qpu_id: the QPU (``qcore qpus`` lists them).
        client: a :class:`~qcore_client.client.QuantumClient` to use; default one built from
            ``address`` and ``token`` (``QCORE_QUANTUM_ADDRESS``, ``QCORE_TOKEN``, ...).
    Raises:
        grpc.RpcError: ``NOT_FOUND`` for an unknown QPU, ``UNAUTHENTICATED`` without a token.
    """

    def __init__(self, qpu_id: str, *, client: QuantumClient | None = None,
                 address: str | None = None, token: str | None = None) -> None:
        self.client = client or QuantumClient(address, token=token)
        self.qpu = self.client.get_qpu(qpu_id)
        super().__init__(name=f"qcore.{qpu_id}", description=self.qpu.description,
                         backend_version="1")
        self._target = target_from_qpu(self.qpu)

    @property
    def qpu_id(self) -> str:
        return self.qpu.qpu_id

    @property
    def target(self) -> Target:
        return self._target

    @property
    def max_circuits(self) -> int | None:
        return None

    @classmethod
    def _default_options(cls) -> Options:
        """``shots`` (1024), ``seed_simulator`` (None: the service picks), ``priority``
        (0–10) and ``readout_mitigation`` (adds mitigated quasi-probabilities)."""
        return Options(shots=1024, seed_simulator=None, priority=0, readout_mitigation=False)

    def refresh(self) -> None:
        """Re-reads the QPU description (a new calibration snapshot) and rebuilds the target."""
        self.qpu = self.client.get_qpu(self.qpu.qpu_id)
        self._target = target_from_qpu(self.qpu)

    def run(self, run_input: QuantumCircuit | Sequence[QuantumCircuit], **options) -> QcoreJob:
        """Submits the circuits as one qcore job (see the module docstring).

        Raises:
            ValueError: a circuit with unbound parameters, or an unknown option.
            grpc.RpcError: ``INVALID_ARGUMENT`` when qcore rejects a circuit.
        """
        circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
        defaults = dict(self.options.items())
        unknown = set(options) - set(defaults)
        if unknown:
            raise ValueError(f"unknown run options {sorted(unknown)}; known: "
                             f"{sorted(defaults)}")
        settings = {**defaults, **options}
        for circuit in circuits:
            if circuit.num_parameters:
                raise ValueError(f"circuit {circuit.name!r} has unbound parameters "
                                 f"{[p.name for p in circuit.parameters]}; assign_parameters "
                                 "first (or use QcoreSamplerV2)")
        job = self.client.submit_job(
            [qasm3.dumps(c) for c in circuits], shot_count=int(settings["shots"]),
            qpu_id=self.qpu_id, name=circuits[0].name if len(circuits) == 1 else "qiskit",
            seed=int(settings["seed_simulator"] or 0), priority=int(settings["priority"]),
            readout_mitigation=bool(settings["readout_mitigation"]))
        return QcoreJob(self, job, circuits)


class QcoreJob(JobV1):
    """A qcore job run from Qiskit; ``job_id()`` is qcore's job id."""

    def __init__(self, backend: QcoreBackend, job: qs_pb2.Job,
                 circuits: Sequence[QuantumCircuit]) -> None:
        super().__init__(backend, job.job_id)
        self._client = backend.client
        self._circuits = list(circuits)
        self.job = job

    def submit(self) -> None:
        """Jobs are submitted by ``QcoreBackend.run``."""
        raise RuntimeError("a QcoreJob is submitted by QcoreBackend.run")

    def status(self) -> JobStatus:
        self.job = self._client.get_job(self.job_id())
        return JOB_STATUS.get(self.job.state, JobStatus.INITIALIZING)

    def cancel(self) -> None:
        self.job = self._client.cancel_job(self.job_id())

    def result(self) -> Result:
        """Waits for the job and returns its counts.

        Raises:
            RuntimeError: the job FAILED or was CANCELLED (with qcore's message).
        """
        self.job = self._client.wait(self.job_id())
        if self.job.state != common_pb2.JOB_STATE_SUCCEEDED:
            raise RuntimeError(f"qcore job {self.job_id()} "
                               f"{common_pb2.JobState.Name(self.job.state)}: "
                               f"{self.job.error_message}")
        experiments = sorted(self.job.result.experiments, key=lambda e: e.program_index)
        return Result.from_dict({
            "backend_name": self.backend().name, "backend_version": "1",
            "job_id": self.job_id(), "success": True, "results": [
                _experiment(self._circuits[e.program_index], e, self.job.shot_count)
                for e in experiments]})


def _experiment(circuit: QuantumCircuit, experiment: qs_pb2.ExperimentResult, shots: int
                ) -> dict:
    counts = {hex(int(key, 2)): int(n) for key, n in experiment.counts.items()}
    header = {"name": circuit.name, "memory_slots": circuit.num_clbits,
              "creg_sizes": [[r.name, r.size] for r in circuit.cregs],
              "metadata": circuit.metadata}
    data: dict = {"counts": counts}
    if experiment.mitigated_probabilities:
        data["quasi_dists"] = {hex(int(k, 2)): v
                               for k, v in experiment.mitigated_probabilities.items()}
    return {"shots": shots, "success": True, "data": data, "header": header,
            "metadata": {"engine": experiment.engine,
                         "discarded_shot_count": experiment.discarded_shot_count,
                         "truncation_error": experiment.truncation_error}}
