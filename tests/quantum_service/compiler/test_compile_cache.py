"""Compilation is memoised: equal (circuit, target, level) compile once, so placement's
fidelity estimate and the chosen driver's ``prepare`` share one compilation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from quantum_service.circuits.qasm import parse_qasm
from quantum_service.compiler import CompileTarget, compile_circuit, pipeline
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.kernel.placement import place

GHZ = """OPENQASM 3.0;
include "stdgates.inc";
qubit[3] q;
bit[3] c;
h q[0];
cx q[0], q[1];
cx q[1], q[2];
c = measure q;
"""


@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = pipeline._compile

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(pipeline, "_compile", counting)
    pipeline._compile_cached.cache_clear()
    yield calls
    pipeline._compile_cached.cache_clear()


def test_equal_inputs_compile_once(counted):
    target = CompileTarget(qubit_count=4, native_gates=("rz", "sx", "x", "cz"),
                           coupling_map=((0, 1), (1, 2), (2, 3)))
    first = compile_circuit(parse_qasm(GHZ), target)
    again = compile_circuit(parse_qasm(GHZ), CompileTarget(
        qubit_count=4, native_gates=("rz", "sx", "x", "cz"), coupling_map=((0, 1), (1, 2), (2, 3))))
    assert again is first and len(counted) == 1
    compile_circuit(parse_qasm(GHZ), target, optimization_level=0)
    assert len(counted) == 2  # another level is another compilation


def test_placement_and_prepare_share_the_compilation(counted):
    devices = [superconducting_grid("sc-c", rows=2, cols=2), trapped_ion_chain("ion-c",
                                                                               qubit_count=4)]
    slots = [SimpleNamespace(driver=SimulatedQpuDriver(*device)) for device in devices]
    circuit = parse_qasm(GHZ)
    chosen = place(slots, [circuit], wait_s=lambda slot: 0.0, wait_scale_s=60.0).slot
    assert len(counted) == 2  # one estimate per candidate QPU
    chosen.driver.prepare(circuit, observable=None)
    assert len(counted) == 2  # prepare reuses the chosen QPU's compilation
