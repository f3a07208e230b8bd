"""Tests of the SDK circuit builder: proto mapping, parameters, validation, OpenQASM 3 export.

The OpenQASM output is parsed with the reference ``openqasm3`` parser and executed by a small
NumPy interpreter; its state must equal the state of the builder's own instruction list.
Gate matrices come from qcore's gate library, which also fixes the arity table the SDK mirrors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import openqasm3
import pytest
from openqasm3 import ast
from qcore.v1 import common_pb2
from qcore_client.circuit import GATE_SIGNATURES, Circuit, Parameter, ParameterExpression

from quantum_service.circuits.gates import GATES, gate_matrix

# -- a plain NumPy state-vector reference (qubit 0 = least-significant bit) ------------------


def apply(state: np.ndarray, matrix: np.ndarray, qubits: Sequence[int]) -> np.ndarray:
    n = state.ndim
    k = len(qubits)
    axes = [n - 1 - q for q in qubits]  # first listed qubit = most significant matrix bit
    out = np.tensordot(matrix.reshape([2] * (2 * k)), state, axes=(list(range(k, 2 * k)), axes))
    return np.moveaxis(out, list(range(k)), axes)


def simulate(circuit: Circuit, values: Mapping[str, float]) -> np.ndarray:
    state = np.zeros([2] * circuit.qubit_count, dtype=np.complex128)
    state[(0,) * circuit.qubit_count] = 1.0
    for inst in circuit.instructions:
        if inst.name in ("measure", "barrier"):
            continue
        state = apply(state, gate_matrix(inst.name, [p.bind(values) for p in inst.params]),
                      inst.qubits)
    return state.reshape(-1)


_BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
           "/": lambda a, b: a / b}


def evaluate(expression: ast.Expression, scope: Mapping[str, float]) -> float:
    if isinstance(expression, (ast.FloatLiteral, ast.IntegerLiteral)):
        return float(expression.value)
    if isinstance(expression, ast.Identifier):
        return {"pi": math.pi, "π": math.pi}.get(expression.name) or scope[expression.name]
    if isinstance(expression, ast.UnaryExpression):
        assert expression.op.name == "-"
        return -evaluate(expression.expression, scope)
    if isinstance(expression, ast.BinaryExpression):
        return _BINARY[expression.op.name](evaluate(expression.lhs, scope),
                                           evaluate(expression.rhs, scope))
    raise AssertionError(f"unexpected expression {expression!r}")


def run_qasm(source: str, qubit_count: int, values: Mapping[str, float]) -> np.ndarray:
    """Executes the gate statements of an OpenQASM 3 program (stdgates + local definitions)."""
    program = openqasm3.parse(source)
    definitions: dict[str, ast.QuantumGateDefinition] = {}
    inputs: list[str] = []
    state = np.zeros([2] * qubit_count, dtype=np.complex128)
    state[(0,) * qubit_count] = 1.0

    def call(name: str, args: list[float], qubits: list[int]) -> None:
        nonlocal state
        if name in definitions:
            definition = definitions[name]
            scope = {a.name: v for a, v in zip(definition.arguments, args, strict=True)}
            local = {q.name: qubits[i] for i, q in enumerate(definition.qubits)}
            for statement in definition.body:
                call(statement.name.name, [evaluate(a, scope) for a in statement.arguments],
                     [local[q.name] for q in statement.qubits])
            return
        state = apply(state, gate_matrix("u" if name == "U" else name, args), qubits)

    for statement in program.statements:
        if isinstance(statement, ast.QuantumGateDefinition):
            definitions[statement.name.name] = statement
        elif isinstance(statement, ast.IODeclaration):
            inputs.append(statement.identifier.name)
        elif isinstance(statement, ast.QuantumGate):
            assert not statement.modifiers
            call(statement.name.name, [evaluate(a, values) for a in statement.arguments],
                 [q.indices[0][0].value for q in statement.qubits])
    assert inputs == list(values)
    return state.reshape(-1)


# -- tests ------------------------------------------------------------------------------------


def test_gate_table_matches_the_quantum_service_gate_library() -> None:
    assert set(GATE_SIGNATURES) == set(GATES)
    for name, (qubit_count, param_count) in GATE_SIGNATURES.items():
        assert (GATES[name].qubit_count, GATES[name].param_count) == (qubit_count, param_count)


def test_affine_parameter_arithmetic() -> None:
    theta, phi = Parameter("theta"), Parameter("phi")
    expression = 2 * theta + 0.1
    assert expression.constant == pytest.approx(0.1)
    assert expression.terms == (("theta", 2.0),)
    half = -theta / 2
    assert half.constant == 0.0 and half.terms == (("theta", -0.5),)
    combined = 1 - (theta - 3 * phi) / 4
    assert combined.bind({"theta": 0.7, "phi": -1.3}) == pytest.approx(1 - (0.7 + 3.9) / 4)
    assert (theta - theta) == ParameterExpression(0.0)
    assert theta + phi == phi + theta
    assert str(0.1 - 2 * theta) == "-2.0*theta + 0.1"
    with pytest.raises(ValueError, match="not affine"):
        _ = theta * phi
    with pytest.raises(ValueError, match="not affine"):
        _ = 1 / theta
    with pytest.raises(ValueError, match="division by zero"):
        _ = theta / 0
    with pytest.raises(ValueError, match="identifier"):
        Parameter("2theta")
    with pytest.raises(ValueError, match="no value"):
        expression.bind({"phi": 1.0})


def test_to_proto_maps_operations_parameters_and_measurements() -> None:
    theta, phi = Parameter("theta"), Parameter("phi")
    circuit = (Circuit(3, name="demo").h(0).ry(2 * theta + 0.1, 1).cx(0, 1)
               .rzz(phi - theta / 2, 1, 2).measure(2, 0).measure_all())
    message = circuit.to_proto()
    assert isinstance(message, common_pb2.Circuit)
    assert (message.qubit_count, message.clbit_count, message.name) == (3, 3, "demo")
    assert list(message.parameters) == ["theta", "phi"]  # first-use order
    assert [op.name for op in message.operations] == ["h", "ry", "cx", "rzz", "measure", "measure"]
    ry = message.operations[1]
    assert list(ry.qubits) == [1]
    assert ry.params[0].constant == pytest.approx(0.1)
    assert [(t.symbol, t.coefficient) for t in ry.params[0].terms] == [("theta", 2.0)]
    rzz = message.operations[3]
    assert {t.symbol: t.coefficient for t in rzz.params[0].terms} == {"phi": 1.0, "theta": -0.5}
    assert list(message.operations[4].clbits) == [0]
    assert list(message.operations[5].qubits) == list(message.operations[5].clbits) == [0, 1, 2]
    assert Circuit.from_proto(message).to_proto() == message


def test_explicit_parameter_order() -> None:
    a, b = Parameter("a"), Parameter("b")
    circuit = Circuit(1, parameters=["b", a]).rx(a, 0).ry(b, 0)
    assert circuit.parameters == ("b", "a")
    with pytest.raises(ValueError, match="not among the circuit's declared parameters"):
        circuit.rz(Parameter("c"), 0)
    with pytest.raises(ValueError, match="twice"):
        Circuit(1, parameters=["a", "a"])


@pytest.mark.parametrize(("build", "message"), [
    (lambda c: c.h(3), "qubit 3 is out of range for a 3-qubit circuit"),
    (lambda c: c.cx(0, -1), "out of range"),
    (lambda c: c.cx(1, 1), "lists a qubit twice"),
    (lambda c: c.append("rx", [0]), "gate 'rx' takes 1 parameter"),
    (lambda c: c.append("u", [0], [0.1, 0.2]), "gate 'u' takes 3 parameter"),
    (lambda c: c.append("h", [0], [0.5]), "gate 'h' takes 0 parameter"),
    (lambda c: c.append("cx", [0]), "gate 'cx' acts on 2 qubit"),
    (lambda c: c.rx(float("nan"), 0), "not a finite number"),
    (lambda c: c.append("CX", [0, 1]), "lower-case identifier"),
    (lambda c: c.append("measure", [0], clbits=[0, 1]), "one classical bit per qubit"),
    (lambda c: c.append("h", [0], clbits=[0]), "only 'measure'"),
])
def test_validation_errors(build, message: str) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match=message):
        build(Circuit(3))


def test_construction_errors_and_clbit_limit() -> None:
    with pytest.raises(ValueError, match="qubit_count"):
        Circuit(0)
    with pytest.raises(TypeError, match="gate parameter"):
        Circuit(1).rx("0.5", 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="out of range for clbit_count=1"):
        Circuit(2, clbit_count=1).measure(1)


def test_unknown_gates_pass_through_for_the_service_to_validate() -> None:
    circuit = Circuit(2).append("my_native", [1, 0], [0.25])
    assert circuit.to_proto().operations[0].name == "my_native"
    with pytest.raises(ValueError, match="no OpenQASM 3 standard-library spelling"):
        circuit.to_qasm()


def test_bind_replaces_symbols() -> None:
    theta = Parameter("theta")
    bound = Circuit(1).rx(3 * theta - 1, 0).measure(0).bind([0.5])
    assert bound.parameters == ()
    assert bound.instructions[0].params[0] == ParameterExpression(0.5)
    assert bound.clbit_count == 1
    with pytest.raises(ValueError, match="expected 1 value"):
        Circuit(1).rx(theta, 0).bind([])


def test_qasm_declares_inputs_and_runs_like_the_circuit() -> None:
    theta, phi = Parameter("theta"), Parameter("phi")
    circuit = (Circuit(4, name="all gates", parameters=["phi", "theta"])
               .h(0).x(1).y(2).z(3).s(0).sdg(1).t(2).tdg(3).sx(0)
               .rx(theta, 1).ry(-theta / 2, 2).rz(2 * phi + 0.3, 3).p(phi, 0)
               .u(theta, phi - 1, 0.25, 1)
               .cx(0, 1).cy(1, 2).cz(2, 3).cp(theta, 3, 0).crx(phi, 0, 2).cry(theta, 1, 3)
               .crz(-phi, 2, 0).swap(1, 3).rxx(theta, 0, 3).ryy(phi, 1, 2)
               .rzz(theta - phi, 3, 1).ccx(0, 1, 2).append("ccz", [3, 2, 1]).barrier()
               .measure_all())
    source = circuit.to_qasm()
    assert source.startswith('OPENQASM 3.0;\ninclude "stdgates.inc";\n')
    assert "input float[64] phi;\ninput float[64] theta;\n" in source
    assert "qubit[4] q;" in source and "bit[4] c;" in source
    assert "c[3] = measure q[3];" in source
    assert "U(theta, phi - 1.0, 0.25) q[1];" in source
    values = {"phi": -0.37, "theta": 1.21}
    expected = simulate(circuit, values)
    assert np.linalg.norm(expected) == pytest.approx(1.0)
    np.testing.assert_allclose(run_qasm(source, 4, values), expected, atol=1e-10)


@pytest.mark.parametrize("name", ["q", "pi", "gate", "rx"])
def test_qasm_rejects_parameter_names_that_clash(name: str) -> None:
    with pytest.raises(ValueError, match="clash with OpenQASM 3 names"):
        Circuit(1).rx(Parameter(name), 0).to_qasm()
