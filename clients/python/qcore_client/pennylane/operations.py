"""PennyLane operations and observables → qcore SDK circuits and observables.

PennyLane and qcore share the gate conventions that matter here: rotations are
``exp(-i θ P / 2)``, a gate's first listed wire is the most significant bit of its matrix, and
``U3(θ, φ, δ)`` is OpenQASM 3's ``u``. Wires map to qcore qubits by their position in the
device's wire order (qubit 0 is the least-significant bit of a basis-state index).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pennylane as qml
from pennylane.operation import Operator
from pennylane.pauli import PauliSentence
from pennylane.wires import Wires

from qcore_client.circuit import Circuit, Parameter

__all__ = ["GATE_NAMES", "IGNORED", "supports_operation", "to_circuit", "to_terms"]

#: PennyLane operation name → qcore gate name.
GATE_NAMES: dict[str, str] = {
    "Identity": "id", "PauliX": "x", "PauliY": "y", "PauliZ": "z", "Hadamard": "h",
    "S": "s", "Adjoint(S)": "sdg", "T": "t", "Adjoint(T)": "tdg", "SX": "sx",
    "Adjoint(SX)": "sxdg", "RX": "rx", "RY": "ry", "RZ": "rz", "PhaseShift": "p", "U3": "u",
    "CNOT": "cx", "CY": "cy", "CZ": "cz", "CH": "ch", "SWAP": "swap", "ISWAP": "iswap",
    "CRX": "crx", "CRY": "cry", "CRZ": "crz", "ControlledPhaseShift": "cp",
    "IsingXX": "rxx", "IsingYY": "ryy", "IsingZZ": "rzz", "Toffoli": "ccx", "CSWAP": "cswap",
}
#: Operations with no effect on measured statistics (a global phase).
IGNORED = frozenset({"GlobalPhase"})


def supports_operation(op: Operator) -> bool:
    """Whether ``op`` needs no decomposition before :func:`to_circuit`."""
    return op.name in GATE_NAMES or op.name in IGNORED


def to_circuit(operations: Sequence[Operator], wire_order: Wires, *,
               symbols: Mapping[int, Parameter] | None = None) -> Circuit:
    """The SDK circuit of ``operations`` on ``len(wire_order)`` qubits (no measurements).

    Args:
        symbols: gate parameters to keep symbolic, by their index among all the operations'
            parameters in order (PennyLane's ``tape.get_parameters(trainable_only=False)``);
            the others are bound to their values.
    Raises:
        ValueError: an operation outside :data:`GATE_NAMES` (decompose first), or a wire not in
            ``wire_order``.
    """
    symbols = symbols or {}
    circuit = Circuit(max(1, len(wire_order)))
    index = 0
    for op in operations:
        params = []
        for value in op.parameters:
            params.append(symbols.get(index, None) or float(qml.math.unwrap(value)))
            index += 1
        if op.name in IGNORED:
            continue
        if op.name not in GATE_NAMES:
            raise ValueError(f"operation {op.name} is not a qcore gate; decompose it first")
        circuit.append(GATE_NAMES[op.name], [wire_order.index(w) for w in op.wires], params)
    return circuit


def to_terms(sentence: PauliSentence, wire_order: Wires) -> list[tuple[str, float]]:
    """``(pauli_string, coefficient)`` pairs of a Pauli sentence in qcore's ``"X0 Z3"`` form.

    Raises:
        ValueError: a coefficient with an imaginary part (the observable is not Hermitian).
    """
    terms = []
    for word, coefficient in sentence.items():
        value = complex(qml.math.unwrap(coefficient))
        if abs(value.imag) > 1e-10 * (1 + abs(value.real)):
            raise ValueError(f"coefficient {value} of {word} is not real: observables must be "
                             "Hermitian")
        terms.append((" ".join(f"{letter}{wire_order.index(w)}" for w, letter in word.items()),
                      value.real))
    return terms
