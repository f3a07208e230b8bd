"""The qcore compiler: native gate sets and routing.

:func:`compile_circuit` maps a :class:`~quantum_service.circuits.ir.Circuit` onto a QPU described
by a :class:`CompileTarget` (qubit count, native gates, coupling map, simulable width), keeping
symbolic parameters symbolic, and returns a :class:`CompiledCircuit` with its qubit layouts;
terminal measurements name the physical qubit where their logical qubit ends.
:func:`circuit_unitary` builds a small circuit's unitary for equivalence checks.
"""

from __future__ import annotations

from quantum_service.compiler.pipeline import OPTIMIZATION_LEVELS, compile_circuit
from quantum_service.compiler.target import CompiledCircuit, CompileTarget
from quantum_service.compiler.unitary import circuit_unitary

__all__ = [
    "OPTIMIZATION_LEVELS",
    "CompileTarget",
    "CompiledCircuit",
    "circuit_unitary",
    "compile_circuit",
]
