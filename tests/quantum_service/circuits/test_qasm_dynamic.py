"""OpenQASM 2/3 dynamic-circuit syntax: mid-circuit measure and reset, if/else conditions."""

from __future__ import annotations

import pytest

from quantum_service.circuits.ir import Circuit, Condition, Operation, ParameterExpression
from quantum_service.circuits.qasm import parse_qasm, parse_qasm_reference, to_qasm3
from quantum_service.errors import InvalidProgramError

Q3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[3] c;\nbit b;\n'
Q2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\ncreg d[1];\n'


def conditions(source: str) -> list[Condition | None]:
    return [op.condition for op in parse_qasm(source).operations]


def holding(condition: Condition, bits: int) -> set[int]:
    """Registers (over clbits 0..bits-1) for which ``condition`` holds."""
    return {r for r in range(1 << bits) if condition.holds(r)}


def test_condition_reads_its_bits_least_significant_first() -> None:
    condition = Condition((3, 1), frozenset({1}))  # bit 3 is the value's bit 0
    assert condition.holds(0b1000) and not condition.holds(0b0010)
    assert condition.inverted().holds(0b0010)
    with pytest.raises(InvalidProgramError, match="out of range"):
        Condition((0,), frozenset({2}))
    with pytest.raises(InvalidProgramError, match="1 to 64"):
        Condition(tuple(range(65)), frozenset({0}))
    with pytest.raises(InvalidProgramError, match="distinct"):
        Condition((1, 1), frozenset({0}))


def test_default_operation_has_no_condition() -> None:
    assert Operation("x", (0,)).condition is None


@pytest.mark.parametrize(("condition", "accepted"), [
    ("c[0]", {r for r in range(16) if r & 1}),
    ("!c[0]", {r for r in range(16) if not r & 1}),
    ("c == 3", {3, 11}),
    ("c != 3", set(range(16)) - {3, 11}),
    ("3 == c", {3, 11}),
    ("c", set(range(16)) - {0, 8}),
    ("c[0] && !c[1]", {r for r in range(16) if r & 1 and not r & 2}),
    ("c[0] || c[2]", {r for r in range(16) if r & 5}),
    ("c[0] == c[1]", {r for r in range(16) if (r & 1) == ((r >> 1) & 1)}),
    ("c[0] != b", {r for r in range(16) if (r & 1) != ((r >> 3) & 1)}),
    ("c[0] == true", {r for r in range(16) if r & 1}),
    ("c[1] == 0", {r for r in range(16) if not r & 2}),
    ("c[0:1] == 2", {r for r in range(16) if r & 3 == 2}),
    ("(c == 1 || c == 2) && !b", {1, 2}),
])
def test_openqasm3_conditions(condition: str, accepted: set[int]) -> None:
    source = Q3 + f"if ({condition}) x q[0];\n"
    (got,) = conditions(source)
    assert got is not None and holding(got, 4) == accepted


def test_else_is_the_negated_condition_and_nested_ifs_combine() -> None:
    source = Q3 + ("c[0] = measure q[0];\nb = measure q[1];\n"
                   "if (c[0]) { x q[1]; if (b) { h q[0]; } } else { reset q[1]; z q[0]; }\n")
    ops = parse_qasm(source).operations
    assert [op.name for op in ops] == ["measure", "measure", "x", "h", "reset", "z"]
    x, h, reset, z = (op.condition for op in ops[2:])
    assert holding(x, 4) == {r for r in range(16) if r & 1}
    assert holding(h, 4) == {r for r in range(16) if r & 1 and r & 8}
    assert holding(reset, 4) == holding(z, 4) == {r for r in range(16) if not r & 1}


def test_conditional_gate_calls_user_gates_measure_and_parameters() -> None:
    source = ('OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\nqubit[2] q;\n'
              "bit[2] c;\ngate g(a) x, y { rx(a) x; cx x, y; }\nc[0] = measure q[0];\n"
              "if (c[0]) { g(theta/2) q[0], q[1]; c[1] = measure q[1]; }\n")
    circuit = parse_qasm(source)
    ops = circuit.operations[1:]
    assert [op.name for op in ops] == ["rx", "cx", "measure"]
    assert ops[0].params == (ParameterExpression.symbol("theta") * 0.5,)
    assert len({op.condition for op in ops}) == 1 and ops[0].condition is not None
    assert circuit.is_dynamic


def test_openqasm3_measure_forms_mid_circuit() -> None:
    source = Q3 + ("bit e = measure q[0];\nc[1] = measure q[1];\nx q[0];\nreset q[1];\n"
                   "c[2] = measure q[0];\n")
    circuit = parse_qasm(source)
    assert [(op.name, op.clbits) for op in circuit.operations] == [
        ("measure", (4,)), ("measure", (1,)), ("x", ()), ("reset", ()), ("measure", (2,))]
    assert "mid-circuit measurement" in circuit.dynamic_feature()


def test_openqasm2_if_conditions_on_the_whole_register() -> None:
    source = Q2 + ("h q[0];\nmeasure q[0] -> c[0];\nif (c == 1) u1(pi/2) q[1];\n"
                   "if(c==2) measure q[1] -> d[0];\nif (d==1) reset q;\n"
                   "if (c == 3) cx q[0], q[1];\n")
    circuit = parse_qasm(source)
    assert circuit == parse_qasm_reference(source)
    ops = circuit.operations[2:]
    assert [op.name for op in ops] == ["u1", "measure", "reset", "reset", "cx"]
    assert ops[0].condition == Condition((0, 1), frozenset({1}))
    assert ops[2].condition == ops[3].condition == Condition((2,), frozenset({1}))


@pytest.mark.parametrize(("body", "fragment"), [
    ("if (c == 8) x q[0];", "can never hold"),
    ("if (c < 2) x q[0];", "is not supported"),
    ("if (q) x q[0];", "not a declared bit register"),
    ("if (c[5]) x q[0];", "out of range"),
    ("if (c[0]) { c[0] = measure q[0]; x q[1]; }", "measures into bit(s) [0]"),
    ("if (c[0]) { qubit r; }", "qubit declarations must be global"),
])
def test_openqasm3_condition_errors(body: str, fragment: str) -> None:
    with pytest.raises(InvalidProgramError) as info:
        parse_qasm(Q3 + body + "\n")
    assert fragment in str(info.value)
    assert "line 6" in str(info.value)


def test_truth_tables_are_bounded() -> None:
    header = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit q;\nbit[20] c;\n'
    wide = " && ".join(f"c[{i}]" for i in range(17))
    with pytest.raises(InvalidProgramError) as info:
        parse_qasm(header + f"if ({wide}) x q;\n")
    assert info.value.reason == "UNSUPPORTED_QASM" and "at most 16 bits" in str(info.value)
    fine = " && ".join(f"c[{i}]" for i in range(16))
    (op,) = parse_qasm(header + f"if ({fine}) x q;\n").operations
    assert op.condition.values == frozenset({(1 << 16) - 1})
    (op,) = parse_qasm(header + "if (c == 5) x q;\n").operations  # a register: no table
    assert op.condition.clbits == tuple(range(20))


def test_openqasm2_if_errors() -> None:
    with pytest.raises(InvalidProgramError, match="'e' is not a declared bit register"):
        parse_qasm(Q2 + "if (e == 1) x q[0];\n")
    with pytest.raises(InvalidProgramError, match="can never hold"):
        parse_qasm(Q2 + "if (c == 4) x q[0];\n")


def test_conditions_round_trip_through_openqasm3() -> None:
    cond_a = Condition((0, 1), frozenset({1, 2}))
    cond_b = Condition((2,), frozenset({1}), negated=True)
    cond_c = Condition((0, 2), frozenset({1}))
    circuit = Circuit(2, (Operation("h", (0,)), Operation("measure", (0,), (), (0,)),
                          Operation("x", (1,), (), (), cond_a),
                          Operation("measure", (1,), (), (2,), cond_b),
                          Operation("reset", (0,), (), (), cond_c),
                          Operation("rz", (1,), (ParameterExpression(0.5),), (), cond_b)),
                      clbit_count=3)
    back = parse_qasm(to_qasm3(circuit))
    assert [op.condition for op in back.operations] == [op.condition for op in circuit.operations]
