"""qcore's simulator behind the benchmark interface (in-process, numba threads = cores)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from benchmarks.simulator.workloads import Gate
from quantum_service.circuits.gates import gate_matrix
from quantum_service.simulator import PauliSum, expectation_value
from quantum_service.simulator.adjoint import AdjointProgram, pauli_generator
from quantum_service.simulator.fusion import fuse

__all__ = ["energy", "gradient", "name", "statevector", "version", "vqe"]

name = "qcore"

_GENERATORS = {"rx": "X", "ry": "Y", "rz": "Z"}


def version() -> str:
    import numba

    return f"qcore (numba {numba.__version__})"


def statevector(qubit_count: int, gates: Sequence[Gate], *, dtype: type = np.complex128
                ) -> Callable[[], np.ndarray]:
    """Fuses once (not timed, like building a circuit object); each call simulates from |0>."""
    ops = [(qubits, gate_matrix(g, angles)) for g, qubits, angles in gates]
    program = fuse(qubit_count, ops).prepare(dtype=dtype)

    def run() -> np.ndarray:
        state = np.zeros(1 << qubit_count, dtype=dtype)
        state[0] = 1.0
        return program.run(state)

    return run


def _adjoint_program(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
                     terms: Sequence[tuple[str, float]]) -> tuple[AdjointProgram, list[int]]:
    ops, positions, generators, indices = [], [], [], []
    for position, (g, qubits, index) in enumerate(gates):
        if index < 0:
            ops.append((qubits, gate_matrix(g)))
        else:
            ops.append((qubits, None))
            positions.append(position)
            generators.append(pauli_generator(_GENERATORS[g]))
            indices.append(index)
    observable = PauliSum(terms, qubit_count=qubit_count)
    return AdjointProgram(qubit_count, ops, positions, generators, observable), indices


def energy(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
           parameters: np.ndarray, terms: Sequence[tuple[str, float]]) -> Callable[[], float]:
    program, indices = _adjoint_program(qubit_count, gates, terms)

    def run() -> float:
        return program.energy(program.rotations(parameters[indices]))

    return run


def gradient(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
             parameters: np.ndarray, terms: Sequence[tuple[str, float]]
             ) -> Callable[[], tuple[float, np.ndarray]]:
    program, indices = _adjoint_program(qubit_count, gates, terms)

    def run() -> tuple[float, np.ndarray]:
        value, per_gate = program.gradient(program.rotations(parameters[indices]))
        grads = np.zeros(parameters.size)
        np.add.at(grads, indices, per_gate)  # chain rule: each gate's angle is one parameter
        return value, grads

    return run


def vqe(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
        terms: Sequence[tuple[str, float]]) -> Callable[[np.ndarray], float]:
    """In-process energy evaluation with new parameters each call (no gRPC)."""
    program, indices = _adjoint_program(qubit_count, gates, terms)
    return lambda x: program.energy(program.rotations(x[indices]))


def expectation(state: np.ndarray, terms: Sequence[tuple[str, float]], qubit_count: int
                ) -> float:
    return expectation_value(state, PauliSum(terms, qubit_count=qubit_count))
