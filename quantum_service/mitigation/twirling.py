"""Pauli twirling of the native two-qubit gates of a compiled circuit.

Wallman & Emerson, "Noise tailoring for scalable quantum computation via randomized
compiling", PRA 94, 052325 (2016): each two-qubit Clifford gate ``U`` is preceded by a uniformly
random Pauli ``P = P_a ⊗ P_b`` and followed by ``P' = U P U†`` (again a Pauli, up to a phase),
so the ideal circuit is unchanged while, averaged over frames, the gate's noise becomes a Pauli
channel (coherent errors such as a miscalibrated conditional phase turn into stochastic ones).
Each frame is one circuit; its Paulis are merged with the frame Paulis next to them on the same
qubit and written as native single-qubit gates
(:func:`~quantum_service.compiler.euler.synthesize_1q`; ``Z`` is a virtual ``rz(π)`` on
superconducting devices). Gates with symbolic angles are left untwirled (they are not Clifford
for every angle).

Paulis are indexed by their symplectic bits ``(x, z)``: ``I = 0, X = 1, Z = 2, Y = 3``, so the
product of two Paulis is, up to phase, the XOR of their indices.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from quantum_service.circuits.gates import gate_matrix
from quantum_service.circuits.ir import Circuit, Operation
from quantum_service.compiler.euler import synthesize_1q
from quantum_service.mitigation.folding import split_body

__all__ = ["PAULIS", "conjugation_table", "twirl_circuit"]

#: The single-qubit Paulis by symplectic index (I, X, Z, Y).
PAULIS = (
    np.eye(2, dtype=np.complex128),
    np.array([[0, 1], [1, 0]], dtype=np.complex128),
    np.array([[1, 0], [0, -1]], dtype=np.complex128),
    np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
)


@lru_cache(maxsize=64)
def conjugation_table(name: str, params: tuple[float, ...] = ()
                      ) -> tuple[tuple[int, int], ...] | None:
    """``U (P_a ⊗ P_b) U† ∝ P_c ⊗ P_d`` for the gate ``name(params)``: entry ``4a + b`` is
    ``(c, d)`` (first qubit of the gate most significant); ``None`` when ``U`` is not Clifford."""
    u = gate_matrix(name, list(params))
    if u.shape != (4, 4):
        return None
    table = []
    for a in range(4):
        for b in range(4):
            image = u @ np.kron(PAULIS[a], PAULIS[b]) @ u.conj().T
            found = None
            for c in range(4):
                for d in range(4):
                    overlap = np.trace(np.kron(PAULIS[c], PAULIS[d]).conj().T @ image) / 4
                    if abs(abs(overlap) - 1.0) < 1e-9:
                        found = (c, d)
                        break
                if found is not None:
                    break
            if found is None:
                return None
            table.append(found)
    return tuple(table)


def twirl_circuit(circuit: Circuit, rng: np.random.Generator, *, basis: str, use_x: bool
                  ) -> tuple[Circuit, int]:
    """One random Pauli frame of ``circuit``.

    Args:
        circuit: a native circuit on physical qubits (measurements at the end).
        rng: draws one Pauli pair (uniform over the 16) per two-qubit Clifford gate.
        basis, use_x: the target's single-qubit basis (see
            :func:`~quantum_service.compiler.euler.synthesize_1q`).
    Returns:
        the twirled circuit (equal to ``circuit`` up to global phase) and the number of
        gates twirled.
    Raises:
        InvalidProgramError: a dynamic circuit (reason ``UNSUPPORTED_OPERATION``).
    """
    body, tail = split_body(circuit)
    pending: dict[int, int] = {}
    out: list[Operation] = []
    twirled = 0

    def flush(qubit: int) -> None:
        index = pending.pop(qubit, 0)
        if index:
            out.extend(synthesize_1q(PAULIS[index], qubit, basis=basis, use_x=use_x))

    for op in body:
        table = (conjugation_table(op.name, tuple(p.constant for p in op.params))
                 if len(op.qubits) == 2 and not op.is_parametric else None)
        if table is None:
            for q in op.qubits:
                flush(q)
            out.append(op)
            continue
        a, b = (int(v) for v in rng.integers(0, 4, size=2))
        q0, q1 = op.qubits
        pending[q0] = pending.get(q0, 0) ^ a
        pending[q1] = pending.get(q1, 0) ^ b
        flush(q0)
        flush(q1)
        out.append(op)
        c, d = table[4 * a + b]
        pending[q0], pending[q1] = c, d
        twirled += 1
    for q in sorted(pending):
        flush(q)
    return Circuit(circuit.qubit_count, tuple(out + tail), circuit.clbit_count,
                   circuit.parameters, circuit.name), twirled
