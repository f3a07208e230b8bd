"""A Qiskit ``Target`` from a qcore QPU description (``qcore.v1.QpuDescription``).

Native gates map by name onto Qiskit's standard gates (``rz sx x cz``, ``r rz rxx``); each gate
is offered on every qubit (one-qubit gates) or on both directions of every coupling (two-qubit
gates; every pair of an all-to-all device). Durations are the QPU's in seconds; errors are
``1 - fidelity`` from the latest calibration snapshot (per qubit: ``single_qubit_gate_fidelity``;
per pair: ``two_qubit_gate_fidelity``), else the native gate's average fidelity. ``measure``
carries ``1 - readout_fidelity`` and the readout duration, ``reset`` the reset duration; qubit
properties carry T1, T2 (s) and frequency (Hz).
"""

from __future__ import annotations

import itertools

from qiskit.circuit import Measure, Reset
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.providers import QubitProperties
from qiskit.transpiler import InstructionProperties, Target

from qcore.v1 import common_pb2

__all__ = ["target_from_qpu"]

_NS = 1e-9
_US = 1e-6


def _pairs(qpu: common_pb2.QpuDescription) -> list[tuple[int, int]]:
    if qpu.all_to_all:
        return list(itertools.permutations(range(qpu.qubit_count), 2))
    edges = {(c.qubit_a, c.qubit_b) for c in qpu.coupling_map}
    return sorted(edges | {(b, a) for a, b in edges})


def target_from_qpu(qpu: common_pb2.QpuDescription) -> Target:
    """The ``Target`` of ``qpu`` (see the module docstring).

    Raises:
        ValueError: a native gate with no Qiskit standard gate of that name.
    """
    calibration = qpu.calibration
    by_qubit = {q.qubit: q for q in calibration.qubits}
    by_pair = {}
    for pair in calibration.pairs:
        by_pair[(pair.qubit_a, pair.qubit_b)] = by_pair[(pair.qubit_b, pair.qubit_a)] = pair
    qubit_properties = [
        QubitProperties(t1=by_qubit[q].t1_us * _US or None, t2=by_qubit[q].t2_us * _US or None,
                        frequency=by_qubit[q].frequency_hz or None)
        if q in by_qubit else QubitProperties() for q in range(qpu.qubit_count)]
    target = Target(description=f"qcore {qpu.qpu_id}", num_qubits=qpu.qubit_count,
                    qubit_properties=qubit_properties)
    standard = get_standard_gate_name_mapping()
    for gate in qpu.native_gates:
        if gate.name not in standard:
            raise ValueError(f"native gate {gate.name!r} of {qpu.qpu_id} has no Qiskit "
                             "standard gate")
        duration = gate.duration_ns * _NS
        properties: dict[tuple[int, ...], InstructionProperties] = {}
        if gate.qubit_count == 1:
            for q in range(qpu.qubit_count):
                fidelity = (by_qubit[q].single_qubit_gate_fidelity
                            if duration > 0 and q in by_qubit
                            and by_qubit[q].single_qubit_gate_fidelity else gate.fidelity)
                properties[(q,)] = InstructionProperties(duration=duration, error=1 - fidelity)
        else:
            for a, b in _pairs(qpu):
                pair = by_pair.get((a, b))
                fidelity = pair.two_qubit_gate_fidelity if pair and \
                    pair.two_qubit_gate_fidelity else gate.fidelity
                properties[(a, b)] = InstructionProperties(duration=duration, error=1 - fidelity)
        target.add_instruction(standard[gate.name], properties)
    readout = qpu.readout_duration_ns * _NS
    target.add_instruction(Measure(), {
        (q,): InstructionProperties(duration=readout, error=(1 - by_qubit[q].readout_fidelity)
                                    if q in by_qubit else None)
        for q in range(qpu.qubit_count)})
    target.add_instruction(Reset(), {
        (q,): InstructionProperties(duration=qpu.reset_duration_ns * _NS)
        for q in range(qpu.qubit_count)})
    return target
