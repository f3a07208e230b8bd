"""Gate definitions of the fast OpenQASM 2 reader, compiled once and expanded per call.

A definition is compiled into steps (callee, compiled argument expressions, positions of the
callee's qubits among the definition's), with the operation count of one call computed from its
callees' counts when it is defined (bottom-up, so nothing is expanded to count it). A
parameter-free body is expanded once into a template relabelled per call; a parametric one is
expanded straight onto each call's qubits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from quantum_service.circuits.gates import GATES, gate_matrix
from quantum_service.circuits.ir import Operation, ParameterExpression
from quantum_service.circuits.qasm.expressions2 import Evaluator
from quantum_service.circuits.qasm.library_match import same_unitary, sample_arguments
from quantum_service.circuits.qasm_library import unitary
from quantum_service.errors import InvalidProgramError

__all__ = ["PI_SCOPE", "Fixed", "GateDefinition", "Step", "fixed_arguments", "library_gate"]

_PE = ParameterExpression
#: The names every OpenQASM 2 expression may use.
PI_SCOPE = {"pi": math.pi}

# A step of a definition's body: (callee, argument evaluators, positions of its qubits among the
# definition's qubits, (values, params) when no argument depends on the definition's
# parameters, else None). The callee is a library gate name, "barrier", or a definition.
Fixed = tuple[tuple[float, ...], tuple[ParameterExpression, ...]]
Step = tuple["str | GateDefinition", tuple[Evaluator, ...], tuple[int, ...], "Fixed | None"]
# A definition expanded on its own qubits 0, 1, ...: (name, positions, params) per operation.
_Template = list[tuple[str, tuple[int, ...], tuple[ParameterExpression, ...]]]


@dataclass(slots=True)
class GateDefinition:
    """One ``gate`` definition: its signature, compiled body and operation count."""

    name: str
    params: tuple[str, ...]
    qubits: tuple[str, ...]
    steps: list[Step]
    #: Operations one call expands to (saturating at SATURATED_COUNT).
    size: int
    #: An error in the body, raised at each call (a body without parameters raises it at its
    #: definition).
    error: InvalidProgramError | None = None
    #: Set when the body equals this library gate; calls are then that one gate.
    library_name: str | None = None
    expansions: dict[tuple[float, ...], _Template] = field(default_factory=dict)

    def template(self, args: tuple[float, ...]) -> _Template:
        """The body on qubits ``0, 1, ...`` with the parameters bound to ``args``; kept per
        ``args`` for the program's lifetime (callers keep only parameter-free ones, checked
        against MAX_OPERATIONS before, so the kept templates stay within the circuit's size)."""
        cached = self.expansions.get(args)
        if cached is None:
            ops: list[Operation] = []
            self.expand_steps(ops, args, tuple(range(len(self.qubits))))
            cached = self.expansions[args] = [(op.name, op.qubits, op.params) for op in ops]
        return cached

    def expand_into(self, out: list[Operation], args: tuple[float, ...],
                    qubits: tuple[int, ...]) -> None:
        """Appends the body's operations on ``qubits`` with the parameters bound to ``args``.

        A parameter-free body is relabelled from its kept template; a parametric one is
        expanded step by step straight onto ``qubits``, each operation created once.
        """
        if not self.params:
            out.extend([Operation(name, tuple([qubits[p] for p in positions]), params)
                        for name, positions, params in self.template(())])
        else:
            self.expand_steps(out, args, qubits)

    def expand_steps(self, out: list[Operation], args: tuple[float, ...],
                     qubits: tuple[int, ...]) -> None:
        """:meth:`expand_into` without the kept template: evaluates every step."""
        env = dict(PI_SCOPE)
        env.update(zip(self.params, args))
        for callee, evaluators, positions, fixed in self.steps:
            if fixed is None:
                values = tuple([evaluate(env) for evaluate in evaluators])
                params = tuple(map(_PE, values))
            else:
                values, params = fixed
            mapped = tuple([qubits[p] for p in positions])
            if isinstance(callee, str):
                out.append(Operation(callee, mapped, params))
            elif callee.library_name is not None:
                out.append(Operation(callee.library_name, mapped, params))
            else:
                callee.expand_into(out, values, mapped)


def fixed_arguments(evaluators: Sequence[Evaluator]) -> Fixed | None:
    """The values and parameters of arguments that use no gate parameter (only ``pi``), found
    once at the definition; ``None`` when one uses a parameter or fails (then the error is
    raised at the calls, as the reference path raises it)."""
    try:
        values = tuple(evaluate(PI_SCOPE) for evaluate in evaluators)
    except (KeyError, InvalidProgramError):
        return None
    return values, tuple(map(_PE, values))


def library_gate(definition: GateDefinition) -> str | None:
    """The library gate this definition equals (up to global phase), if any."""
    spec = GATES.get(definition.name)
    if spec is None or (spec.qubit_count, spec.param_count) != (len(definition.qubits),
                                                                len(definition.params)):
        return None
    local = tuple(range(len(definition.qubits)))
    for sample in sample_arguments(len(definition.params)):
        try:
            template = definition.template(tuple(sample))
        except InvalidProgramError:
            return None
        ops = [Operation(name, positions, params) for name, positions, params in template]
        if not same_unitary(unitary(ops, local), gate_matrix(definition.name, sample),
                            up_to_phase=True):
            return None
    definition.expansions.clear()
    return definition.name
