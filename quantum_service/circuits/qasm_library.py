"""OpenQASM gate algebra over qcore's gate library: modifiers, unitaries, export definitions.

The OpenQASM 3 gate modifiers (``inv @``, ``pow(k) @``, ``ctrl @``, ``negctrl @``; OpenQASM 3
specification, "Quantum gate modifiers") are applied here to lists of qcore
:class:`~quantum_service.circuits.ir.Operation` and produce operations on gates of
:mod:`quantum_service.circuits.gates` again, or fail with :class:`InvalidProgramError` (reason
``UNSUPPORTED_QASM``) when the result has no equivalent there.

Semantics: a library gate *is* its matrix in :mod:`~quantum_service.circuits.gates` (for example
``u3`` equals ``u``/``U`` exactly, with no global phase). Operation lists may contain the pseudo
operation :data:`GPHASE` (``gphase(γ)``, no qubits, the factor ``e^{iγ}``): a global phase is
irrelevant at the top level of a circuit but becomes a relative phase under ``ctrl @``
(``ctrl @ gphase(γ) c`` is ``p(γ) c``), so it is kept until the caller drops it.

``pow(k) @ g``: a rotation ``exp(-iθP/2)`` (or phase ``p(λ)``) to the power ``k`` is the rotation
by ``kθ``, which is the principal-branch power while ``|θ| < 2π`` (``|λ| < π``); other constant
gates use the principal branch of the matrix power; integer ``k`` repeats the gate (``k < 0``
repeats its inverse).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import scipy.linalg

from quantum_service.circuits.gates import GATES, gate_matrix
from quantum_service.circuits.ir import Operation, ParameterExpression
from quantum_service.errors import InvalidProgramError

__all__ = [
    "GPHASE",
    "STDGATES",
    "QASM3_DEFINITIONS",
    "invert",
    "power",
    "control",
    "unitary",
    "zyz_angles",
    "UNSUPPORTED",
]

#: Pseudo-operation name for a global phase ``e^{iγ}`` (one parameter, no qubits).
GPHASE = "gphase"
#: Error reason for OpenQASM constructs that qcore does not translate.
UNSUPPORTED = "UNSUPPORTED_QASM"

#: Gate names defined by OpenQASM 3's ``stdgates.inc`` (openqasm.com, "Standard library").
STDGATES = frozenset({
    "p", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "cx", "cy", "cz",
    "cp", "crx", "cry", "crz", "ch", "swap", "ccx", "cswap", "cu", "CX", "phase", "cphase", "id",
    "u1", "u2", "u3",
})

#: OpenQASM 3 ``gate`` definitions (in terms of ``stdgates.inc``, ``U`` and modifiers) of qcore's
#: library gates outside ``stdgates.inc``; each equals the library matrix exactly, global phase
#: included (checked by the tests). ``u`` is written as the builtin ``U``.
QASM3_DEFINITIONS: dict[str, str] = {
    "sxdg": "gate sxdg a { inv @ sx a; }",
    "r": "gate r(theta, phi) a { U(theta, phi - pi/2, pi/2 - phi) a; }",
    "csx": "gate csx a, b { ctrl @ sx a, b; }",
    "cu1": "gate cu1(lambda) a, b { cp(lambda) a, b; }",
    "cu3": "gate cu3(theta, phi, lambda) a, b { ctrl @ U(theta, phi, lambda) a, b; }",
    # iSWAP and ECR decompositions as in Qiskit's standard equivalence library.
    "iswap": "gate iswap a, b { s a; s b; h a; cx a, b; cx b, a; h b; }",
    "ecr": "gate ecr a, b { s a; sx b; cx a, b; x a; gphase(-pi/4); }",
    "rxx": "gate rxx(theta) a, b { h a; h b; cx a, b; rz(theta) b; cx a, b; h a; h b; }",
    "ryy": ("gate ryy(theta) a, b { rx(pi/2) a; rx(pi/2) b; cx a, b; rz(theta) b; cx a, b; "
            "rx(-pi/2) a; rx(-pi/2) b; }"),
    "rzz": "gate rzz(theta) a, b { cx a, b; rz(theta) b; cx a, b; }",
    "ccz": "gate ccz a, b, c { h c; ccx a, b, c; h c; }",
    # rccx / rc3x: the definitions of OpenQASM 2's qelib1.inc (arXiv:1707.03429, appendix).
    "rccx": ("gate rccx a, b, c { h c; t c; cx b, c; tdg c; cx a, c; t c; cx b, c; tdg c; "
             "h c; }"),
    "rc3x": ("gate rc3x a, b, c, d { h d; t d; cx c, d; tdg d; h d; cx a, d; t d; cx b, d; "
             "tdg d; cx a, d; t d; cx b, d; tdg d; h d; t d; cx c, d; tdg d; h d; }"),
    "c3x": "gate c3x a, b, c, d { ctrl(3) @ x a, b, c, d; }",
    "c3sqrtx": "gate c3sqrtx a, b, c, d { ctrl(3) @ sx a, b, c, d; }",
    "c4x": "gate c4x a, b, c, d, e { ctrl(4) @ x a, b, c, d, e; }",
}

_ATOL = 1e-9
_PI = math.pi
_PE = ParameterExpression
_ParamFn = Callable[..., tuple[float | _PE, ...]]

# Gates exp(-iθP/2) and phase gates in one parameter: pow(k) scales the parameter.
_SCALABLE = frozenset({
    "rx", "ry", "rz", "p", "phase", "u1", "crx", "cry", "crz", "cp", "cphase", "cu1",
    "rxx", "ryy", "rzz", GPHASE,
})


def _reversed_u(t: _PE, f: _PE, l: _PE) -> tuple[_PE, ...]:
    # U(θ, φ, λ)† = U(-θ, -λ, -φ) (direct from the U matrix in gates.py).
    return (-t, -l, -f)


# Inverses of parametric gates: name -> (inverse name, parameter map).
_PARAMETRIC_INVERSE: dict[str, tuple[str, _ParamFn]] = {
    **{name: (name, lambda *ps: tuple(-p for p in ps)) for name in _SCALABLE},
    "u": ("u", _reversed_u),
    "u3": ("u3", _reversed_u),
    "cu3": ("cu3", _reversed_u),
    "u2": ("u3", lambda f, l: (-_PI / 2, -l, -f)),
    "r": ("r", lambda t, f: (-t, f)),
    "cu": ("cu", lambda t, f, l, g: (-t, -l, -f, -g)),
}

# One added control (listed first), same parameters.
_CONTROLLED: dict[str, str] = {
    "x": "cx", "y": "cy", "z": "cz", "h": "ch", "sx": "csx", "swap": "cswap",
    "cx": "ccx", "ccx": "c3x", "c3x": "c4x", "cz": "ccz",
    "rx": "crx", "ry": "cry", "rz": "crz", "p": "cp", "phase": "cp", "u1": "cp",
    "u": "cu3", "u3": "cu3",
}
# One added control with a parameter map.
_CONTROLLED_MAPPED: dict[str, tuple[str, _ParamFn]] = {
    "s": ("cp", lambda: (_PI / 2,)),
    "sdg": ("cp", lambda: (-_PI / 2,)),
    "t": ("cp", lambda: (_PI / 4,)),
    "tdg": ("cp", lambda: (-_PI / 4,)),
    "u2": ("cu3", lambda f, l: (_PI / 2, f, l)),
    # r(θ, φ) = U(θ, φ - π/2, π/2 - φ) exactly.
    "r": ("cu3", lambda t, f: (t, f - _PI / 2, _PI / 2 - f)),
}
# Several controls at once where one-at-a-time has no intermediate library gate.
_MULTI_CONTROLLED: dict[tuple[str, int], str] = {("sx", 3): "c3sqrtx", ("csx", 2): "c3sqrtx"}


def _constant_specs() -> dict[int, list[tuple[str, np.ndarray]]]:
    by_arity: dict[int, list[tuple[str, np.ndarray]]] = {}
    for spec in GATES.values():
        if spec.param_count == 0:
            by_arity.setdefault(spec.qubit_count, []).append((spec.name, spec.matrix()))
    return by_arity


_CONSTANT_BY_ARITY = _constant_specs()


def _match_constant(matrix: np.ndarray, arity: int, *, prefer: str = "") -> str | None:
    """Name of the parameter-free library gate equal to ``matrix`` (exactly), if any."""
    candidates = _CONSTANT_BY_ARITY.get(arity, [])
    candidates = sorted(candidates, key=lambda item: item[0] != prefer)
    for name, m in candidates:
        if np.allclose(m, matrix, atol=_ATOL):
            return name
    return None


# Inverses of parameter-free gates, found from the matrices.
_CONSTANT_INVERSE: dict[str, str] = {
    name: inverse
    for arity, specs in _CONSTANT_BY_ARITY.items()
    for name, m in specs
    if (inverse := _match_constant(m.conj().T, arity, prefer=name)) is not None
}


def _unsupported(message: str) -> InvalidProgramError:
    return InvalidProgramError(message, reason=UNSUPPORTED)


def _constant_params(op: Operation) -> list[float] | None:
    if op.is_parametric:
        return None
    return [p.constant for p in op.params]


def zyz_angles(matrix: np.ndarray) -> tuple[float, float, float, float]:
    """Angles ``(θ, φ, λ, γ)`` with ``matrix = e^{iγ} U(θ, φ, λ)``.

    Args:
        matrix: a 2x2 unitary, complex.
    Returns:
        Radians; ``U`` is the OpenQASM 3 single-qubit gate of :mod:`gates` (``u``).
    """
    a, b = complex(matrix[0, 0]), complex(matrix[0, 1])
    c, d = complex(matrix[1, 0]), complex(matrix[1, 1])
    theta = 2.0 * math.atan2(abs(c), abs(a))
    if abs(a) > _ATOL:
        gamma = math.atan2(a.imag, a.real)
        if abs(c) > _ATOL:
            phi = np.angle(c) - gamma
            lam = np.angle(-b) - gamma
        else:
            phi, lam = 0.0, np.angle(d) - gamma
    else:  # cos(θ/2) = 0: choose λ = 0
        gamma = float(np.angle(-b))
        phi, lam = np.angle(c) - gamma, 0.0
    return theta, float(phi), float(lam), gamma


def _u_with_phase(matrix: np.ndarray, qubit: int) -> list[Operation]:
    theta, phi, lam, gamma = zyz_angles(matrix)
    ops = [Operation("u", (qubit,), tuple(_PE(v) for v in (theta, phi, lam)))]
    if abs(gamma) > _ATOL:
        ops.append(Operation(GPHASE, (), (_PE(gamma),)))
    return ops


def unitary(ops: Sequence[Operation], qubits: Sequence[int]) -> np.ndarray:
    """The unitary of a gate list, global phases (:data:`GPHASE`) included.

    Args:
        ops: gates, ``gphase`` and ``barrier`` operations with constant parameters.
        qubits: the qubits of the result, the first one the most significant bit.
    Returns:
        complex128 array, shape ``(2**k, 2**k)`` for ``k = len(qubits)``.
    Raises:
        InvalidProgramError: a symbolic parameter, or a measurement or reset.
    """
    k = len(qubits)
    position = {q: i for i, q in enumerate(qubits)}
    tensor = np.eye(2**k, dtype=np.complex128).reshape((2,) * k + (2**k,))
    for op in ops:
        params = _constant_params(op)
        if params is None:
            raise InvalidProgramError(f"{op.name} has a symbolic parameter; expected a constant")
        if op.name == "barrier":
            continue
        if op.name == GPHASE:
            tensor = tensor * np.exp(1j * params[0])
            continue
        if op.name in ("measure", "reset"):
            raise InvalidProgramError(f"{op.name} is not unitary")
        m = len(op.qubits)
        matrix = gate_matrix(op.name, params).reshape((2,) * (2 * m))
        axes = [position[q] for q in op.qubits]
        tensor = np.tensordot(matrix, tensor, axes=(list(range(m, 2 * m)), axes))
        tensor = np.moveaxis(tensor, list(range(m)), axes)
    return tensor.reshape(2**k, 2**k)


def _qubits_of(ops: Sequence[Operation]) -> list[int]:
    return list(dict.fromkeys(q for op in ops for q in op.qubits))


# --------------------------------------------------------------------------- inv @


def _invert_one(op: Operation) -> list[Operation]:
    if op.name == "barrier":
        return [op]
    if op.name in _PARAMETRIC_INVERSE:
        name, fn = _PARAMETRIC_INVERSE[op.name]
        return [Operation(name, op.qubits, tuple(_PE.of(p) for p in fn(*op.params)))]
    if op.name in _CONSTANT_INVERSE:
        return [Operation(_CONSTANT_INVERSE[op.name], op.qubits)]
    if op.name == "iswap":  # iSWAP² = Z⊗Z, so iSWAP† = iSWAP (Z⊗Z)
        return [Operation("z", (op.qubits[0],)), Operation("z", (op.qubits[1],)), op]
    if op.name == "csx":  # controlled-(√X)†
        return _control_one(Operation("sxdg", op.qubits[1:]), op.qubits[:1])
    raise _unsupported(f"inv @ {op.name} has no equivalent gate in qcore's gate library")


def invert(ops: Sequence[Operation]) -> list[Operation]:
    """``inv @``: the inverse of a gate list (reversed, each gate inverted).

    Raises:
        InvalidProgramError: reason ``UNSUPPORTED_QASM``; a gate's inverse is not in the library.
    """
    return [inverse for op in reversed(ops) for inverse in _invert_one(op)]


# --------------------------------------------------------------------------- pow(k) @


def power(ops: Sequence[Operation], exponent: float, *,
          max_operations: int = 1_000_000) -> list[Operation]:
    """``pow(exponent) @``: the gate list to a real power (see the module docstring).

    Raises:
        InvalidProgramError: reason ``UNSUPPORTED_QASM``; a non-integer power of several gates
            or of a symbolic gate that is not a rotation, or a result outside the library.
            Reason ``PROGRAM_TOO_LARGE``: repeating the gates would exceed ``max_operations``
            (checked before repeating them).
    """
    gates = [op for op in ops if op.name != "barrier"]
    if len(gates) == 1 and gates[0].name in _SCALABLE:
        op = gates[0]
        return [Operation(op.name, op.qubits, tuple(p * exponent for p in op.params))]
    constant = all(not op.is_parametric for op in gates)
    if constant and gates:
        qubits = _qubits_of(gates)
        if len(qubits) <= 5 and (result := _numeric_power(gates, qubits, exponent)) is not None:
            return result
    if float(exponent).is_integer():
        k = int(exponent)
        if abs(k) * len(ops) > max_operations:
            raise InvalidProgramError(f"pow({k}) @ repeats {len(ops)} operation(s) more than "
                                      f"{max_operations} times in total",
                                      reason="PROGRAM_TOO_LARGE")
        base = list(ops) if k >= 0 else invert(ops)
        return base * abs(k)
    names = ", ".join(op.name for op in gates) or "an empty gate"
    raise _unsupported(
        f"pow({exponent:g}) @ [{names}]: non-integer powers are supported for rotations and "
        "parameter-free gates whose power is a library gate"
    )


def _numeric_power(gates: Sequence[Operation], qubits: list[int], exponent: float
                   ) -> list[Operation] | None:
    matrix = unitary(gates, qubits)
    if float(exponent).is_integer():
        powered = np.linalg.matrix_power(matrix, int(exponent))
    else:
        # A unitary is normal: its complex Schur form is diagonal, M = Z diag(e^{iα}) Z†.
        triangular, basis = scipy.linalg.schur(matrix, output="complex")
        angles = np.angle(np.diag(triangular))
        angles[angles < -_PI + 1e-9] = _PI  # principal branch: arg in (-π, π]
        powered = basis @ np.diag(np.exp(1j * exponent * angles)) @ basis.conj().T
    prefer = gates[0].name if len(gates) == 1 else ""
    name = _match_constant(powered, len(qubits), prefer=prefer)
    if name is not None:
        return [Operation(name, tuple(qubits))]
    if len(qubits) == 1 and not float(exponent).is_integer():
        return _u_with_phase(powered, qubits[0])
    return None


# --------------------------------------------------------------------------- ctrl @


def _add_control(op: Operation, control_qubit: int) -> Operation | None:
    qubits = (control_qubit, *op.qubits)
    if op.name == "barrier":
        return Operation("barrier", qubits)
    if op.name == GPHASE:
        return Operation("p", (control_qubit,), op.params)
    if op.name in _CONTROLLED:
        return Operation(_CONTROLLED[op.name], qubits, op.params)
    if op.name in _CONTROLLED_MAPPED:
        name, fn = _CONTROLLED_MAPPED[op.name]
        return Operation(name, qubits, tuple(_PE.of(p) for p in fn(*op.params)))
    return None


def _control_one(op: Operation, controls: Sequence[int]) -> list[Operation]:
    special = _MULTI_CONTROLLED.get((op.name, len(controls)))
    if special is not None:
        return [Operation(special, (*controls, *op.qubits))]
    if op.name == "id":
        return [op]  # a controlled identity is the identity
    current: Operation | None = op
    for c in reversed(controls):
        assert current is not None
        current = _add_control(current, c)
        if current is None:
            break
    if current is not None:
        return [current]
    params = _constant_params(op)
    if len(controls) == 1 and len(op.qubits) == 1 and params is not None:
        # Any constant single-qubit gate e^{iγ}U(θ, φ, λ): cu(θ, φ, λ, γ) (gates.py's cu).
        angles = zyz_angles(gate_matrix(op.name, params))
        return [Operation("cu", (controls[0], op.qubits[0]), tuple(_PE(a) for a in angles))]
    prefix = "ctrl @ " if len(controls) == 1 else f"ctrl({len(controls)}) @ "
    raise _unsupported(f"{prefix}{op.name} has no equivalent gate in qcore's gate library")


def control(ops: Sequence[Operation], controls: Sequence[int], *,
            negated: Sequence[int] = ()) -> list[Operation]:
    """``ctrl @`` / ``negctrl @``: the gate list controlled on ``controls``.

    Args:
        ops: the target operations (gates, ``gphase``, ``barrier``).
        controls: control qubits, listed first in each controlled gate.
        negated: the subset of ``controls`` that control on ``|0>`` (``negctrl``); they are
            conjugated with ``x``.
    Raises:
        InvalidProgramError: reason ``UNSUPPORTED_QASM``; a controlled gate is not in the
            library (e.g. ``ctrl @ ch``).
    """
    flips = [Operation("x", (q,)) for q in controls if q in set(negated)]
    body = [out for op in ops for out in _control_one(op, controls)]
    return flips + body + flips
