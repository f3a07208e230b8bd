"""Plain-NumPy reference implementations, for tests only (dense 2**n matrices, small n).

Deliberately independent of the numba kernels and of :class:`~.pauli.PauliSum`: operators are
built as Kronecker products of single-qubit matrices, the textbook way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from quantum_service.simulator.ops import Channel

__all__ = [
    "embed_operator",
    "pauli_string_matrix",
    "random_density_matrix",
    "random_state_vector",
    "random_unitary",
    "reference_density_matrix",
    "reference_expectation",
    "reference_marginal",
    "reference_statevector",
]

_SINGLE = {
    "I": np.eye(2, dtype=np.complex128),
    "X": np.array([[0, 1], [1, 0]], dtype=np.complex128),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    "Z": np.array([[1, 0], [0, -1]], dtype=np.complex128),
}


def random_state_vector(qubit_count: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random pure state, complex128 ``(2**n,)``."""
    dim = 1 << qubit_count
    psi = rng.normal(size=dim) + 1j * rng.normal(size=dim)
    return psi / np.linalg.norm(psi)


def random_unitary(dim: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random ``(dim, dim)`` unitary: QR of a Ginibre matrix with the phases fixed
    (Mezzadri, "How to generate random matrices from the classical compact groups", 2007)."""
    z = (rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))) / np.sqrt(2)
    q, r = np.linalg.qr(z)
    return q * (np.diagonal(r) / np.abs(np.diagonal(r)))


def random_density_matrix(qubit_count: int, rng: np.random.Generator) -> np.ndarray:
    """A random full-rank mixed state ``G G^† / tr(G G^†)``, ``(2**n, 2**n)``."""
    dim = 1 << qubit_count
    g = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = g @ g.conj().T
    return rho / np.trace(rho)


def _kron_all(factors: Sequence[np.ndarray]) -> np.ndarray:
    out = np.eye(1, dtype=np.complex128)
    for f in factors:
        out = np.kron(out, f)
    return out


def embed_operator(qubit_count: int, qubits: Sequence[int], matrix: np.ndarray) -> np.ndarray:
    """``matrix`` on ``qubits`` as a full ``(2**n, 2**n)`` operator.

    Builds ``kron(matrix, I)`` with its tensor factors in the order ``qubits`` then the other
    qubits, and permutes the factors into the standard order (qubit ``n-1`` leftmost, so qubit
    0 is the index's least-significant bit).
    """
    n, k = qubit_count, len(qubits)
    others = [q for q in reversed(range(n)) if q not in qubits]
    factor_qubits = list(qubits) + others
    full = np.kron(np.asarray(matrix, dtype=np.complex128), np.eye(1 << (n - k)))
    order = [factor_qubits.index(q) for q in reversed(range(n))]
    tensor = full.reshape((2,) * (2 * n))
    return tensor.transpose(order + [n + a for a in order]).reshape(1 << n, 1 << n)


def reference_statevector(qubit_count: int,
                          ops: Iterable[tuple[Sequence[int], np.ndarray]],
                          initial_state: np.ndarray | None = None) -> np.ndarray:
    """The state after ``ops``, by dense matrix-vector products."""
    if initial_state is None:
        psi = np.zeros(1 << qubit_count, dtype=np.complex128)
        psi[0] = 1.0
    else:
        psi = np.array(initial_state, dtype=np.complex128)
    for qubits, matrix in ops:
        # einsum, not ``@``: no BLAS thread pool, which crawls on an oversubscribed machine.
        psi = np.einsum("ij,j->i", embed_operator(qubit_count, qubits, np.asarray(matrix)), psi)
    return psi


def pauli_string_matrix(pauli_string: str, qubit_count: int) -> np.ndarray:
    """The matrix of a sparse Pauli string such as ``"X0 Z3"``, by Kronecker products."""
    letters = ["I"] * qubit_count
    for token in pauli_string.split():
        letters[int(token[1:])] = token[0]
    return _kron_all([_SINGLE[letters[q]] for q in reversed(range(qubit_count))])


def reference_expectation(state_vector: np.ndarray, terms: Iterable[tuple[str, float]],
                          qubit_count: int) -> float:
    """``<psi|H|psi>`` with ``H`` built densely from ``(pauli_string, coefficient)`` terms."""
    h = sum(c * pauli_string_matrix(s, qubit_count) for s, c in terms)
    return float(np.real(np.vdot(state_vector, h @ state_vector)))


def reference_density_matrix(qubit_count: int,
                             ops: Iterable[tuple[Sequence[int], np.ndarray] | Channel],
                             initial: np.ndarray | None = None) -> np.ndarray:
    """``(2**n, 2**n)`` density matrix after ``ops``: ``U rho U^†`` and ``sum K rho K^†``."""
    dim = 1 << qubit_count
    if initial is None:
        rho = np.zeros((dim, dim), dtype=np.complex128)
        rho[0, 0] = 1.0
    else:
        rho = np.array(initial, dtype=np.complex128)
    for op in ops:
        if isinstance(op, Channel):
            fulls = [embed_operator(qubit_count, op.qubits, k) for k in op.kraus_operators]
            rho = sum(k @ rho @ k.conj().T for k in fulls)
        else:
            u = embed_operator(qubit_count, op[0], np.asarray(op[1]))
            rho = u @ rho @ u.conj().T
    return rho


def reference_marginal(probabilities: np.ndarray, qubits: Sequence[int]) -> np.ndarray:
    """Marginal distribution of ``qubits`` by an explicit loop over basis states."""
    out = np.zeros(1 << len(qubits))
    for index, p in enumerate(probabilities):
        outcome = sum(((index >> q) & 1) << j for j, q in enumerate(qubits))
        out[outcome] += p
    return out
