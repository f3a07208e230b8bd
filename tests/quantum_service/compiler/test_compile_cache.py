"""Compilation is memoised: equal (circuit, target, level) compile once, so placement's
fidelity estimate and the chosen driver's ``prepare`` share one compilation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from quantum_service.circuits.ir import Circuit, Operation
from quantum_service.circuits.qasm import parse_qasm
from quantum_service.compiler import CompileTarget, compile_circuit, pipeline
from quantum_service.compiler.cache import CompileCache, retained_bytes
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
    pipeline.COMPILE_CACHE.clear()
    yield calls
    pipeline.COMPILE_CACHE.clear()


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


def _line_circuit(gate_count: int, *, name: str) -> Circuit:
    ops = tuple(Operation("h", (i % 2,)) if i % 3 else Operation("cx", (0, 1))
                for i in range(gate_count))
    return Circuit(2, ops, name=name)


def test_memo_is_bounded_by_retained_bytes(counted):
    target = CompileTarget(qubit_count=2, native_gates=("rz", "sx", "x", "cz"))
    small = [_line_circuit(30, name=f"small-{i}") for i in range(4)]
    compiled = compile_circuit(small[0], target, optimization_level=0)
    entry = retained_bytes(small[0], compiled)
    # room for three such entries (well under the entry bound)
    cache = CompileCache(max_entries=100, max_bytes=3 * entry + entry // 2)
    for circuit in small:
        cache.get_or_compile(circuit, circuit.name, lambda c=circuit: compile_circuit(
            c, target, optimization_level=0))
    assert cache.entry_count == 3 and cache.retained_bytes <= cache.max_bytes
    # the least recently used entry went first
    recompiled = []
    cache.get_or_compile(small[0], "small-0", lambda: recompiled.append(1) or compiled)
    assert recompiled == [1]
    # a compilation larger than the whole bound is returned but not kept
    big = _line_circuit(400, name="big")
    before = cache.retained_bytes
    result = cache.get_or_compile(big, "big", lambda: compile_circuit(big, target,
                                                                     optimization_level=0))
    assert result.circuit.qubit_count == 2
    assert cache.retained_bytes == before and cache.entry_count == 3


def test_retained_bytes_grow_with_the_operation_count(counted):
    target = CompileTarget(qubit_count=2, native_gates=("rz", "sx", "x", "cz"))
    short, long = _line_circuit(10, name="s"), _line_circuit(1_000, name="l")
    a = retained_bytes(short, compile_circuit(short, target))
    b = retained_bytes(long, compile_circuit(long, target))
    assert b > 50 * (a - 2_048) > 0
    assert pipeline.COMPILE_CACHE.max_bytes == pipeline.COMPILE_CACHE_BYTES
