"""Qiskit circuits → qcore programs (OpenQASM 3 text and parameter rows).

A circuit whose parameters enter its gates affinely (``2*θ + 0.1``, ``-φ/2``: what qcore's
``input float[64]`` parameters accept) is sent once as a parametric program with one parameter
set per row, its inputs in ``circuit.parameters`` order (the order ``qasm3.dumps`` declares
them). Any other parametrised circuit is bound here and sent as one program per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit, qasm3
from qiskit.circuit import ParameterExpression

__all__ = ["QcorePrograms", "to_programs", "is_affine"]


@dataclass(frozen=True)
class QcorePrograms:
    """What one qcore job needs for a circuit and its parameter rows.

    Attributes:
        programs: OpenQASM 3 texts; one, or one per row when bound here.
        parameter_sets: float64 rows ``(m, k)`` for a parametric program, else ``None``.
        row_count: how many results (parameter rows) the job yields.
    """

    programs: tuple[str, ...]
    parameter_sets: np.ndarray | None
    row_count: int

    def experiment_index(self, row: int) -> tuple[int, int]:
        """``(program_index, parameter_set_index)`` of the experiment of ``row``."""
        return (0, row) if self.parameter_sets is not None else (row, 0)


def is_affine(circuit: QuantumCircuit) -> bool:
    """Whether every gate parameter is affine in the circuit's parameters (its derivatives are
    numbers)."""
    for instruction in circuit.data:
        for value in instruction.operation.params:
            if not isinstance(value, ParameterExpression):
                continue
            for parameter in value.parameters:
                derivative = value.gradient(parameter)
                if isinstance(derivative, ParameterExpression) and derivative.parameters:
                    return False
    return True


def to_programs(circuit: QuantumCircuit, rows: np.ndarray) -> QcorePrograms:
    """The programs and parameter sets evaluating ``circuit`` at each row of ``rows``.

    Args:
        circuit: a Qiskit circuit (measurements kept as written).
        rows: float64, shape ``(m, len(circuit.parameters))``, values in
            ``circuit.parameters`` order.
    Raises:
        ValueError: ``rows`` has the wrong width.
    """
    rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1) if len(rows) else \
        np.zeros((0, circuit.num_parameters))
    if rows.shape[1] != circuit.num_parameters:
        raise ValueError(f"{rows.shape[1]} parameter values per row for a circuit with "
                         f"{circuit.num_parameters} parameters")
    if circuit.num_parameters == 0:
        return QcorePrograms((qasm3.dumps(circuit),), None, max(1, rows.shape[0]))
    if is_affine(circuit):
        return QcorePrograms((qasm3.dumps(circuit),), rows, rows.shape[0])
    bound = tuple(qasm3.dumps(circuit.assign_parameters(row)) for row in rows)
    return QcorePrograms(bound, None, rows.shape[0])
