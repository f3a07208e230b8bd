"""Compiling dynamic circuits (mid-circuit measurement, reset, classical feed-forward).

Semantics are checked exactly: :func:`outcome_distribution` enumerates every measurement branch
of a circuit (plain NumPy state vectors), so the compiled and the source circuit must give the
same distribution of classical registers to rounding. The reference simulator itself is checked
against Qiskit Aer on the programs of ``tests/data/dynamic``; :func:`aer_reference_distribution`
gives Aer's counts for any circuit of the IR (reusable by engine tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantum_service.circuits.gates import gate_matrix
from quantum_service.circuits.ir import Circuit, Condition, Operation, ParameterExpression
from quantum_service.circuits.qasm import parse_qasm
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.compiler.measurement import split_terminal_measurements
from quantum_service.compiler.operations import gate_depth
from quantum_service.compiler.optimize import peephole
from tests.quantum_service.compiler.compiler_helpers import GRID_2X3, LINE_6, NATIVE_SETS

DATA = Path(__file__).resolve().parents[2] / "data" / "dynamic"
PROGRAMS = sorted(p.name for p in DATA.glob("*.qasm"))
_PE = ParameterExpression

# -- the exact per-shot reference -----------------------------------------------------------


def _apply(state: np.ndarray, n: int, matrix: np.ndarray, qubits: tuple[int, ...]
           ) -> np.ndarray:
    """``matrix`` (first listed qubit most significant) on ``qubits`` of a state vector whose
    index bit ``q`` is qubit ``q``."""
    k = len(qubits)
    axes = [n - 1 - q for q in qubits]
    tensor = np.tensordot(matrix.reshape((2,) * (2 * k)), state.reshape((2,) * n),
                          axes=(list(range(k, 2 * k)), axes))
    return np.moveaxis(tensor, list(range(k)), axes).reshape(-1)


def _project(state: np.ndarray, qubit: int, outcome: int) -> tuple[float, np.ndarray]:
    bits = (np.arange(state.size) >> qubit) & 1
    kept = np.where(bits == outcome, state, 0)
    p = float(np.vdot(kept, kept).real)
    return p, (kept / np.sqrt(p) if p > 0 else kept)


def outcome_distribution(circuit: Circuit, *, cutoff: float = 1e-14) -> dict[int, float]:
    """The exact distribution of the classical register (bit ``c`` = clbit ``c``) at the end of
    a shot, by enumerating every measurement branch. ``reset`` is a measurement whose outcome
    is dropped followed by ``x`` on outcome 1; conditions read the branch's register."""
    n = circuit.qubit_count
    start = np.zeros(2 ** n, dtype=np.complex128)
    start[0] = 1.0
    branches: list[tuple[float, np.ndarray, int]] = [(1.0, start, 0)]
    x = gate_matrix("x", [])
    for op in circuit.operations:
        if op.name == "barrier":
            continue
        nxt: list[tuple[float, np.ndarray, int]] = []
        for weight, state, register in branches:
            if op.condition is not None and not op.condition.holds(register):
                nxt.append((weight, state, register))
                continue
            if op.name in ("measure", "reset"):
                split = [(weight, state, register)]
                for i, q in enumerate(op.qubits):
                    grown = []
                    for w, s, r in split:
                        for outcome in (0, 1):
                            p, projected = _project(s, q, outcome)
                            if w * p <= cutoff:
                                continue
                            if op.name == "measure":
                                c = op.clbits[i]
                                grown.append((w * p, projected, (r & ~(1 << c)) | (outcome << c)))
                            else:
                                grown.append((w * p, _apply(projected, n, x, (q,))
                                              if outcome else projected, r))
                    split = grown
                nxt.extend(split)
                continue
            matrix = gate_matrix(op.name, [p.constant for p in op.params])
            nxt.append((weight, _apply(state, n, matrix, op.qubits), register))
        branches = nxt
    distribution: dict[int, float] = {}
    for weight, _, register in branches:
        distribution[register] = distribution.get(register, 0.0) + weight
    return distribution


def assert_same_distribution(a: dict[int, float], b: dict[int, float], atol: float = 1e-9
                             ) -> None:
    keys = set(a) | set(b)
    worst = max(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)
    assert worst < atol, (worst, sorted(a.items())[:8], sorted(b.items())[:8])


# -- Qiskit Aer reference -------------------------------------------------------------------


def to_qiskit(circuit: Circuit):
    """The circuit as a Qiskit ``QuantumCircuit``; a :class:`Condition` becomes an ``if_test``
    on a classical expression over a register aliasing its bits."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit.classical import expr
    from qiskit.circuit.library import get_standard_gate_name_mapping

    gates = get_standard_gate_name_mapping()
    aliases = {"u1": "p", "cu1": "cp", "cphase": "cp", "phase": "p", "u3": "u"}
    qreg, creg = QuantumRegister(circuit.qubit_count, "q"), ClassicalRegister(
        max(circuit.clbit_count, 1), "c")
    qc = QuantumCircuit(qreg, creg)
    registers: dict[tuple[int, ...], ClassicalRegister] = {}

    def condition_expr(condition: Condition):
        key = condition.clbits
        if key not in registers:
            registers[key] = ClassicalRegister(bits=[creg[c] for c in key],
                                               name=f"k{len(registers)}")
            qc.add_register(registers[key])
        reg = registers[key]
        terms = [expr.equal(reg, v) for v in sorted(condition.values)]
        test = terms[0] if terms else expr.lift(False)
        for term in terms[1:]:
            test = expr.logic_or(test, term)
        return expr.logic_not(test) if condition.negated else test

    def emit(target, op: Operation) -> None:
        qubits = [qreg[q] for q in op.qubits]
        if op.name == "measure":
            for q, c in zip(op.qubits, op.clbits):
                target.measure(qreg[q], creg[c])
        elif op.name == "reset":
            for q in qubits:
                target.reset(q)
        elif op.name == "barrier":
            target.barrier(*qubits)
        else:
            gate = gates[aliases.get(op.name, op.name)]
            params = [p.constant for p in op.params]
            target.append(type(gate)(*params) if params else gate, qubits)

    for op in circuit.operations:
        if op.condition is None:
            emit(qc, op)
        else:
            with qc.if_test(condition_expr(op.condition)):
                emit(qc, op)
    return qc


def aer_reference_distribution(circuit: Circuit, *, shot_count: int = 40_000, seed: int = 7
                               ) -> dict[int, float]:
    """Qiskit Aer's outcome frequencies of ``circuit`` (register as an int, bit ``c`` = clbit
    ``c``), from ``shot_count`` seeded shots of ``AerSimulator(method="statevector")``."""
    from qiskit_aer import AerSimulator

    qc = to_qiskit(circuit)
    simulator = AerSimulator(method="statevector", seed_simulator=seed)
    counts = simulator.run(qc, shots=shot_count).result().get_counts()
    out: dict[int, float] = {}
    for key, count in counts.items():
        value = int(key.replace(" ", "")[-max(circuit.clbit_count, 1):], 2)
        out[value] = out.get(value, 0.0) + count / shot_count
    return out


def load(name: str) -> Circuit:
    return parse_qasm((DATA / name).read_text(), name=name)


# -- compiler semantics ---------------------------------------------------------------------

TARGETS = {
    "line6_sc": CompileTarget(qubit_count=6, native_gates=NATIVE_SETS["superconducting"],
                              coupling_map=LINE_6),
    "grid_ion": CompileTarget(qubit_count=6, native_gates=NATIVE_SETS["trapped_ion"],
                              coupling_map=GRID_2X3),
    "all_na": CompileTarget(qubit_count=8, native_gates=NATIVE_SETS["neutral_atom"]),
}


@pytest.mark.parametrize("program", [p for p in PROGRAMS if p != "bb84_n8.qasm"])
@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("level", [0, 1, 3])
def test_compiled_dynamic_programs_keep_their_outcome_distribution(program: str, target: str,
                                                                   level: int) -> None:
    circuit = load(program)
    compiled = compile_circuit(circuit, TARGETS[target], optimization_level=level)
    assert_same_distribution(outcome_distribution(compiled.circuit),
                             outcome_distribution(circuit))
    natives = TARGETS[target].native_gates | {"measure", "reset", "swap"}
    assert {op.name for op in compiled.circuit.operations} <= natives | {"barrier"}
    assert all(op.condition is None for op in compiled.circuit.operations if op.name == "swap")


def test_bb84_compiles_on_a_line_with_its_distribution() -> None:
    circuit = load("bb84_n8.qasm")
    target = CompileTarget(qubit_count=8, native_gates=NATIVE_SETS["superconducting"],
                           coupling_map=tuple((i, i + 1) for i in range(7)))
    compiled = compile_circuit(circuit, target, optimization_level=3)
    assert_same_distribution(outcome_distribution(compiled.circuit),
                             outcome_distribution(circuit))


def _feed_forward_far_apart() -> Circuit:
    """A measurement on qubit 0 whose bit conditions a CX between qubits 3 and 5 of a line, with
    gates that routing and optimisation would like to move or merge around it."""
    cond = Condition((0,), frozenset({1}))
    ops = (
        Operation("h", (0,)), Operation("ry", (3,), (_PE(0.9),)),
        Operation("cx", (0, 5)),
        Operation("measure", (0,), (), (0,)),
        Operation("x", (3,), (), (), cond),
        Operation("x", (3,)),  # must not cancel with the conditional x
        Operation("cx", (3, 5), (), (), cond),
        Operation("rz", (5,), (_PE(0.4),), (), cond),
        Operation("rz", (5,), (_PE(-0.4),)),  # must not merge with the conditional rz
        Operation("reset", (0,)),
        Operation("h", (0,)),
        Operation("cx", (0, 3), (), (), Condition((0, 1), frozenset({1, 3}))),
        Operation("measure", (0,), (), (1,)),
        Operation("measure", (3,), (), (2,)),
        Operation("measure", (5,), (), (3,)),
    )
    return Circuit(6, ops, clbit_count=4)


@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.parametrize("natives", ["superconducting", "trapped_ion", "neutral_atom"])
def test_conditional_gates_route_and_decompose_into_conditional_natives(level: int,
                                                                        natives: str) -> None:
    circuit = _feed_forward_far_apart()
    target = CompileTarget(qubit_count=6, native_gates=NATIVE_SETS[natives],
                           coupling_map=LINE_6)
    compiled = compile_circuit(circuit, target, optimization_level=level)
    assert_same_distribution(outcome_distribution(compiled.circuit),
                             outcome_distribution(circuit))
    ops = compiled.circuit.operations
    first_measure = next(i for i, op in enumerate(ops) if op.name == "measure")
    conditional = [i for i, op in enumerate(ops) if op.condition is not None]
    assert conditional and min(conditional) > first_measure
    assert all(op.name != "swap" for op in ops if op.condition is not None)
    two_qubit = [op for op in ops if op.condition is not None and len(op.qubits) == 2]
    assert two_qubit and all(abs(a - b) == 1 for op in two_qubit for a, b in [op.qubits])


def test_the_condition_of_a_decomposed_gate_is_on_every_native_gate() -> None:
    cond = Condition((0,), frozenset({1}))
    circuit = Circuit(2, (Operation("h", (0,)), Operation("measure", (0,), (), (0,)),
                          Operation("cp", (0, 1), (_PE(0.7),), (), cond),
                          Operation("u", (1,), (_PE(0.3), _PE(0.2), _PE(0.1)), (), cond),
                          Operation("measure", (1,), (), (1,))), clbit_count=2)
    target = CompileTarget(qubit_count=2, native_gates=NATIVE_SETS["superconducting"],
                           coupling_map=((0, 1),))
    compiled = compile_circuit(circuit, target, optimization_level=1).circuit
    gates = [op for op in compiled.operations if op.name not in ("measure", "reset")]
    after = gates[[op.condition for op in gates].index(cond):]
    assert len(after) > 2 and all(op.condition == cond for op in after)


def test_symbolic_conditional_gates_stay_symbolic_and_conditional() -> None:
    cond = Condition((0,), frozenset({1}), negated=True)
    theta = _PE.symbol("theta")
    circuit = Circuit(2, (Operation("h", (0,)), Operation("measure", (0,), (), (0,)),
                          Operation("crx", (0, 1), (theta,), (), cond),
                          Operation("measure", (1,), (), (1,))), clbit_count=2)
    target = CompileTarget(qubit_count=2, native_gates=NATIVE_SETS["trapped_ion"])
    compiled = compile_circuit(circuit, target).circuit
    symbolic = [op for op in compiled.operations if op.is_parametric]
    assert symbolic and all(op.condition == cond for op in symbolic)
    for value in (0.3, 2.1):
        assert_same_distribution(outcome_distribution(compiled.bind([value])),
                                 outcome_distribution(circuit.bind([value])))


def test_a_measure_whose_bit_is_read_or_rewritten_later_is_not_terminal() -> None:
    cond = Condition((0,), frozenset({1}))
    ops = [Operation("h", (0,)), Operation("measure", (0,), (), (0,)),
           Operation("x", (1,), (), (), cond),
           Operation("h", (2,)), Operation("measure", (2,), (), (1,)),
           Operation("measure", (1,), (), (1,))]
    kept, terminal = split_terminal_measurements(ops)
    assert Operation("measure", (0,), (), (0,)) in kept  # read by the condition
    assert Operation("measure", (2,), (), (1,)) in kept  # its bit is written again
    assert terminal == [Operation("measure", (1,), (), (1,))]


def test_peephole_never_merges_across_or_with_a_conditional_operation() -> None:
    cond = Condition((0,), frozenset({1}))
    ops = [Operation("x", (1,)), Operation("x", (1,), (), (), cond), Operation("x", (1,)),
           Operation("rz", (1,), (_PE(0.3),), (), cond), Operation("rz", (1,), (_PE(0.3),), (),
                                                                   cond)]
    assert peephole(ops) == ops


def test_depth_orders_a_conditional_gate_after_the_measurement_it_reads() -> None:
    cond = Condition((0,), frozenset({1}))
    ops = [Operation("h", (0,)), Operation("h", (0,)), Operation("measure", (0,), (), (0,)),
           Operation("x", (1,), (), (), cond)]
    assert gate_depth(ops) == 3
    assert Circuit(2, tuple(ops), clbit_count=1).gate_count == 3


# -- the reference simulator against Qiskit Aer ----------------------------------------------

@pytest.mark.parametrize("program", [
    pytest.param(p, marks=pytest.mark.slow) if p == "bb84_n8.qasm" else p for p in PROGRAMS])
def test_reference_distribution_matches_qiskit_aer(program: str) -> None:
    pytest.importorskip("qiskit_aer")
    circuit = load(program)
    exact = outcome_distribution(circuit)
    shots = 40_000
    sampled = aer_reference_distribution(circuit, shot_count=shots)
    keys = set(exact) | set(sampled)
    # 5 standard deviations of a binomial frequency, per outcome
    for key in keys:
        p = exact.get(key, 0.0)
        sigma = np.sqrt(max(p * (1 - p), 1.0 / shots) / shots)
        assert abs(sampled.get(key, 0.0) - p) < 5 * sigma + 1e-12, (program, key, p,
                                                                    sampled.get(key))


def test_teleportation_delivers_the_state() -> None:
    circuit = load("teleport_n3.qasm")
    out = 2  # clbits: m[0], m[1], out, flag (declaration order)
    p_one = sum(p for r, p in outcome_distribution(circuit).items() if (r >> out) & 1)
    assert p_one == pytest.approx(np.sin(0.35) ** 2, abs=1e-12)


def test_qec_round_corrects_the_flip_it_detects() -> None:
    distribution = outcome_distribution(load("qec_sm_n5.qasm"))
    # after correction the second syndrome (bits 2, 3) is trivial
    assert sum(p for r, p in distribution.items() if (r >> 2) & 3) == pytest.approx(0, abs=1e-12)
