"""What the compiler compiles for (:class:`CompileTarget`) and what it returns
(:class:`CompiledCircuit`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from quantum_service.circuits.gates import GATES
from quantum_service.circuits.ir import Circuit
from quantum_service.errors import InvalidProgramError

__all__ = ["ENTANGLERS", "ONE_QUBIT_BASES", "CompileTarget", "CompiledCircuit"]

#: Single-qubit bases the compiler synthesises into, in order of preference. Each needs ``rz``
#: plus the listed gate: ``r`` (trapped ion, neutral atom), ``sx`` (superconducting; ``x`` is
#: used too when native), ``rx`` or ``ry``.
ONE_QUBIT_BASES = ("r", "sx", "rx", "ry")

#: Two-qubit native gates the compiler can target, in order of preference.
ENTANGLERS = ("cz", "cx", "ecr", "rxx", "rzz")


@dataclass(frozen=True)
class CompileTarget:
    """A QPU as the compiler sees it.

    Attributes:
        qubit_count: physical qubits, >= 1.
        native_gates: gate names from :data:`quantum_service.circuits.gates.GATES`, e.g.
            ``{"rz", "sx", "x", "cz"}`` (superconducting; ``"ecr"`` may replace ``"cz"``),
            ``{"r", "rz", "rxx"}`` (trapped ion) or ``{"rz", "r", "cz"}`` (neutral atom). Must
            hold ``rz`` and one of ``r``, ``sx``, ``rx``, ``ry``; a two-qubit gate from
            :data:`ENTANGLERS` is needed to compile multi-qubit circuits.
        coupling_map: undirected edges ``(a, b)`` between physical qubits where two-qubit gates
            act; ``None`` means all-to-all.
        max_active_qubits: the most physical qubits one compiled circuit may act on (a
            simulated device's ``max_simulated_qubits``), >= 1; ``None``: no limit. On a coupling
            map, when routing on the whole device would make more qubits active although the
            circuit acts on at most this many, layout and routing are confined to a connected
            region of this many qubits. It never makes a circuit fail to compile.

    Raises:
        InvalidProgramError: unknown or insufficient native gates (reason
            ``UNSUPPORTED_NATIVE_GATES``), a malformed coupling map (reason
            ``INVALID_COUPLING_MAP``) or ``max_active_qubits < 1`` (reason ``INVALID_TARGET``).
    """

    qubit_count: int
    native_gates: frozenset[str]
    coupling_map: tuple[tuple[int, int], ...] | None = None
    max_active_qubits: int | None = None

    def __post_init__(self) -> None:
        if self.qubit_count < 1:
            raise InvalidProgramError(
                f"a compile target needs at least 1 qubit, got {self.qubit_count}",
                reason="INVALID_TARGET",
            )
        if self.max_active_qubits is not None and self.max_active_qubits < 1:
            raise InvalidProgramError(
                f"max_active_qubits must be >= 1 (or None for no limit), got "
                f"{self.max_active_qubits}", reason="INVALID_TARGET",
            )
        object.__setattr__(self, "native_gates", frozenset(self.native_gates))
        unknown = sorted(name for name in self.native_gates if name not in GATES)
        if unknown:
            raise InvalidProgramError(
                f"unknown native gate(s) {unknown}; use names from the qcore gate library",
                reason="UNSUPPORTED_NATIVE_GATES",
            )
        if self.one_qubit_basis is None:
            raise InvalidProgramError(
                f"native gates {sorted(self.native_gates)} cannot express every single-qubit "
                f"gate: qcore needs 'rz' plus one of {list(ONE_QUBIT_BASES)}",
                reason="UNSUPPORTED_NATIVE_GATES",
            )
        if self.coupling_map is not None:
            edges = tuple((int(a), int(b)) for a, b in self.coupling_map)
            for a, b in edges:
                if a == b or not (0 <= a < self.qubit_count and 0 <= b < self.qubit_count):
                    raise InvalidProgramError(
                        f"coupling map edge ({a}, {b}) is invalid for a {self.qubit_count}-qubit "
                        "target: edges join two different qubits in [0, qubit_count)",
                        reason="INVALID_COUPLING_MAP",
                    )
            object.__setattr__(self, "coupling_map", edges)

    @property
    def one_qubit_basis(self) -> str | None:
        """The gate that, with ``rz``, synthesises single-qubit gates (see
        :data:`ONE_QUBIT_BASES`); ``None`` when the native set has no such pair."""
        if "rz" not in self.native_gates:
            return None
        return next((name for name in ONE_QUBIT_BASES if name in self.native_gates), None)

    @property
    def entangler(self) -> str | None:
        """The two-qubit native gate used for entangling operations, or ``None``."""
        return next((name for name in ENTANGLERS if name in self.native_gates), None)

    @property
    def all_to_all(self) -> bool:
        return self.coupling_map is None


@dataclass(frozen=True)
class CompiledCircuit:
    """A circuit compiled for a :class:`CompileTarget`.

    Attributes:
        circuit: on the target's physical qubits (``circuit.qubit_count ==
            target.qubit_count``), holding only native gates plus ``measure`` and ``reset``;
            same symbolic parameters (in the same order) and classical bits as the source.
            Terminal measurements (no gate or ``reset`` follows on their qubit) come last, one
            ``measure`` per ``(physical qubit, clbit)``, on the physical qubit where the
            measured logical qubit ends (``final_layout``): that qubit is the one read, so
            its readout error applies. A measurement that a gate or ``reset`` follows stays
            in place, on the physical qubit holding its logical qubit at that point.
        initial_layout: logical qubit ``i`` starts on physical qubit ``initial_layout[i]``.
        final_layout: logical qubit ``i`` ends on physical qubit ``final_layout[i]`` (map an
            observable's qubits through it).
        swap_count: SWAPs inserted by routing.
        depth: circuit depth counting native gates only (not measure/reset).
        physical_qubits: derived: the sorted physical qubits the circuit touches or the
            initial layout occupies (a simulator may restrict itself to these).
    """

    circuit: Circuit
    initial_layout: tuple[int, ...]
    final_layout: tuple[int, ...]
    swap_count: int
    depth: int
    physical_qubits: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        touched = {q for op in self.circuit.operations for q in op.qubits}
        touched.update(self.initial_layout)
        object.__setattr__(self, "physical_qubits", tuple(sorted(touched)))
