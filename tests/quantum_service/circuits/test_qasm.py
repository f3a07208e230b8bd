"""OpenQASM 2/3 → Circuit translation and Circuit → OpenQASM 3 export.

Unitaries are checked against references built here with plain NumPy (an index-scatter
embedding of each gate matrix, itself checked against ``np.kron``) and against textbook values
(Bell/GHZ states, the DFT matrix for the QFT).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from quantum_service.circuits.gates import GATES, gate_matrix
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.circuits.qasm import parse_qasm, to_qasm3
from quantum_service.circuits.qasm_library import QASM3_DEFINITIONS, zyz_angles
from quantum_service.errors import InvalidProgramError

PE = ParameterExpression
SAMPLE_PARAMS = (0.3, -1.1, 0.7, 0.25)
I2 = np.eye(2)
H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
X = np.array([[0, 1], [1, 0]])
CX_TEXTBOOK = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])


# --------------------------------------------------------------------------- references


def embed(matrix: np.ndarray, qubits: tuple[int, ...], n: int) -> np.ndarray:
    """``matrix`` (first listed qubit = most significant) on ``qubits`` of ``n`` qubits,
    qubit 0 the least-significant bit of the basis index."""
    k = len(qubits)
    mask = sum(1 << q for q in qubits)
    full = np.zeros((2**n, 2**n), dtype=complex)
    for column in range(2**n):
        local_in = sum(((column >> q) & 1) << (k - 1 - i) for i, q in enumerate(qubits))
        for local_out in range(2**k):
            row = (column & ~mask) | sum(((local_out >> (k - 1 - i)) & 1) << q
                                         for i, q in enumerate(qubits))
            full[row, column] += matrix[local_out, local_in]
    return full


def circuit_unitary(circuit: Circuit) -> np.ndarray:
    n = circuit.qubit_count
    total = np.eye(2**n, dtype=complex)
    for op in circuit.operations:
        if op.name == "barrier":
            continue
        assert op.name not in ("measure", "reset"), op
        total = embed(gate_matrix(op.name, [p.constant for p in op.params]), op.qubits, n) @ total
    return total


def controlled(matrix: np.ndarray) -> np.ndarray:
    d = matrix.shape[0]
    return np.block([[np.eye(d), np.zeros((d, d))], [np.zeros((d, d)), matrix]])


def same_up_to_phase(a: np.ndarray, b: np.ndarray) -> bool:
    i = np.argmax(np.abs(b))
    return bool(np.allclose(a * (b.flat[i] / a.flat[i]), b, atol=1e-10))


def program3(qubits: int, body: str, *, header: str = "") -> str:
    return f'OPENQASM 3.0;\ninclude "stdgates.inc";\n{header}qubit[{qubits}] q;\n{body}\n'


def call(name: str, qubits: int, *, prefix: str = "", params: tuple[float, ...] = ()) -> str:
    args = f"({', '.join(map(repr, params))})" if params else ""
    return f"{prefix}{name}{args} {', '.join(f'q[{i}]' for i in range(qubits))};"


def test_embed_matches_kron() -> None:
    assert np.allclose(embed(H, (0,), 2), np.kron(I2, H))
    assert np.allclose(embed(H, (1,), 2), np.kron(H, I2))
    assert np.allclose(embed(CX_TEXTBOOK, (1, 0), 2), CX_TEXTBOOK)
    swap = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
    assert np.allclose(embed(CX_TEXTBOOK, (0, 1), 2), swap @ CX_TEXTBOOK @ swap)
    assert np.allclose(embed(X, (1,), 3), np.kron(np.kron(I2, X), I2))


# --------------------------------------------------------------------------- programs

BELL_2 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0],q[1];
measure q -> c;
"""

BELL_3 = """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;
"""


@pytest.mark.parametrize("source", [BELL_2, BELL_3])
def test_bell_program_prepares_bell_state(source: str) -> None:
    circuit = parse_qasm(source, name="bell")
    assert (circuit.qubit_count, circuit.clbit_count, circuit.name) == (2, 2, "bell")
    assert [op.name for op in circuit.operations] == ["h", "cx", "measure", "measure"]
    assert circuit.operations[1].qubits == (0, 1)
    assert [(op.qubits, op.clbits) for op in circuit.operations[2:]] == [((0,), (0,)),
                                                                        ((1,), (1,))]
    gates = circuit.with_operations(op for op in circuit.operations if op.name != "measure")
    state = circuit_unitary(gates)[:, 0]
    assert np.allclose(state, np.array([1, 0, 0, 1]) / np.sqrt(2))


@pytest.mark.parametrize("source", [
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\nh q[0];\nCX q[0],q[1];\ncx q[1],q[2];\n',
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nh q[0];\nctrl @ x q[0], q[1];\n'
    'cx q[1], q[2];\n',
    # the OpenQASM 2 builtin U: U(π/2, 0, π) is a Hadamard
    'OPENQASM 2.0;\nqreg q[3];\nU(pi/2,0,pi) q[0];\nCX q[0],q[1];\nCX q[1],q[2];\n',
])
def test_ghz_program_prepares_ghz_state(source: str) -> None:
    state = circuit_unitary(parse_qasm(source))[:, 0]
    expected = np.zeros(8)
    expected[[0, 7]] = 1 / np.sqrt(2)
    assert np.allclose(state, expected)


def qft_program(n: int) -> str:
    lines = ['OPENQASM 2.0;', 'include "qelib1.inc";', f'qreg q[{n}];']
    for j in reversed(range(n)):
        lines.append(f"h q[{j}];")
        for k in reversed(range(j)):
            lines.append(f"cu1(pi/{2 ** (j - k)}) q[{k}],q[{j}];")
    lines += [f"swap q[{i}],q[{n - 1 - i}];" for i in range(n // 2)]
    return "\n".join(lines)


def test_qft_from_qelib1_gates_is_the_dft_matrix() -> None:
    n = 3
    circuit = parse_qasm(qft_program(n))
    omega = np.exp(2j * np.pi / 2**n)
    dft = np.array([[omega ** (a * b) for b in range(2**n)] for a in range(2**n)]) / np.sqrt(2**n)
    assert np.allclose(circuit_unitary(circuit), dft)
    assert circuit.operations[1] == Operation("cu1", (1, 2), (PE(math.pi / 2),))


# --------------------------------------------------------------------------- registers


def test_registers_are_flattened_in_declaration_order() -> None:
    circuit = parse_qasm("""OPENQASM 2.0;
include "qelib1.inc";
qreg a[2];
creg c1[1];
qreg b[3];
creg c2[2];
x b[0];
measure a[1] -> c2[1];
measure b[2] -> c1[0];
""")
    assert (circuit.qubit_count, circuit.clbit_count) == (5, 3)
    assert circuit.operations == (
        Operation("x", (2,)),
        Operation("measure", (1,), clbits=(2,)),
        Operation("measure", (4,), clbits=(0,)),
    )


def test_qasm3_declarations_single_qubits_bits_and_measure_forms() -> None:
    circuit = parse_qasm("""OPENQASM 3.0;
include "stdgates.inc";
qubit r;
qubit[2] q;
bit b;
bit[2] c;
output bit o;
x r;
b = measure r;
c[1] = measure q[0];
measure q[1] -> c[0];
bit[2] d = measure q;
measure r -> o;
""")
    assert (circuit.qubit_count, circuit.clbit_count) == (3, 6)
    measured = [(op.qubits[0], op.clbits[0]) for op in circuit.operations if op.name == "measure"]
    assert measured == [(0, 0), (1, 2), (2, 1), (1, 4), (2, 5), (0, 3)]


def test_physical_qubits_set_the_width() -> None:
    circuit = parse_qasm("OPENQASM 3.0;\nbit[1] c;\nh $0;\ncx $0, $3;\nc[0] = measure $3;\n")
    assert circuit.qubit_count == 4
    assert circuit.operations[:2] == (Operation("h", (0,)), Operation("cx", (0, 3)))


def test_broadcasting_indexing_ranges_and_sets() -> None:
    circuit = parse_qasm(program3(3, """qubit[3] r;
bit[3] c;
h q;
cx q, r;
cx q[0], r;
x q[0:1];
z r[{2, 0}];
y q[-1];
s q[0:2:2];
reset r[1:];
measure q -> c;
barrier q[0], r;
barrier;"""))
    names = [(op.name, op.qubits) for op in circuit.operations]
    assert names[:3] == [("h", (0,)), ("h", (1,)), ("h", (2,))]
    assert names[3:9] == [("cx", (0, 3)), ("cx", (1, 4)), ("cx", (2, 5)),
                          ("cx", (0, 3)), ("cx", (0, 4)), ("cx", (0, 5))]
    assert names[9:16] == [("x", (0,)), ("x", (1,)), ("z", (5,)), ("z", (3,)), ("y", (2,)),
                           ("s", (0,)), ("s", (2,))]
    assert names[16:18] == [("reset", (4,)), ("reset", (5,))]
    assert [op.clbits for op in circuit.operations[18:21]] == [(0,), (1,), (2,)]
    assert names[21:] == [("barrier", (0, 3, 4, 5)), ("barrier", tuple(range(6)))]


# --------------------------------------------------------------------------- parameters


def test_symbolic_inputs_give_affine_parameter_expressions() -> None:
    circuit = parse_qasm(program3(1, """rx(pi/2 + 2*theta) q[0];
rz(-theta/2) q[0];
ry(theta - alpha) q[0];
p(3 * (alpha + 1) - theta * 0.5) q[0];
rx((theta + alpha) / 4 - (alpha - theta)) q[0];
U(theta, -alpha, τ/4) q[0];""", header="input float[64] theta;\ninput angle alpha;\n"))
    assert circuit.parameters == ("theta", "alpha")  # declaration order, not sorted
    params = [op.params for op in circuit.operations]
    assert params[0] == (PE(math.pi / 2, (("theta", 2.0),)),)
    assert params[1] == (PE(0.0, (("theta", -0.5),)),)
    assert params[2] == (PE(0.0, (("alpha", -1.0), ("theta", 1.0))),)
    assert params[3] == (PE(3.0, (("alpha", 3.0), ("theta", -0.5))),)
    assert params[4] == (PE(0.0, (("alpha", -0.75), ("theta", 1.25))),)
    assert params[5] == (PE.symbol("theta"), PE(0.0, (("alpha", -1.0),)), PE(math.tau / 4))
    assert circuit.operations[5].name == "u"
    bound = circuit.bind({"theta": 0.4, "alpha": -0.2})
    assert bound.operations[3].params[0].constant == pytest.approx(3 * 0.8 - 0.2)


def test_constants_consts_and_functions_are_evaluated() -> None:
    circuit = parse_qasm(program3(1, """const float half = pi / 2;
const int n = 3;
rx(half) q[0];
rx(tau - π + euler - ℇ) q[0];
rx(sin(pi/6) + cos(0) + sqrt(4) + exp(0) + ln(1) + arctan(1)) q[0];
rx(2 ** n % 5) q[0];
rx(-(-n)) q[0];"""))
    values = [op.params[0].constant for op in circuit.operations]
    assert values == pytest.approx([math.pi / 2, math.pi, 0.5 + 1 + 2 + 1 + 0 + math.pi / 4,
                                    3.0, 3.0])
    assert all(not op.is_parametric for op in circuit.operations)


# --------------------------------------------------------------------------- gate definitions


def test_nested_user_gates_with_parameters_expand_inline() -> None:
    circuit = parse_qasm(program3(2, """gate rot(a, b) x { rz(a) x; ry(b/2 - a) x; }
gate layer(t) x, y { rot(t, 2*t) x; cx x, y; rot(-t, pi) y; }
layer(theta + 0.5) q[1], q[0];""", header="input float[64] theta;\n"))
    t = PE(0.5, (("theta", 1.0),))
    assert circuit.operations == (
        Operation("rz", (1,), (t,)),
        Operation("ry", (1,), (PE(0.0),)),  # (2t)/2 - t
        Operation("cx", (1, 0)),
        Operation("rz", (0,), (-t,)),
        Operation("ry", (0,), (math.pi / 2 + t,)),
    )
    # the same program bound at theta = 0.2 equals the hand-expanded gates
    bound = circuit_unitary(circuit.bind({"theta": 0.2}))
    tv = 0.7
    reference = (embed(gate_matrix("ry", [math.pi / 2 + tv]), (0,), 2)
                 @ embed(gate_matrix("rz", [-tv]), (0,), 2)
                 @ embed(CX_TEXTBOOK, (1, 0), 2)
                 @ embed(gate_matrix("ry", [0.0]), (1,), 2)
                 @ embed(gate_matrix("rz", [tv]), (1,), 2))
    assert np.allclose(bound, reference)


def test_openqasm2_gate_definition_with_builtins() -> None:
    circuit = parse_qasm("""OPENQASM 2.0;
qreg q[2];
gate bell(theta) a, b { U(theta, 0, pi) a; CX a, b; }
bell(pi/2) q[0], q[1];
""")
    assert circuit.operations == (Operation("u", (0,), (PE(math.pi / 2), PE(0.0), PE(math.pi))),
                                  Operation("cx", (0, 1)))


def test_definition_equal_to_a_library_gate_becomes_that_gate() -> None:
    circuit = parse_qasm(program3(2, """gate rzz(t) a, b { cx a, b; rz(t) b; cx a, b; }
rzz(0.3) q[0], q[1];"""))
    assert circuit.operations == (Operation("rzz", (0, 1), (PE(0.3),)),)


def test_definition_that_differs_from_the_library_gate_shadows_it() -> None:
    circuit = parse_qasm(program3(2, "gate rzz(t) a, b { rz(t) a; }\nrzz(0.3) q[0], q[1];"))
    assert circuit.operations == (Operation("rz", (0,), (PE(0.3),)),)


def test_library_recognition_is_up_to_phase_only_in_openqasm2() -> None:
    body = "gate rz(t) a { u1(t) a; }\nrz(0.3) q[0];"
    qasm2 = parse_qasm(f"OPENQASM 2.0;\nqreg q[1];\n{body}\n")
    qasm3 = parse_qasm(f"OPENQASM 3.0;\nqubit[1] q;\n{body}\n")
    assert [op.name for op in qasm2.operations] == ["rz"]
    assert [op.name for op in qasm3.operations] == ["u1"]  # differs from rz by a phase


# --------------------------------------------------------------------------- modifiers


@pytest.mark.parametrize(("source", "expected"), [
    ("ctrl @ x q[0], q[1];", [Operation("cx", (0, 1))]),
    ("ctrl @ ctrl @ x q[0], q[1], q[2];", [Operation("ccx", (0, 1, 2))]),
    ("ctrl(2) @ x q[2], q[0], q[1];", [Operation("ccx", (2, 0, 1))]),
    ("ctrl(3) @ sx q[0], q[1], q[2], q[3];", [Operation("c3sqrtx", (0, 1, 2, 3))]),
    ("ctrl @ swap q[0], q[1], q[2];", [Operation("cswap", (0, 1, 2))]),
    ("inv @ s q[0];", [Operation("sdg", (0,))]),
    ("inv @ t q[0];", [Operation("tdg", (0,))]),
    ("inv @ rz(0.4) q[0];", [Operation("rz", (0,), (PE(-0.4),))]),
    ("pow(0.5) @ z q[0];", [Operation("s", (0,))]),
    ("pow(0.5) @ x q[0];", [Operation("sx", (0,))]),
    ("pow(-1) @ t q[0];", [Operation("tdg", (0,))]),
    ("pow(2) @ s q[0];", [Operation("z", (0,))]),
    ("pow(3) @ rx(0.2) q[0];", [Operation("rx", (0,), (PE(0.2 * 3),))]),
    ("ctrl @ gphase(0.3) q[0];", [Operation("p", (0,), (PE(0.3),))]),
    ("ctrl(2) @ gphase(0.3) q[0], q[1];", [Operation("cp", (0, 1), (PE(0.3),))]),
    ("gphase(0.3);", []),
    ("negctrl @ x q[0], q[1];",
     [Operation("x", (0,)), Operation("cx", (0, 1)), Operation("x", (0,))]),
])
def test_modifiers_map_onto_library_gates(source: str, expected: list[Operation]) -> None:
    assert list(parse_qasm(program3(4, source)).operations) == expected


def test_modifiers_with_symbolic_parameters() -> None:
    circuit = parse_qasm(program3(2, """inv @ pow(2) @ ctrl @ rz(theta) q[0], q[1];
pow(0.5) @ rx(2*theta) q[0];""", header="input float[64] theta;\n"))
    # crz(θ)² = crz(2θ), inverted: crz(-2θ)
    assert list(circuit.operations) == [
        Operation("crz", (0, 1), (PE(0.0, (("theta", -2.0),)),)),
        Operation("rx", (0,), (PE.symbol("theta"),))]


def _single_gate_program(modifier: str, name: str, extra_qubits: int) -> tuple[str, list[float]]:
    spec = GATES[name]
    params = list(SAMPLE_PARAMS[:spec.param_count])
    return program3(spec.qubit_count + extra_qubits,
                    call(name, spec.qubit_count + extra_qubits, prefix=modifier,
                         params=tuple(params))), params


@pytest.mark.parametrize("name", sorted(GATES))
def test_inv_gives_the_inverse_unitary(name: str) -> None:
    source, params = _single_gate_program("inv @ ", name, 0)
    if name in ("c3sqrtx", "rc3x"):
        with pytest.raises(InvalidProgramError, match=f"inv @ {name}") as info:
            parse_qasm(source)
        assert info.value.reason == "UNSUPPORTED_QASM"
        return
    n = GATES[name].qubit_count
    expected = embed(gate_matrix(name, params), tuple(range(n)), n).conj().T
    assert np.allclose(circuit_unitary(parse_qasm(source)), expected)


@pytest.mark.parametrize("name", sorted(n for n, s in GATES.items() if s.qubit_count == 1))
@pytest.mark.parametrize("negated", [False, True])
def test_ctrl_of_every_single_qubit_gate_is_exact(name: str, negated: bool) -> None:
    source, params = _single_gate_program("negctrl @ " if negated else "ctrl @ ", name, 1)
    matrix = gate_matrix(name, params)
    reference = controlled(matrix)
    if negated:
        reference = np.block([[matrix, np.zeros((2, 2))], [np.zeros((2, 2)), I2]])
    assert np.allclose(circuit_unitary(parse_qasm(source)), embed(reference, (0, 1), 2))


@pytest.mark.parametrize("name", ["x", "h", "sx", "rx", "u3", "r"])
def test_fractional_power_is_a_square_root(name: str) -> None:
    source, params = _single_gate_program("pow(0.5) @ ", name, 0)
    root = circuit_unitary(parse_qasm(source))
    # a global phase of the root is dropped, so the square matches up to a phase
    assert same_up_to_phase(root @ root, gate_matrix(name, params))


def test_modifier_without_library_equivalent_is_unsupported() -> None:
    with pytest.raises(InvalidProgramError, match=r"ctrl\(2\) @ h") as info:
        parse_qasm(program3(3, "ctrl(2) @ h q[0], q[1], q[2];"))
    assert info.value.reason == "UNSUPPORTED_QASM"
    assert "line 4" in str(info.value)


def test_modifiers_apply_to_user_gates() -> None:
    circuit = parse_qasm(program3(3, """gate g(a) x, y { h x; rz(a) y; gphase(a); }
ctrl @ g(0.5) q[0], q[1], q[2];
inv @ g(0.5) q[1], q[2];"""))
    assert list(circuit.operations) == [
        Operation("ch", (0, 1)), Operation("crz", (0, 2), (PE(0.5),)),
        Operation("p", (0,), (PE(0.5),)),
        Operation("rz", (2,), (PE(-0.5),)), Operation("h", (1,)),
    ]


# --------------------------------------------------------------------------- errors


def assert_error(source: str, reason: str, *fragments: str) -> None:
    with pytest.raises(InvalidProgramError) as info:
        parse_qasm(source)
    assert info.value.reason == reason, str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_syntax_error_has_line_and_column(capsys: pytest.CaptureFixture[str]) -> None:
    assert_error(program3(2, "h q[0]\nx q[1];"), "QASM_SYNTAX_ERROR",
                 "line 5, column 1", "missing ';'")
    assert_error(program3(2, "h q[0] ?;"), "QASM_SYNTAX_ERROR", "line 4, column 8", "'?'")
    assert_error(program3(2, "gate g a { float x = 1.0; }"), "QASM_SYNTAX_ERROR", "line 4")
    assert capsys.readouterr().err == ""  # ANTLR's console listener is not used


@pytest.mark.parametrize(("body", "construct"), [
    ("if (c < 2) x q[0];", "condition 'c < 2'"),
    ("if (c[0]) { box { x q[0]; } }", "inside an if block"),
    ("for int i in [0:1] { h q[i]; }", "for loop"),
    ("while (true) { h q[0]; }", "while loop"),
    ("def f(qubit a) { h a; }", "subroutine"),
    ("box { h q[0]; }", "box"),
    ('defcalgrammar "openpulse";', "defcalgrammar"),
    ("delay[100ns] q[0];", "delay"),
    ("int i = 1;", "classical variable"),
    ("c[0] = 1;", "classical assignment"),
    ("measure q[0];", "measure without a target"),
    ("input int[8] n;", "input 'n' of type"),
])
def test_unsupported_constructs_name_the_construct_and_line(body: str, construct: str) -> None:
    assert_error(program3(2, body, header="bit[2] c;\n"), "UNSUPPORTED_QASM", construct, "line 5")


def test_openqasm2_opaque_is_unsupported() -> None:
    header = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\n'
    assert_error(header + "opaque magic(t) a;\n", "UNSUPPORTED_QASM", "opaque", "line 5")


def test_unknown_gate_and_include() -> None:
    assert_error(program3(1, "foo q[0];"), "UNKNOWN_GATE", "'foo'", "line 4")
    assert_error(program3(1, 'include "mylib.inc";'), "UNSUPPORTED_QASM", "mylib.inc")


@pytest.mark.parametrize(("body", "fragment"), [
    ("h q[2];", "qubit index 2 is out of range for register 'q' of size 2"),
    ("h r[0];", "'r' is not a declared qubit register"),
    ("cx q[0];", "gate 'cx' acts on 2 qubit(s), got 1"),
    ("rx q[0];", "gate 'rx' takes 1 parameter(s), got 0"),
    ("rx(0.1, 0.2) q[0];", "gate 'rx' takes 1 parameter(s), got 2"),
    ("cx q[0], q[0];", "more than once"),
    ("qubit[3] r;\ncx q, r;", "different sizes"),
    ("bit[1] c;\nmeasure q -> c;", "2 qubit(s) into 1 bit(s)"),
    ("gate g a { h b; }", "not one of its qubit arguments"),
    ("h $0;", "physical qubit"),
    ("qubit[1] q;", "'q' is already declared"),
    ("rx(1/0) q[0];", "division by zero"),
    ("gate g(a) x { rx(a) x; }\ng q[0];", "gate 'g' takes 1 parameter(s), got 0"),
])
def test_invalid_programs_have_messages(body: str, fragment: str) -> None:
    assert_error(program3(2, body), "INVALID_PROGRAM", fragment)


def test_parameter_errors() -> None:
    header = "input float[64] a;\ninput float[64] b;\n"
    assert_error(program3(1, "rx(a * b) q[0];", header=header), "UNSUPPORTED_QASM",
                 "non-affine parameter expression", "line 6")
    assert_error(program3(1, "rx(sin(a)) q[0];", header=header), "UNSUPPORTED_QASM",
                 "non-affine")
    assert_error(program3(1, "rx(1 / a) q[0];", header=header), "UNSUPPORTED_QASM", "non-affine")
    assert_error(program3(1, "rx(theta) q[0];"), "INVALID_PROGRAM", "unknown identifier 'theta'",
                 "input float[64] theta")
    assert_error('OPENQASM 2.0;\nqreg q[1];\nrx(theta) q[0];\n', "INVALID_PROGRAM",
                 "unknown identifier 'theta'", "OpenQASM 2")
    assert_error('OPENQASM 2.0;\ninput float[64] t;\nqreg q[1];\n', "INVALID_PROGRAM",
                 "OpenQASM 3")


def test_errors_in_gate_bodies() -> None:
    # a parameter-free body is checked at its definition ...
    assert_error(program3(1, "gate g a { foo a; }\nh q[0];"), "UNKNOWN_GATE", "line 4", "'foo'")
    # ... a parametric one at its calls (an error may depend on the values)
    source = program3(2, "gate g(k) a, b { pow(k) @ swap a, b; }\ng(2) q[0], q[1];\n"
                         "g(0.5) q[0], q[1];")
    assert_error(source, "UNSUPPORTED_QASM", "line 6", "pow(0.5)")
    assert_error(program3(1, "gate g a { rx(theta) a; }", header="input float[64] theta;\n"),
                 "INVALID_PROGRAM", "input 'theta' is not visible inside a gate definition")
    assert_error(program3(1, "gate g a { for int i in [0:1] { h a; } }"), "UNSUPPORTED_QASM",
                 "for loop inside gate 'g'")


def test_exponential_gate_nesting_is_capped() -> None:
    definitions = ["gate g0 a, b { h a; cx a, b; }"] + [
        f"gate g{i + 1} a, b {{ g{i} b, a; g{i} a, b; }}" for i in range(24)]
    source = program3(2, "\n".join(definitions) + "\ng24 q[0], q[1];")
    assert_error(source, "PROGRAM_TOO_LARGE", "expands to more than 1000000 operations",
                 "line 29", "gate 'g24'")
    assert_error(program3(1, "gate g a { h a; s a; }\npow(10000000) @ g q[0];"),
                 "PROGRAM_TOO_LARGE", "pow(10000000)")
    # a body longer than the library-gate check expands is still a valid definition
    six = "a, b, c, d, e, f"
    long_body = parse_qasm(program3(6, f"gate h6 {six} {{ h a; h b; h c; h d; h e; h f; }}\n"
                                       f"gate g {six} {{ pow(400) @ h6 {six}; }}\n"
                                       "g q[0], q[1], q[2], q[3], q[4], q[5];"))
    assert len(long_body.operations) == 2400
    huge_rotation = parse_qasm(program3(1, "pow(10000000) @ rz(0.5) q[0];"))
    assert huge_rotation.operations == (Operation("rz", (0,), (PE(5e6),)),)


def test_openqasm2_has_only_pi() -> None:
    assert_error('OPENQASM 2.0;\nqreg q[1];\nrx(tau) q[0];\n', "INVALID_PROGRAM",
                 "unknown identifier 'tau'")
    assert_error('OPENQASM 4.0;\nqubit q;\n', "UNSUPPORTED_QASM", "version 4.0")


def test_program_without_qubits_is_rejected() -> None:
    assert_error('OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\n', "INVALID_PROGRAM",
                 "no qubits")


# --------------------------------------------------------------------------- export


def test_zyz_angles_reconstruct_the_matrix() -> None:
    for name in ("h", "sx", "sxdg", "y", "s", "x"):
        theta, phi, lam, gamma = zyz_angles(gate_matrix(name))
        assert np.allclose(np.exp(1j * gamma) * gate_matrix("u", [theta, phi, lam]),
                           gate_matrix(name))


@pytest.mark.parametrize("name", sorted(QASM3_DEFINITIONS))
def test_export_definitions_equal_the_library_matrices(name: str) -> None:
    spec = GATES[name]
    n = spec.qubit_count
    params = tuple(SAMPLE_PARAMS[:spec.param_count])
    # Under its own name the definition is recognised as the library gate (exact check) ...
    own = parse_qasm(program3(n, call(name, n, params=params),
                              header=QASM3_DEFINITIONS[name] + "\n"))
    assert own.operations == (Operation(name, tuple(range(n)), tuple(map(PE, params))),)
    # ... and under another name it expands to gates with the library unitary.
    renamed = re.sub(rf"^gate {name}\b", "gate candidate", QASM3_DEFINITIONS[name])
    circuit = parse_qasm(program3(n, call("candidate", n, params=params),
                                  header=renamed + "\n"))
    assert "candidate" not in {op.name for op in circuit.operations}
    expected = embed(gate_matrix(name, params), tuple(range(n)), n)
    assert same_up_to_phase(circuit_unitary(circuit), expected)  # gphase dropped at top level
    if name in ("c3sqrtx", "c4x", "csx", "cu1", "cu3"):
        return  # bodies that are one controlled gate: one more control is not a library gate
    # Under ctrl @ the global phase becomes a relative one: the definitions are exact.
    controlled_circuit = parse_qasm(program3(n + 1, call("candidate", n + 1, params=params,
                                                         prefix="ctrl @ "),
                                             header=renamed + "\n"))
    assert np.allclose(circuit_unitary(controlled_circuit),
                       embed(controlled(gate_matrix(name, params)), tuple(range(n + 1)), n + 1),
                       atol=1e-10)


def every_gate_circuit() -> Circuit:
    ops: list[Operation] = []
    theta, phi = PE.symbol("theta"), PE.symbol("phi")
    values = [theta, PE(math.pi / 2), 0.5 + 2 * phi - theta / 3, PE(-3 * math.pi / 4),
              PE(1e-17, (("theta", math.pi / 2),))]
    for i, (name, spec) in enumerate(sorted(GATES.items())):
        qubits = tuple((i + j) % 5 for j in range(spec.qubit_count))
        params = tuple(values[(i + j) % len(values)] for j in range(spec.param_count))
        ops.append(Operation(name, qubits, params))
    ops += [Operation("barrier", (0, 2)), Operation("reset", (1,)),
            Operation("measure", (3,), clbits=(1,)), Operation("measure", (0,), clbits=(0,))]
    return Circuit(5, tuple(ops), 2, ("theta", "phi", "unused"), "every-gate")


def test_to_qasm3_round_trips_every_gate() -> None:
    circuit = every_gate_circuit()
    text = to_qasm3(circuit)
    assert text.startswith('OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\n')
    assert "U(" in text and "gate rxx(theta) a, b" in text
    assert parse_qasm(text, name=circuit.name) == circuit


@pytest.mark.parametrize("source", [BELL_2, BELL_3, qft_program(4), program3(3, """
gate g(a, b) x, y { rx(a) x; ctrl @ ry(b - a) x, y; negctrl @ rx(2*a) y, x; rzz(a) x, y; }
g(theta, pi/3) q[0], q[2];
inv @ g(-theta, 0.1) q[2], q[1];""", header="input float[64] theta;\n")])
def test_parse_export_parse_is_a_fixed_point(source: str) -> None:
    circuit = parse_qasm(source, name="c")
    assert parse_qasm(to_qasm3(circuit), name="c") == circuit


def test_to_qasm3_names_and_errors() -> None:
    circuit = Circuit(1, (Operation("rx", (0,), (PE.symbol("q"),)),
                          Operation("measure", (0,), clbits=(0,))), 1)
    text = to_qasm3(circuit)
    assert "qubit[1] q_;" in text and "rx(q) q_[0];" in text
    assert parse_qasm(text) == circuit
    for bad in ("theta[0]", "pi", "input"):
        with pytest.raises(InvalidProgramError, match="identifier"):
            to_qasm3(Circuit(1, (Operation("rx", (0,), (PE.symbol(bad),)),)))
    with pytest.raises(InvalidProgramError, match="finite"):
        to_qasm3(Circuit(1, (Operation("rx", (0,), (PE(math.inf),)),)))
    with pytest.raises(InvalidProgramError, match="out of range"):
        to_qasm3(Circuit(1, (Operation("cx", (0, 1)),)))
    with pytest.raises(InvalidProgramError, match="the gate takes 1 and 0"):
        to_qasm3(Circuit(2, (Operation("h", (0, 1)),)))
    with pytest.raises(InvalidProgramError) as info:
        to_qasm3(Circuit(1, (Operation("magic", (0,)),)))
    assert info.value.reason == "UNKNOWN_GATE"


def test_multi_qubit_measure_is_written_per_qubit() -> None:
    circuit = Circuit(2, (Operation("measure", (0, 1), clbits=(1, 0)),), 2)
    parsed = parse_qasm(to_qasm3(circuit))
    assert parsed.operations == (Operation("measure", (0,), clbits=(1,)),
                                 Operation("measure", (1,), clbits=(0,)))
    assert parsed.measured_qubits == circuit.measured_qubits
