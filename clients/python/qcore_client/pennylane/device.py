"""``QcoreDevice`` (``qcore.qpu``): a qcore QPU as a PennyLane device (new Device API).

* **Preprocessing** decomposes every operation into the gates qcore reads
  (:data:`~qcore_client.pennylane.operations.GATE_NAMES`; qcore then compiles them for the QPU's
  native gates and coupling map), expands parameter broadcasting, and checks wires and
  measurements before anything is submitted.
* **Analytic mode** (no shots): ``expval`` and ``var`` of observables with a Pauli
  representation run as one qcore job per tape measuring all of them together
  (``SubmitJobRequest.observables``) with ``shot_count = 0`` (exact for the QPU's noise
  model); ``var`` is ``⟨H²⟩ − ⟨H⟩²``.
* **Shot mode**: the tape's observables are split into commuting groups and diagonalised
  (PennyLane's ``split_non_commuting`` and ``diagonalize_measurements``); each group is one
  qcore counts job measuring every wire, and every measurement (``expval``, ``var``, ``probs``,
  ``counts``, ``sample``) is computed from its samples (qcore returns counts; the samples are the
  counts expanded and shuffled with ``seed``).

Gradients: PennyLane's parameter-shift rule (``diff_method="parameter-shift"``), each shifted
tape a qcore job; or, for analytic ``expval`` tapes, ``diff_method="device"``: the trainable
gate angles stay symbolic, and one qcore session per tape, holding every measurement's
observable, returns the values and the service's parameter-shift gradients on the compiled
circuit (``compute_derivatives``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pennylane as qml
from pennylane.devices import Device, ExecutionConfig
from pennylane.exceptions import DeviceError
from pennylane.devices.preprocess import (
    decompose,
    validate_device_wires,
    validate_measurements,
)
from pennylane.measurements import ExpectationMP, MeasurementProcess, VarianceMP
from pennylane.tape import QuantumScript
from pennylane.transforms import broadcast_expand
from pennylane.transforms.core import CompilePipeline
from pennylane.wires import Wires

from qcore.v1 import common_pb2
from qcore_client.circuit import Parameter
from qcore_client.client import QuantumClient
from qcore_client.pennylane.operations import supports_operation, to_circuit, to_terms

__all__ = ["QcoreDevice"]


def _analytic(measurement: MeasurementProcess) -> bool:
    return (isinstance(measurement, (ExpectationMP, VarianceMP))
            and measurement.obs is not None and measurement.obs.pauli_rep is not None)


class QcoreDevice(Device):
    """A qcore QPU as the PennyLane device ``qcore.qpu``.

    Args:
        wires: number of wires or their labels (required: they fix the qubit order).
        shots: default shots (``None``: analytic); QNodes may override them.
        qpu_id: target QPU; empty lets qcore's scheduler choose.
        client: a :class:`~qcore_client.client.QuantumClient`; default one from ``address`` and
            ``token`` (``QCORE_QUANTUM_ADDRESS``, ``QCORE_TOKEN``, ...).
        seed: seed of qcore's sampling and of the shuffling of expanded counts (0: random).
    Raises:
        ValueError: no ``wires``.
    """

    name = "qcore.qpu"

    def __init__(self, wires=None, shots=None, *, qpu_id: str = "",
                 client: QuantumClient | None = None, address: str | None = None,
                 token: str | None = None, seed: int = 0) -> None:
        if wires is None:
            raise ValueError("qcore.qpu needs wires=N (or wire labels): they fix qcore's qubit "
                             "order")
        super().__init__(wires=wires, shots=shots)
        self.client = client or QuantumClient(address, token=token)
        self.qpu_id = qpu_id
        self.seed = seed
        self._rng = np.random.default_rng(seed or None)

    def preprocess_transforms(self, execution_config: ExecutionConfig | None = None
                              ) -> CompilePipeline:
        program = CompilePipeline()
        program.add_transform(validate_device_wires, wires=self.wires, name=self.name)
        program.add_transform(decompose, stopping_condition=supports_operation,
                              skip_initial_state_prep=False, name=self.name)
        program.add_transform(validate_measurements, analytic_measurements=_analytic,
                              name=self.name)
        program.add_transform(broadcast_expand)
        return program

    def execute(self, circuits: QuantumScript | Sequence[QuantumScript],
                execution_config: ExecutionConfig | None = None):
        """Runs the tapes on qcore (see the module docstring); one result per tape."""
        tapes = [circuits] if isinstance(circuits, QuantumScript) else list(circuits)
        results = tuple(self._run_with_shots(t) if t.shots else self._run_analytic(t) for t in tapes)
        return results[0] if isinstance(circuits, QuantumScript) else results

    # -- device derivatives --------------------------------------------------------------

    def supports_derivatives(self, execution_config: ExecutionConfig | None = None,
                             circuit: QuantumScript | None = None) -> bool:
        """``diff_method="device"`` on analytic tapes of ``expval`` measurements whose trainable
        parameters are all gate angles."""
        if execution_config is None or execution_config.gradient_method != "device":
            return False
        if circuit is None:
            return True
        gate_parameters = sum(len(op.parameters) for op in circuit.operations)
        return (not circuit.shots
                and all(isinstance(m, ExpectationMP) and _analytic(m)
                        for m in circuit.measurements)
                and all(i < gate_parameters for i in circuit.trainable_params))

    def setup_execution_config(self, config: ExecutionConfig | None = None,
                               circuit: QuantumScript | None = None) -> ExecutionConfig:
        config = super().setup_execution_config(config, circuit)
        if config.gradient_method == "device":
            config = replace(config, use_device_gradient=True, grad_on_execution=False)
        return config

    def compute_derivatives(self, circuits: QuantumScript | Sequence[QuantumScript],
                            execution_config: ExecutionConfig | None = None):
        """Jacobians from qcore sessions (see the module docstring), in PennyLane's shapes: per
        measurement a tuple over trainable parameters (a scalar for one parameter), a tuple
        over measurements for several.

        Raises:
            DeviceError: a tape the device cannot differentiate (see
                :meth:`supports_derivatives`).
        """
        tapes = [circuits] if isinstance(circuits, QuantumScript) else list(circuits)
        jacobians = []
        for tape in tapes:
            if not self.supports_derivatives(
                    ExecutionConfig(gradient_method="device"), tape):
                raise DeviceError("qcore.qpu differentiates analytic expval tapes whose "
                                  "trainable parameters are gate angles; use "
                                  "diff_method='parameter-shift'")
            jacobians.append(self._jacobian(tape))
        return jacobians[0] if isinstance(circuits, QuantumScript) else tuple(jacobians)

    def _jacobian(self, tape: QuantumScript):
        trainable = list(tape.trainable_params)
        symbols = {index: Parameter(f"p{position}") for position, index in enumerate(trainable)}
        circuit = to_circuit(tape.operations, self.wires, symbols=symbols)
        values = tape.get_parameters(trainable_only=False)
        by_name = {f"p{position}": float(qml.math.unwrap(values[index]))
                   for position, index in enumerate(trainable)}
        observables = [to_terms(m.obs.pauli_rep, self.wires) or [("", 0.0)]
                       for m in tape.measurements]
        with self.client.session(circuit, observables=observables, qpu_id=self.qpu_id,
                                 gradient=True, seed=self.seed) as session:
            names = session.parameters
            _, gradients = session.evaluate([[by_name[n] for n in names]], gradient=True)
        rows = []
        for gradient in gradients[0]:  # (observables, parameters)
            column = {name: np.float64(g) for name, g in zip(names, gradient)}
            derivatives = tuple(column.get(f"p{position}", np.float64(0.0))
                                for position in range(len(trainable)))
            rows.append(derivatives[0] if len(derivatives) == 1 else derivatives)
        return rows[0] if len(rows) == 1 else tuple(rows)

    # -- analytic ------------------------------------------------------------------------

    def _run_analytic(self, tape: QuantumScript):
        circuit = to_circuit(tape.operations, self.wires)
        observables, slots = [], []  # slots: (index of ⟨H⟩, variance?) per measurement
        for measurement in tape.measurements:
            sentence = measurement.obs.pauli_rep
            variance = isinstance(measurement, VarianceMP)
            slots.append((len(observables), variance))
            for s in [sentence] + ([sentence @ sentence] if variance else []):
                observables.append(to_terms(s, self.wires) or [("", 0.0)])
        job = self.client.submit_job(circuit, observables=observables, shot_count=0,
                                     qpu_id=self.qpu_id, name="pennylane", seed=self.seed)
        expectation = self._finished(job.job_id).result.experiments[0].expectation_values
        values = [np.float64(expectation[i + 1] - expectation[i] ** 2 if variance
                             else expectation[i]) for i, variance in slots]
        return values[0] if len(values) == 1 else tuple(values)

    def _finished(self, job_id: str):
        job = self.client.wait(job_id)
        if job.state != common_pb2.JOB_STATE_SUCCEEDED:
            raise DeviceError(f"qcore job {job_id} {common_pb2.JobState.Name(job.state)}: "
                                  f"{job.error_message}")
        return job

    # -- shots ---------------------------------------------------------------------------

    def _run_with_shots(self, tape: QuantumScript):
        split, combine = qml.transforms.split_non_commuting(tape)
        groups = []
        for group in split:
            (diagonal,), unwrap = qml.transforms.diagonalize_measurements(group)
            groups.append((unwrap, diagonal))
        ids = [self.client.submit_job(
            to_circuit(diagonal.operations, self.wires).measure_all(),
            shot_count=int(tape.shots.total_shots), qpu_id=self.qpu_id, name="pennylane",
            seed=self.seed).job_id for _, diagonal in groups]
        results = [unwrap([self._sampled(diagonal, self._samples(job_id))])
                   for (unwrap, diagonal), job_id in zip(groups, ids)]
        return combine(results)

    def _samples(self, job_id: str) -> np.ndarray:
        counts = self._finished(job_id).result.experiments[0].counts
        width = len(self.wires)
        keys = list(counts)
        bits = (np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8)
                .reshape(len(keys), width) - ord("0"))[:, ::-1]  # column j: wire j
        samples = np.repeat(bits, [int(counts[k]) for k in keys], axis=0).astype(np.int64)
        self._rng.shuffle(samples, axis=0)
        return samples

    def _sampled(self, tape: QuantumScript, samples: np.ndarray):
        wire_order = Wires(self.wires)
        bins = []
        for lower, upper in tape.shots.bins():
            chunk = samples[lower:upper]
            bins.append(tuple(m.process_samples(chunk, wire_order) for m in tape.measurements))
        if len(tape.measurements) == 1:
            bins = [b[0] for b in bins]
        return tuple(bins) if tape.shots.has_partitioned_shots else bins[0]
