"""pyqpanda3 (Origin Quantum) behind the benchmark interface.

``CPUQVM`` runs state vectors; energies use ``expval_hamiltonian`` with ``used_threads`` set to
the runner's thread count; gradients use ``VQCircuit.get_gradients`` with the adjoint method
(``DiffMethod.ADJOINT_DIFF``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
from pyqpanda3.core import CNOT, CP, CPUQVM, RY, RZ, SWAP, H, QProg, expval_hamiltonian
from pyqpanda3.hamiltonian import Hamiltonian
from pyqpanda3.vqcircuit import DiffMethod, VQCircuit

name = "pyqpanda3"

_THREADS = int(os.environ.get("OMP_NUM_THREADS", "2"))
_GATES = {"ry": RY, "rz": RZ, "h": H, "cx": CNOT, "swap": SWAP, "cp": CP}


def version() -> str:
    from importlib.metadata import version as dist_version

    return f"pyqpanda3 {dist_version('pyqpanda3')}"


def _program(gates: Sequence[tuple[str, tuple[int, ...], tuple[float, ...]]]) -> QProg:
    prog = QProg()
    for g, qubits, angles in gates:
        prog << _GATES[g](*qubits, *angles)
    return prog


def statevector(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], tuple[float, ...]]]
                ) -> Callable[[], np.ndarray]:
    prog = _program(gates)
    qvm = CPUQVM()

    def run() -> np.ndarray:
        qvm.run(prog, 1)
        return np.asarray(qvm.result().get_state_vector())

    return run


def _hamiltonian(terms: Sequence[tuple[str, float]]) -> Hamiltonian:
    return Hamiltonian([p for p, _ in terms], [complex(c) for _, c in terms])


def _bound(gates: Sequence[tuple[str, tuple[int, ...], int]], x: np.ndarray) -> QProg:
    return _program([(g, q, () if i < 0 else (float(x[i]),)) for g, q, i in gates])


def energy(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
           parameters: np.ndarray, terms: Sequence[tuple[str, float]]) -> Callable[[], float]:
    run = vqe(qubit_count, gates, terms)
    return lambda: run(parameters)


def gradient(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
             parameters: np.ndarray, terms: Sequence[tuple[str, float]]
             ) -> Callable[[], tuple[float, np.ndarray]]:
    vqc = VQCircuit()
    vqc.set_Param([parameters.size])
    for g, qubits, index in gates:
        if index < 0:
            vqc << CNOT(*qubits)
        else:
            vqc << _GATES[g](qubits[0], vqc.Param([index]))
    ham = _hamiltonian(terms)

    def run() -> tuple[float, np.ndarray]:
        result = vqc.get_gradients(parameters, ham, DiffMethod.ADJOINT_DIFF)
        grads = np.asarray(result.gradients(), dtype=np.float64).ravel()
        return float("nan"), grads

    return run


def vqe(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
        terms: Sequence[tuple[str, float]]) -> Callable[[np.ndarray], float]:
    ham = _hamiltonian(terms)
    return lambda x: float(expval_hamiltonian(_bound(gates, x), ham, used_threads=_THREADS))
