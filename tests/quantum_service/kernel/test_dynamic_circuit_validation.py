"""Dynamic circuits are validated against what each QPU declares, before anything queues."""

from __future__ import annotations

import pytest

from quantum_service.circuits.ir import Circuit, Condition, Operation
from quantum_service.drivers.fleet import photonic_drivers, superconducting_drivers
from quantum_service.errors import InvalidProgramError
from quantum_service.kernel.placement import place
from quantum_service.kernel.qpus import QpuSlot, qpu_properties, qpu_supports
from quantum_service.kernel.validation import check_dynamic_circuits

FEED_FORWARD = Circuit(2, (Operation("h", (0,)), Operation("measure", (0,), (), (0,)),
                           Operation("x", (1,), (), (), Condition((0,), frozenset({1}))),
                           Operation("measure", (1,), (), (1,))), clbit_count=2)
STATIC = Circuit(2, (Operation("h", (0,)), Operation("cx", (0, 1)),
                     Operation("measure", (0, 1), (), (0, 1))), clbit_count=2)


def test_a_named_qpu_without_dynamic_circuits_rejects_them_naming_those_that_run_them():
    photonic = photonic_drivers()[0].capabilities
    sc = superconducting_drivers()[0].capabilities
    with pytest.raises(InvalidProgramError) as info:
        check_dynamic_circuits([FEED_FORWARD], photonic, [photonic, sc])
    assert info.value.reason == "UNSUPPORTED_OPERATION"
    assert sc.qpu_id in str(info.value) and "conditional operation 'x'" in str(info.value)
    check_dynamic_circuits([STATIC], photonic, [photonic, sc])
    check_dynamic_circuits([FEED_FORWARD], sc, [photonic, sc])


def test_the_photonic_driver_rejects_mid_circuit_reset_before_compiling():
    driver = photonic_drivers()[0]
    circuit = Circuit(1, (Operation("h", (0,)), Operation("reset", (0,)),
                          Operation("measure", (0,), (), (0,))), clbit_count=1)
    with pytest.raises(InvalidProgramError) as info:
        driver.prepare(circuit, observable=None)
    assert info.value.reason == "UNSUPPORTED_OPERATION" and "mid-circuit reset" in str(info.value)


def test_supports_and_properties_follow_the_capabilities():
    sc, ph = superconducting_drivers()[0], photonic_drivers()[0]
    assert qpu_supports(sc, multi_programming=False, calibration=False)[
        "mid_circuit_measurement"]
    assert not qpu_supports(ph, multi_programming=False, calibration=False)[
        "mid_circuit_measurement"]
    assert qpu_properties(sc)["feed_forward_latency_ns"] == sc.capabilities.feed_forward_latency_ns
    assert "feed_forward_latency_ns" not in qpu_properties(ph)


def test_placement_of_a_dynamic_circuit_needs_a_qpu_that_runs_them():
    photonic_only = [QpuSlot(d) for d in photonic_drivers()]
    with pytest.raises(InvalidProgramError) as info:
        place(photonic_only, [FEED_FORWARD], wait_s=lambda s: 0.0, wait_scale_s=1.0)
    assert info.value.reason == "UNSUPPORTED_OPERATION"
    mixed = photonic_only + [QpuSlot(d) for d in superconducting_drivers()]
    chosen = place(mixed, [FEED_FORWARD], wait_s=lambda s: 0.0, wait_scale_s=1.0)
    assert chosen.slot.driver.capabilities.dynamic_circuits
