"""The gate library: every gate qcore knows, with its unitary matrix.

Covers OpenQASM 2's ``qelib1.inc`` (Cross et al., "Open Quantum Assembly Language",
arXiv:1707.03429, appendix) and OpenQASM 3's ``stdgates.inc`` (openqasm.com, "Standard library"),
plus the native gates of qcore's QPUs (``r``, ``rxx``, ``ryy``, ``rzz``, ``ecr``, ``iswap``).

Matrices are complex128, shape ``(2**k, 2**k)`` for a ``k``-qubit gate, in the basis where the
first listed qubit is the most significant bit (``cx`` on ``(control, target)`` is the textbook
``[[1,0,0,0],[0,1,0,0],[0,0,0,1],[0,0,1,0]]``). Rotations follow ``R_P(θ) = exp(-i θ P / 2)``.
``u``/``u3`` is ``U(θ, φ, λ) = [[cos θ/2, -e^{iλ} sin θ/2], [e^{iφ} sin θ/2, e^{i(φ+λ)} cos θ/2]]``
(OpenQASM 3 spec), which differs from OpenQASM 2's ``U`` only by a global phase.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from quantum_service.errors import InvalidProgramError

__all__ = ["GateSpec", "GATES", "gate_matrix", "gate_spec", "controlled"]

_I2 = np.eye(2, dtype=np.complex128)
_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
_Y = np.array([[0, -1j], [1j, 0]], dtype=np.complex128)
_Z = np.array([[1, 0], [0, -1]], dtype=np.complex128)
_H = np.array([[1, 1], [1, -1]], dtype=np.complex128) / np.sqrt(2)
_SX = 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], dtype=np.complex128)


def controlled(matrix: np.ndarray, control_count: int = 1) -> np.ndarray:
    """Adds ``control_count`` control qubits (listed first) to ``matrix``."""
    dim = matrix.shape[0]
    total = dim << control_count
    out = np.eye(total, dtype=np.complex128)
    out[total - dim:, total - dim:] = matrix
    return out


def _u(theta: float, phi: float, lam: float) -> np.ndarray:
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    return np.array(
        [[c, -np.exp(1j * lam) * s], [np.exp(1j * phi) * s, np.exp(1j * (phi + lam)) * c]],
        dtype=np.complex128,
    )


def _rx(t: float) -> np.ndarray:
    return np.cos(t / 2) * _I2 - 1j * np.sin(t / 2) * _X


def _ry(t: float) -> np.ndarray:
    return np.cos(t / 2) * _I2 - 1j * np.sin(t / 2) * _Y


def _rz(t: float) -> np.ndarray:
    return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)]).astype(np.complex128)


def _p(lam: float) -> np.ndarray:
    return np.diag([1.0, np.exp(1j * lam)]).astype(np.complex128)


def _r(theta: float, phi: float) -> np.ndarray:
    """Trapped-ion rotation about cos(φ)X + sin(φ)Y."""
    axis = np.cos(phi) * _X + np.sin(phi) * _Y
    return np.cos(theta / 2) * _I2 - 1j * np.sin(theta / 2) * axis


def _pauli_rotation(pauli: np.ndarray) -> Callable[[float], np.ndarray]:
    eye = np.eye(pauli.shape[0], dtype=np.complex128)

    def matrix(t: float) -> np.ndarray:
        return np.cos(t / 2) * eye - 1j * np.sin(t / 2) * pauli

    return matrix


def _mcx(controls: int) -> np.ndarray:
    return controlled(_X, controls)


_CX = None  # marks a cx step in :func:`_compose`


def _compose(qubit_count: int, steps: Sequence[tuple[np.ndarray | None, tuple[int, ...]]]
             ) -> np.ndarray:
    """Unitary of a short sequence of 1-qubit matrices and cx steps (``(_CX, (c, t))``);
    qubit 0 of ``steps`` is the matrix's first (most significant) qubit."""
    total = np.eye(2**qubit_count, dtype=np.complex128)
    for matrix, qubits in steps:
        full = np.eye(1, dtype=np.complex128)
        if matrix is not _CX:
            for q in range(qubit_count):
                full = np.kron(full, matrix if q == qubits[0] else _I2)
        else:  # a controlled-X (cx) between qubits[0] (control) and qubits[1] (target)
            c, t = qubits
            dim = 2**qubit_count
            full = np.zeros((dim, dim), dtype=np.complex128)
            for i in range(dim):
                bit_c = (i >> (qubit_count - 1 - c)) & 1
                j = i ^ (bit_c << (qubit_count - 1 - t))
                full[j, i] = 1.0
        total = full @ total
    return total


def _rccx() -> np.ndarray:
    """Simplified Toffoli (Margolus gate): qelib1.inc's ``rccx`` definition."""
    h, t, tdg = _u(np.pi / 2, 0, np.pi), _p(np.pi / 4), _p(-np.pi / 4)
    cx = _CX
    return _compose(3, [(h, (2,)), (t, (2,)), (cx, (1, 2)), (tdg, (2,)), (cx, (0, 2)),
                        (t, (2,)), (cx, (1, 2)), (tdg, (2,)), (h, (2,))])


def _rc3x() -> np.ndarray:
    """Relative-phase 3-controlled X: qelib1.inc's ``rc3x`` definition."""
    h, t, tdg = _u(np.pi / 2, 0, np.pi), _p(np.pi / 4), _p(-np.pi / 4)
    cx = _CX
    return _compose(4, [
        (h, (3,)), (t, (3,)), (cx, (2, 3)), (tdg, (3,)), (h, (3,)), (cx, (0, 3)), (t, (3,)),
        (cx, (1, 3)), (tdg, (3,)), (cx, (0, 3)), (t, (3,)), (cx, (1, 3)), (tdg, (3,)),
        (h, (3,)), (t, (3,)), (cx, (2, 3)), (tdg, (3,)), (h, (3,)),
    ])


@dataclass(frozen=True, slots=True)
class GateSpec:
    """A gate: name, arity, parameter count and a matrix builder."""

    name: str
    qubit_count: int
    param_count: int
    matrix_fn: Callable[..., np.ndarray]
    diagonal: bool = False
    #: True when the gate is ``exp(-i θ P/2)`` in its single parameter for some Pauli product P
    #: (eigenvalues ±1/2 of the generator), so the two-term parameter-shift rule applies.
    shift_rule: bool = False

    def matrix(self, params: Sequence[float] = ()) -> np.ndarray:
        return self.matrix_fn(*params)


def _const(m: np.ndarray) -> Callable[[], np.ndarray]:
    frozen = np.array(m, dtype=np.complex128)
    frozen.setflags(write=False)
    return lambda: frozen


_XX, _YY, _ZZ = np.kron(_X, _X), np.kron(_Y, _Y), np.kron(_Z, _Z)
_SWAP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.complex128)
_ISWAP = np.array([[1, 0, 0, 0], [0, 0, 1j, 0], [0, 1j, 0, 0], [0, 0, 0, 1]], dtype=np.complex128)
# Echoed cross-resonance gate (IBM native). Qiskit's ECRGate documentation gives
# (IX - XY)/sqrt(2) in its little-endian order (qubit 0 least significant); swapping the two
# qubits of that matrix writes it in qcore's order, so qcore's ecr(a, b) is Qiskit's ecr(a, b):
# X on a, minus Y on a times X on b.
_ECR = (np.kron(_X, _I2) - np.kron(_Y, _X)) / np.sqrt(2)

_SPECS: list[GateSpec] = [
    GateSpec("id", 1, 0, _const(_I2), diagonal=True),
    GateSpec("x", 1, 0, _const(_X)),
    GateSpec("y", 1, 0, _const(_Y)),
    GateSpec("z", 1, 0, _const(_Z), diagonal=True),
    GateSpec("h", 1, 0, _const(_H)),
    GateSpec("s", 1, 0, _const(np.diag([1, 1j])), diagonal=True),
    GateSpec("sdg", 1, 0, _const(np.diag([1, -1j])), diagonal=True),
    GateSpec("t", 1, 0, _const(np.diag([1, np.exp(1j * np.pi / 4)])), diagonal=True),
    GateSpec("tdg", 1, 0, _const(np.diag([1, np.exp(-1j * np.pi / 4)])), diagonal=True),
    GateSpec("sx", 1, 0, _const(_SX)),
    GateSpec("sxdg", 1, 0, _const(_SX.conj().T)),
    GateSpec("rx", 1, 1, _rx, shift_rule=True),
    GateSpec("ry", 1, 1, _ry, shift_rule=True),
    GateSpec("rz", 1, 1, _rz, diagonal=True, shift_rule=True),
    GateSpec("p", 1, 1, _p, diagonal=True),
    GateSpec("phase", 1, 1, _p, diagonal=True),
    GateSpec("u1", 1, 1, _p, diagonal=True),
    GateSpec("u2", 1, 2, lambda phi, lam: _u(np.pi / 2, phi, lam)),
    GateSpec("u3", 1, 3, _u),
    GateSpec("u", 1, 3, _u),
    GateSpec("r", 1, 2, _r),
    GateSpec("cx", 2, 0, _const(controlled(_X))),
    GateSpec("cy", 2, 0, _const(controlled(_Y))),
    GateSpec("cz", 2, 0, _const(controlled(_Z)), diagonal=True),
    GateSpec("ch", 2, 0, _const(controlled(_H))),
    GateSpec("csx", 2, 0, _const(controlled(_SX))),
    GateSpec("swap", 2, 0, _const(_SWAP)),
    GateSpec("iswap", 2, 0, _const(_ISWAP)),
    GateSpec("ecr", 2, 0, _const(_ECR)),
    GateSpec("crx", 2, 1, lambda t: controlled(_rx(t))),
    GateSpec("cry", 2, 1, lambda t: controlled(_ry(t))),
    GateSpec("crz", 2, 1, lambda t: controlled(_rz(t)), diagonal=True),
    GateSpec("cp", 2, 1, lambda t: controlled(_p(t)), diagonal=True),
    GateSpec("cphase", 2, 1, lambda t: controlled(_p(t)), diagonal=True),
    GateSpec("cu1", 2, 1, lambda t: controlled(_p(t)), diagonal=True),
    GateSpec("cu3", 2, 3, lambda t, f, l: controlled(_u(t, f, l))),
    # OpenQASM 3 stdgates "cu(θ, φ, λ, γ)": controlled U with an extra phase γ on the target.
    GateSpec("cu", 2, 4, lambda t, f, l, g: controlled(np.exp(1j * g) * _u(t, f, l))),
    GateSpec("rxx", 2, 1, _pauli_rotation(_XX), shift_rule=True),
    GateSpec("ryy", 2, 1, _pauli_rotation(_YY), shift_rule=True),
    GateSpec("rzz", 2, 1, _pauli_rotation(_ZZ), diagonal=True, shift_rule=True),
    GateSpec("ccx", 3, 0, _const(_mcx(2))),
    GateSpec("ccz", 3, 0, _const(controlled(_Z, 2)), diagonal=True),
    GateSpec("cswap", 3, 0, _const(controlled(_SWAP))),
    GateSpec("rccx", 3, 0, _const(_rccx())),
    GateSpec("c3x", 4, 0, _const(_mcx(3))),
    GateSpec("rc3x", 4, 0, _const(_rc3x())),
    GateSpec("c3sqrtx", 4, 0, _const(controlled(_SX, 3))),
    GateSpec("c4x", 5, 0, _const(_mcx(4))),
]

#: name → spec, for every known gate.
GATES: dict[str, GateSpec] = {spec.name: spec for spec in _SPECS}


def gate_spec(name: str) -> GateSpec:
    """Looks a gate up by name.

    Raises:
        InvalidProgramError: the gate is unknown (reason ``UNKNOWN_GATE``).
    """
    try:
        return GATES[name]
    except KeyError:
        raise InvalidProgramError(
            f"unknown gate {name!r}; known gates: {', '.join(sorted(GATES))}",
            reason="UNKNOWN_GATE",
        ) from None


def gate_matrix(name: str, params: Sequence[float] = ()) -> np.ndarray:
    """The unitary of gate ``name`` with numeric ``params`` (radians).

    Returns:
        complex128 array, shape ``(2**k, 2**k)``; read-only for parameter-free gates.
    Raises:
        InvalidProgramError: unknown gate or wrong number of parameters.
    """
    spec = gate_spec(name)
    if len(params) != spec.param_count:
        raise InvalidProgramError(
            f"gate {name!r} takes {spec.param_count} parameter(s), got {len(params)}"
        )
    return spec.matrix(params)
