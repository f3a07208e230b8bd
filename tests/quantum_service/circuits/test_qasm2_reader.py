"""The fast OpenQASM 2 reader gives exactly the reference path's circuit, and operation limits
are checked before anything is expanded."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from quantum_service.circuits.gates import GATES
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.circuits.qasm import MAX_OPERATIONS, parse_qasm, parse_qasm_reference
from quantum_service.circuits.qasm.reader2 import OutsideSubset, read_openqasm2
from quantum_service.errors import InvalidProgramError

PE = ParameterExpression
HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'

# QASMBench-style definitions: parameter-free helpers, parametric and nested gates, two named
# like library gates with their bodies (rzz up to a global phase, cswap), one whose body differs
# from its namesake (swap).
DEFINITIONS = """// helpers in the style of QASMBench's adder and qaoa programs
gate majority a,b,c
{
  cx c,b;
  cx c,a;
  ccx a,b,c;
}
gate unmaj a,b,c { ccx a,b,c; cx c,a; cx a,b; }
gate zz(theta) a,b { cx a,b; u1(theta) b; cx a,b; }
gate rzz(theta) a,b { cx a,b; u1(theta) b; cx a,b; }
gate layer(theta, phi) a,b { zz(2*theta) a,b; u3(phi, -phi/2, pi/4) a; barrier a,b; ry(theta^2) b; }
gate block(t) a,b,c { layer(t, -t) a,b; majority a,b,c; layer(t/3, pi - t) c,a; barrier; }
gate cswap a,b,c { cx c,b; ccx a,b,c; cx c,b; }
gate swap a,b { cx a,b; }
"""

EXPRESSIONS = ["pi/2", "-pi/4", "0.125", "-3.5e-2", "2*pi/3 - 1/7", "sin(pi/6)", "cos(0.3)^2",
               "sqrt(2)/2", "exp(-0.5)", "ln(2)", "tan(pi/8)", "-(pi - 1)*2", "1e-3", ".5",
               "5.", "2^-1", "-2^2", "3*-pi/2", "((0.1 + 0.2) * 3) / 4"]


def qasmbench_style_program(seed: int, statements: int = 400) -> str:
    rng = random.Random(seed)
    one = [n for n, s in GATES.items() if s.qubit_count == 1]
    two = [n for n, s in GATES.items() if s.qubit_count == 2]
    lines = [HEADER + "/* generated\n   program */\n" + DEFINITIONS, "qreg q[6];", "qreg anc[6];",
             "creg c[6];", "creg d[2];"]

    def params(count: int) -> str:
        return f"({', '.join(rng.choice(EXPRESSIONS) for _ in range(count))})" if count else ""

    for _ in range(statements):
        a, b, c = rng.sample(range(6), 3)
        kind = rng.randrange(12)
        if kind < 3:
            name = rng.choice(one)
            lines.append(f"{name}{params(GATES[name].param_count)} q[{a}];")
        elif kind < 5:
            name = rng.choice(two)
            lines.append(f"{name}{params(GATES[name].param_count)} q[{a}],anc[{b}];")
        elif kind == 5:
            lines.append(f"u3({rng.uniform(-3, 3)!r},{rng.uniform(-3, 3)!r},"
                         f"{rng.uniform(-3, 3)!r}) anc[{a}];  // literal angles")
        elif kind == 6:
            lines.append(f"majority q[{a}],anc[{b}],q[{c}];")
        elif kind == 7:
            lines.append(f"block({rng.choice(EXPRESSIONS)}) q[{a}],q[{b}],anc[{c}];")
        elif kind == 8:
            lines.append(rng.choice(["h q;", "cx q,anc;", f"cx q[{a}],anc;", "zz(pi/3) q,anc;",
                                     f"rzz({rng.random()!r}) q[{a}],q[{b}];"]))
        elif kind == 9:
            lines.append(rng.choice([f"barrier q[{a}],anc;", "barrier q;", f"reset anc[{a}];",
                                     "reset q;", f"swap q[{a}],q[{b}];"]))
        elif kind == 10:
            lines.append(f"measure q[{a}] -> c[{b}];")
        else:
            lines.append(f"U({rng.choice(EXPRESSIONS)},0,pi) q[{a}]; CX q[{a}],q[{b}];")
    lines.append("measure anc -> c;\nmeasure q[0] -> d[1];")
    return "\n".join(lines) + "\n"


def fast(text: str) -> Circuit:
    return read_openqasm2(text)


PROGRAMS_OF_THE_SUITE = [
    HEADER + "qreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n",
    HEADER + "qreg q[3];\nh q[0];\nCX q[0],q[1];\ncx q[1],q[2];\n",
    'OPENQASM 2.0;\nqreg q[3];\nU(pi/2,0,pi) q[0];\nCX q[0],q[1];\nCX q[1],q[2];\n',
    HEADER + "qreg a[2];\ncreg c1[1];\nqreg b[3];\ncreg c2[2];\nx b[0];\n"
             "measure a[1] -> c2[1];\nmeasure b[2] -> c1[0];\n",
    ('OPENQASM 2.0;\nqreg q[2];\ngate bell(theta) a, b { U(theta, 0, pi) a; CX a, b; }\n'
     'bell(pi/2) q[0], q[1];\n'),
    "OPENQASM 2.0;\nqreg q[1];\ngate rz(t) a { u1(t) a; }\nrz(0.3) q[0];\n",
    HEADER + "qreg q[4];\n" + "\n".join(
        f"h q[{j}];\n" + "\n".join(f"cu1(pi/{2 ** (j - k)}) q[{k}],q[{j}];"
                                   for k in reversed(range(j)))
        for j in reversed(range(4))) + "\nswap q[0],q[3];\nswap q[1],q[2];\n",
]


@pytest.mark.parametrize("source", PROGRAMS_OF_THE_SUITE)
def test_fast_reader_equals_the_reference_on_the_suites_programs(source: str) -> None:
    assert fast(source) == parse_qasm_reference(source)
    assert parse_qasm(source, name="x") == parse_qasm_reference(source, name="x")


@pytest.mark.parametrize("seed", range(6))
def test_fast_reader_equals_the_reference_on_qasmbench_style_programs(seed: int) -> None:
    source = qasmbench_style_program(seed).replace("^", "*")  # the reference has no ^ (power)
    circuit = fast(source)
    reference = parse_qasm_reference(source)
    assert circuit.qubit_count == reference.qubit_count == 12
    assert circuit.clbit_count == reference.clbit_count == 8
    for ours, theirs in zip(circuit.operations, reference.operations, strict=True):
        assert (ours.name, ours.qubits, ours.clbits) == (theirs.name, theirs.qubits, theirs.clbits)
        assert ours.params == theirs.params  # bit-identical floats
    assert circuit == reference


def test_library_recognition_matches_the_reference() -> None:
    source = qasmbench_style_program(0, statements=0) + "qreg r[2];\nrzz(0.3) r[0],r[1];\n" \
        "swap r[0],r[1];\ncswap q[0],q[1],q[2];\n"
    circuit = fast(source)
    assert circuit == parse_qasm_reference(source)
    # rzz's body is the library rzz up to a global phase, cswap's is cswap exactly; swap's body
    # (one cx) differs from swap, so it is expanded
    gates = [op.name for op in circuit.operations if op.name != "measure"]
    assert gates == ["rzz", "cx", "cswap"]


def test_power_operator_of_openqasm2() -> None:
    circuit = parse_qasm(HEADER + "qreg q[1];\nrx(2^0.5) q[0];\nrx(-2^2) q[0];\nrx(2^-1^2) q[0];\n")
    assert [op.params[0].constant for op in circuit.operations] == [2 ** 0.5, -4.0, 0.5]


@pytest.mark.parametrize(("body", "reason", "fragments"), [
    ("foo q[0];", "UNKNOWN_GATE", ("line 4", "'foo'")),
    ("h q[5];", "INVALID_PROGRAM", ("line 4", "qubit index 5 is out of range")),
    ("h r[0];", "INVALID_PROGRAM", ("line 4", "'r' is not a declared qubit register")),
    ("cx q[0],q[0];", "INVALID_PROGRAM", ("line 4", "more than once")),
    ("rx(1/0) q[0];", "INVALID_PROGRAM", ("line 4", "division by zero")),
    ("rx(theta) q[0];", "INVALID_PROGRAM", ("line 4", "unknown identifier 'theta'")),
    ("\n\nopaque magic(t) a;", "UNSUPPORTED_QASM", ("line 6", "opaque")),
    ('include "mylib.inc";', "UNSUPPORTED_QASM", ("line 4", "mylib.inc")),
    ("gate g a { foo a; }", "UNKNOWN_GATE", ("line 4", "'foo'")),
    ("gate g(t) a { rx(t) a; }\n// comment\ng(0.1) q[0], q[1];", "INVALID_PROGRAM",
     ("line 6", "acts on 1 qubit(s), got 2")),
])
def test_fast_reader_errors_name_the_line(body: str, reason: str, fragments: tuple[str, ...]
                                           ) -> None:
    source = HEADER + "qreg q[2];\n" + body + "\n"
    with pytest.raises(InvalidProgramError) as info:
        fast(source)
    assert info.value.reason == reason, str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize("statement", [
    "if(c==1) x q[0];", "if (c == 1) rz(pi/2) q[1];", "if(c==0) measure q[1] -> c[0];",
    "if (c==1) reset q;", "if (c==1) cx q[0], q[1];",
])
def test_classical_control_gives_the_reference_circuit(statement: str) -> None:
    source = HEADER + "qreg q[2];\ncreg c[1];\nh q[0];\nmeasure q[0] -> c[0];\n" + statement + "\n"
    circuit = fast(source)
    assert circuit == parse_qasm_reference(source)
    assert all(op.condition is not None for op in circuit.operations[2:])


def test_classical_control_errors_match_the_reference() -> None:
    source = HEADER + "qreg q[2];\ncreg c[1];\nif(c==2) x q[0];\n"
    with pytest.raises(InvalidProgramError) as fast_error:
        fast(source)
    with pytest.raises(InvalidProgramError) as reference_error:
        parse_qasm_reference(source)
    assert "can never hold" in str(fast_error.value)
    assert "can never hold" in str(reference_error.value)
    assert "line 5" in str(fast_error.value) and "line 5" in str(reference_error.value)


@pytest.mark.parametrize("body", [
    "x q[-1];",  # an OpenQASM 3 index form
    "qubit[2] r;\nh r;",  # an OpenQASM 3 declaration
    "ctrl @ x q[0], q[1];",  # a modifier
])
def test_outside_the_subset_goes_to_the_reference_path(body: str) -> None:
    source = HEADER + "qreg q[2];\n" + body + "\n"
    with pytest.raises(OutsideSubset):
        fast(source)
    try:
        expected: Circuit | str = parse_qasm_reference(source)
    except InvalidProgramError as exc:
        expected = str(exc)
    try:
        got: Circuit | str = parse_qasm(source)
    except InvalidProgramError as exc:
        got = str(exc)
    assert got == expected


# --------------------------------------------------------------------------- limits


def nesting_bomb(depth: int, calls: int, *, version: str = "2.0") -> str:
    """``g{k}`` calls ``g{k-1}`` ``calls`` times: one call of ``g{depth}`` is
    ``2 * calls**depth`` gates."""
    definitions = ["gate g0 a, b { h a; cx a, b; }"] + [
        f"gate g{i + 1} a, b {{ {' '.join([f'g{i} b, a;'] * calls)} }}" for i in range(depth)]
    header = HEADER if version == "2.0" else 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
    return header + "qreg q[2];\n" + "\n".join(definitions) + f"\ng{depth} q[0], q[1];\n"


@pytest.mark.parametrize(("depth", "calls", "version"), [
    (18, 3, "2.0"), (24, 2, "2.0"), (400, 2, "2.0"), (18, 3, "3.0"), (60, 2, "3.0")])
def test_nesting_bomb_is_rejected_before_expansion(depth: int, calls: int, version: str) -> None:
    source = nesting_bomb(depth, calls, version=version)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidProgramError) as info:
            parse_qasm(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.reason == "PROGRAM_TOO_LARGE"
    message = str(info.value)
    assert f"line {depth + 5}" in message and f"gate 'g{depth}'" in message
    assert f"more than {MAX_OPERATIONS} operations" in message
    assert peak < 20 * 2**20  # nothing was expanded


def test_limit_counts_broadcast_and_earlier_operations() -> None:
    # 2 * 3**10 = 118 098 operations per call, under the limit once, over it on 9 qubit pairs
    bomb = nesting_bomb(10, 3).replace("qreg q[2];", "qreg q[9];\nqreg r[9];")
    with pytest.raises(InvalidProgramError) as info:
        parse_qasm(bomb.replace("g10 q[0], q[1];", "g10 q, r;"))
    assert info.value.reason == "PROGRAM_TOO_LARGE"
    # eight single calls fit; the ninth passes the limit with the earlier ones
    calls = "\n".join(f"g10 q[{i}], r[{i}];" for i in range(9))
    with pytest.raises(InvalidProgramError, match="line 24") as info:
        parse_qasm(bomb.replace("g10 q[0], q[1];", calls))
    assert info.value.reason == "PROGRAM_TOO_LARGE"


def test_a_large_definition_that_is_never_called_is_accepted() -> None:
    source = nesting_bomb(30, 2).replace("g30 q[0], q[1];", "g2 q[0], q[1];")
    circuit = parse_qasm(source)
    assert len(circuit.operations) == 2 * 2**2
    assert circuit == parse_qasm_reference(source)


def test_nested_expansion_just_under_the_limit_equals_the_reference() -> None:
    source = nesting_bomb(12, 2)  # 8192 operations
    circuit = fast(source)
    assert len(circuit.operations) == 2 * 2**12
    assert circuit == parse_qasm_reference(source)
    # g12 q[0], q[1] swaps the qubits twelve times down to g0: h q[0]; cx q[0], q[1]
    assert circuit.operations[:2] == (Operation("h", (0,)), Operation("cx", (0, 1)))


def test_comments_keep_line_numbers_and_nest_as_a_lexer_reads_them() -> None:
    source = (HEADER + "qreg q[2]; // a /* inside a line comment\n"
              "/* a block\n   over lines // with slashes */ h q[0];\n"
              "foo q[1];\n")
    with pytest.raises(InvalidProgramError, match="line 6") as info:
        fast(source)
    assert info.value.reason == "UNKNOWN_GATE"
    ok = source.replace("foo q[1];", "x q[1];")
    assert fast(ok) == parse_qasm_reference(ok)
    assert [op.name for op in fast(ok).operations] == ["h", "x"]
    with pytest.raises(OutsideSubset):
        fast(HEADER + "qreg q[1];\n/* never closed\nh q[0];\n")


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_integers_with_thousands_of_digits_are_rejected(version: str) -> None:
    digits = "9" * 5000
    for body in (f"qreg r[{digits}];", f"h q[{digits}];"):
        with pytest.raises(InvalidProgramError):
            parse_qasm(f"OPENQASM {version};\nqreg q[2];\n{body}\n")


def test_deeply_nested_parentheses_are_a_syntax_error() -> None:
    depth = 5000
    source = HEADER + f"qreg q[1];\nrx({'(' * depth}1{')' * depth}) q[0];\n"
    with pytest.raises(InvalidProgramError) as info:
        parse_qasm(source)
    assert info.value.reason == "QASM_SYNTAX_ERROR" and "line 4" in str(info.value)
