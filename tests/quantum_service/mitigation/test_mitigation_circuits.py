"""Folding, twirling and decoupling keep a compiled circuit's ideal action and scale or shape
its noise as documented (:mod:`quantum_service.mitigation`)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.compiler.unitary import circuit_unitary
from quantum_service.contract import DELAY, DecouplingSequence, Folding
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.engines.executable import build_executable
from quantum_service.errors import InvalidProgramError
from quantum_service.mitigation import fold_circuit, insert_decoupling, twirl_circuit
from quantum_service.mitigation.folding import inverse_gate


def op(name: str, *qubits: int, params: tuple[float | ParameterExpression, ...] = ()
       ) -> Operation:
    return Operation(name, qubits, tuple(ParameterExpression.of(p) for p in params))


def logical_circuit() -> Circuit:
    theta = ParameterExpression.symbol("theta")
    return Circuit(3, (
        op("h", 0), op("cx", 0, 1), op("ry", 2, params=(0.4,)), op("cx", 1, 2),
        op("rz", 1, params=(theta,)), op("rx", 0, params=(0.3,)), op("cx", 0, 1),
        op("t", 2), op("cx", 2, 1)), parameters=("theta",))


def compiled_for(maker) -> tuple[Circuit, CompileTarget, object]:
    caps, _ = maker()
    target = CompileTarget(qubit_count=3, native_gates=caps.native_gate_names)
    return compile_circuit(logical_circuit(), target).circuit, target, caps


def same_up_to_phase(a: np.ndarray, b: np.ndarray) -> bool:
    overlap = np.vdot(a.ravel(), b.ravel())
    return abs(abs(overlap) - a.shape[0]) < 1e-9


def without_delays(circuit: Circuit) -> Circuit:
    return Circuit(circuit.qubit_count, tuple(o for o in circuit.operations if o.name != DELAY),
                   circuit.clbit_count, circuit.parameters)


@pytest.mark.parametrize("maker", [superconducting_grid, trapped_ion_chain])
@pytest.mark.parametrize("folding", list(Folding))
@pytest.mark.parametrize("scale", [1.0, 3.0, 5.0, 2.2])
def test_folding_keeps_the_unitary_and_scales_the_gate_count(maker, folding, scale):
    compiled, target, _ = compiled_for(maker)
    folded, achieved = fold_circuit(compiled, scale, folding=folding,
                                    basis=target.one_qubit_basis, use_x="x" in target.native_gates)
    for theta in (0.0, 0.7):
        assert same_up_to_phase(circuit_unitary(folded, [theta]),
                                circuit_unitary(compiled, [theta]))
    gates = sum(1 for o in compiled.operations if o.name != "measure")
    folds = round(gates * (scale - 1) / 2)
    assert achieved == pytest.approx(1 + 2 * folds / gates)
    two_qubit = sum(1 for o in compiled.operations if len(o.qubits) == 2)
    folded_two_qubit = sum(1 for o in folded.operations if len(o.qubits) == 2)
    if scale in (1.0, 3.0, 5.0):
        assert folded_two_qubit == scale * two_qubit
    else:
        assert two_qubit < folded_two_qubit < 3 * two_qubit


def test_inverse_of_native_gates():
    theta = ParameterExpression.symbol("t")
    assert inverse_gate(op("r", 0, params=(theta, 0.5)), basis="r", use_x=False) == [
        op("r", 0, params=(-theta, 0.5))]
    assert inverse_gate(op("cz", 0, 1), basis="sx", use_x=True) == [op("cz", 0, 1)]
    sxdg = Circuit(1, tuple(inverse_gate(op("sx", 0), basis="sx", use_x=True)))
    assert same_up_to_phase(circuit_unitary(sxdg), circuit_unitary(Circuit(1, (op("sxdg", 0),))))
    with pytest.raises(InvalidProgramError, match="inverse"):
        inverse_gate(op("iswap", 0, 1), basis="sx", use_x=True)


def test_folding_rejects_scale_below_one_and_dynamic_circuits():
    compiled, target, _ = compiled_for(superconducting_grid)
    with pytest.raises(InvalidProgramError, match=">= 1"):
        fold_circuit(compiled, 0.9, folding=Folding.GLOBAL, basis="sx", use_x=True)
    dynamic = Circuit(1, (op("x", 0), Operation("reset", (0,))), 0)
    with pytest.raises(InvalidProgramError, match="resets"):
        fold_circuit(dynamic, 3.0, folding=Folding.GLOBAL, basis="sx", use_x=True)


@pytest.mark.parametrize("maker", [superconducting_grid, trapped_ion_chain])
def test_twirling_keeps_the_unitary_and_is_seeded(maker):
    compiled, target, _ = compiled_for(maker)
    basis, use_x = target.one_qubit_basis, "x" in target.native_gates
    frames = []
    for seed in (1, 1, 2):
        twirled, count = twirl_circuit(compiled, np.random.default_rng(seed), basis=basis,
                                       use_x=use_x)
        assert count == sum(1 for o in compiled.operations if len(o.qubits) == 2)
        assert same_up_to_phase(circuit_unitary(twirled, [0.3]), circuit_unitary(compiled, [0.3]))
        frames.append(twirled)
    assert frames[0] == frames[1]
    assert frames[0] != frames[2]


def test_twirling_draws_every_pauli_frame():
    """Over many frames the Pauli inserted before a CZ covers all 16 pairs."""
    cz = Circuit(2, (op("cz", 0, 1),))
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(400):
        twirled, _ = twirl_circuit(cz, rng, basis="sx", use_x=True)
        before = tuple(o for o in twirled.operations[:twirled.operations.index(op("cz", 0, 1))])
        seen.add(before)
    assert len(seen) == 16


@pytest.mark.parametrize("sequence", list(DecouplingSequence))
def test_decoupling_fills_idle_windows_without_changing_the_circuit(sequence):
    compiled, target, caps = compiled_for(superconducting_grid)
    decoupled, pulses = insert_decoupling(compiled, caps, sequence=sequence,
                                          basis=target.one_qubit_basis, use_x=True)
    assert pulses > 0 and pulses % (2 if sequence is DecouplingSequence.XX else 4) == 0
    assert same_up_to_phase(circuit_unitary(without_delays(decoupled), [0.2]),
                            circuit_unitary(compiled, [0.2]))
    _, device = superconducting_grid()
    before = build_executable(compiled, caps=caps, device=device, parameters=("theta",))
    after = build_executable(decoupled, caps=caps, device=device, parameters=("theta",))
    assert after.duration_ns == pytest.approx(before.duration_ns, abs=1e-6)
    assert math.isfinite(after.duration_ns)
