"""qulacs (Suzuki et al., Quantum 5, 559 (2021)) behind the benchmark interface.

qulacs rotations are ``exp(+i θ P / 2)``: angles are negated to run qcore's gates, and
gradients are negated back. Threads: ``OMP_NUM_THREADS`` (set by the runner).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import qulacs
from qulacs import Observable, ParametricQuantumCircuit, QuantumCircuit, QuantumState
from qulacs import gate as qgate

name = "qulacs"


def version() -> str:
    return f"qulacs {qulacs.__version__}"


def add_gate(circuit: QuantumCircuit, g: str, qubits: tuple[int, ...],
             angles: tuple[float, ...]) -> None:
    """Appends qcore's gate ``g`` (``ry rz h x u3 cx swap cp``; ``cu1`` is ``cp``) to a qulacs circuit.

    Raises:
        ValueError: a gate without a translation.
    """
    if g == "ry":
        circuit.add_RY_gate(qubits[0], -angles[0])
    elif g == "rz":
        circuit.add_RZ_gate(qubits[0], -angles[0])
    elif g == "h":
        circuit.add_H_gate(qubits[0])
    elif g == "x":
        circuit.add_X_gate(qubits[0])
    elif g == "u3":  # qulacs's U3 is OpenQASM's u3 (same matrix, no sign change)
        circuit.add_U3_gate(qubits[0], *angles)
    elif g == "cx":
        circuit.add_CNOT_gate(qubits[0], qubits[1])
    elif g == "swap":
        circuit.add_SWAP_gate(qubits[0], qubits[1])
    elif g in ("cp", "cu1"):
        phase = qgate.DenseMatrix(qubits[1], [[1.0, 0.0],
                                              [0.0, complex(math.cos(angles[0]),
                                                            math.sin(angles[0]))]])
        phase.add_control_qubit(qubits[0], 1)
        circuit.add_gate(phase)
    else:
        raise ValueError(f"no qulacs translation for {g!r}")


def statevector(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], tuple[float, ...]]]
                ) -> Callable[[], np.ndarray]:
    circuit = QuantumCircuit(qubit_count)
    for g, qubits, angles in gates:
        add_gate(circuit, g, qubits, angles)

    def run() -> np.ndarray:
        state = QuantumState(qubit_count)
        circuit.update_quantum_state(state)
        return state.get_vector()

    return run


def pauli_observable(qubit_count: int, terms: Sequence[tuple[str, float]]) -> Observable:
    """A qulacs ``Observable`` of ``("X0 Z3", c)`` terms."""
    obs = Observable(qubit_count)
    for pauli, c in terms:
        obs.add_operator(c, " ".join(f"{t[0]} {t[1:]}" for t in pauli.split()))
    return obs


def _parametric(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]]
                ) -> tuple[ParametricQuantumCircuit, list[int]]:
    circuit = ParametricQuantumCircuit(qubit_count)
    indices = []
    for g, qubits, index in gates:
        if g == "ry":
            circuit.add_parametric_RY_gate(qubits[0], 0.0)
        elif g == "rz":
            circuit.add_parametric_RZ_gate(qubits[0], 0.0)
        else:
            circuit.add_CNOT_gate(qubits[0], qubits[1])
            continue
        indices.append(index)
    return circuit, indices


def _bind(circuit: ParametricQuantumCircuit, indices: list[int], x: np.ndarray) -> None:
    for k, i in enumerate(indices):
        circuit.set_parameter(k, -float(x[i]))


def energy(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
           parameters: np.ndarray, terms: Sequence[tuple[str, float]]) -> Callable[[], float]:
    run = vqe(qubit_count, gates, terms)
    return lambda: run(parameters)


def gradient(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
             parameters: np.ndarray, terms: Sequence[tuple[str, float]]
             ) -> Callable[[], tuple[float, np.ndarray]]:
    circuit, indices = _parametric(qubit_count, gates)
    obs = pauli_observable(qubit_count, terms)

    def run() -> tuple[float, np.ndarray]:
        _bind(circuit, indices, parameters)
        per_gate = np.asarray(circuit.backprop(obs))  # adjoint method, one call
        grads = np.zeros(parameters.size)
        np.add.at(grads, indices, -per_gate)
        return float("nan"), grads

    return run


def vqe(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
        terms: Sequence[tuple[str, float]]) -> Callable[[np.ndarray], float]:
    circuit, indices = _parametric(qubit_count, gates)
    obs = pauli_observable(qubit_count, terms)
    state = QuantumState(qubit_count)

    def run(x: np.ndarray) -> float:
        _bind(circuit, indices, x)
        state.set_zero_state()
        circuit.update_quantum_state(state)
        return float(obs.get_expectation_value(state))

    return run
