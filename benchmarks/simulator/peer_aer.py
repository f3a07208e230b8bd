"""Qiskit Aer's state-vector simulator behind the benchmark interface.

Qiskit's little-endian order and rotation conventions match qcore's. ``max_parallel_threads`` is
the runner's thread count; ``run`` times ``AerSimulator.run`` on a transpiled circuit (exact
statevector, no shots). Energies use ``EstimatorV2`` of qiskit-aer (exact expectation values:
no ``precision`` given, no shots).
Gradients: Aer has no adjoint method; parameter shift (2P energies) is not run, its time is
reported as ``2P ×`` the energy's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
import qiskit
import qiskit_aer
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import EstimatorV2

name = "Qiskit Aer"

_THREADS = int(os.environ.get("OMP_NUM_THREADS", "2"))


def version() -> str:
    return f"qiskit-aer {qiskit_aer.__version__} (qiskit {qiskit.__version__})"


def _simulator() -> AerSimulator:
    return AerSimulator(method="statevector", max_parallel_threads=_THREADS,
                        precision="double")


def statevector(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], tuple[float, ...]]]
                ) -> Callable[[], np.ndarray]:
    circuit = QuantumCircuit(qubit_count)
    for g, qubits, angles in gates:
        getattr(circuit, g)(*angles, *qubits)
    circuit.save_statevector()
    sim = _simulator()
    compiled = transpile(circuit, sim, optimization_level=0)

    def run() -> np.ndarray:
        return np.asarray(sim.run(compiled).result().get_statevector())

    return run


def _ansatz(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
            parameter_count: int) -> QuantumCircuit:
    theta = ParameterVector("t", parameter_count)
    circuit = QuantumCircuit(qubit_count)
    for g, qubits, index in gates:
        if index < 0:
            circuit.cx(*qubits)
        else:
            getattr(circuit, g)(theta[index], qubits[0])
    return circuit


def pauli_operator(qubit_count: int, terms: Sequence[tuple[str, float]]) -> SparsePauliOp:
    """A ``SparsePauliOp`` of ``("X0 Z3", c)`` terms (qubit ``q`` is Qiskit's qubit ``q``)."""
    return SparsePauliOp.from_sparse_list(
        [("".join(t[0] for t in p.split()), [int(t[1:]) for t in p.split()], c)
         for p, c in terms], num_qubits=qubit_count)


def energy(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
           parameters: np.ndarray, terms: Sequence[tuple[str, float]]) -> Callable[[], float]:
    run = vqe(qubit_count, gates, terms, parameter_count=parameters.size)
    return lambda: run(parameters)


gradient = None


def vqe(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
        terms: Sequence[tuple[str, float]], *, parameter_count: int | None = None
        ) -> Callable[[np.ndarray], float]:
    count = parameter_count or 1 + max(i for _, _, i in gates)
    circuit = _ansatz(qubit_count, gates, count)
    operator = pauli_operator(qubit_count, terms)
    estimator = EstimatorV2(options={
        "backend_options": {"method": "statevector", "max_parallel_threads": _THREADS}})

    def run(x: np.ndarray) -> float:
        result = estimator.run([(circuit, operator, x)]).result()
        return float(result[0].data.evs)

    return run
