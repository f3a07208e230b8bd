"""Predictions the scheduler works with: device time of a job and fidelity of a compiled circuit.

Device time follows the accounting of the simulated drivers (see
:mod:`quantum_service.drivers.simulated`): one shot costs the gate schedule plus readout and
reset, and a program runs ``max(shot_count, 1)`` shots per parameter set and per measurement
setting (qubit-wise commuting group of the observable). The schedule length is the driver's
``PreparedProgram.duration_ns`` set by the driver; otherwise it is bounded by
``compiled_depth`` × the slowest native gate.

Fidelity is the *estimated success probability* (ESP): the product of the calibrated fidelities
of every gate and of the readout of every measured qubit (Nishio et al., "Extracting success
from IBM's 20-qubit machines using error-aware compilation", ACM JETC 16, 32 (2020); Murali et
al., "Noise-adaptive compiler mappings for noisy intermediate-scale quantum computers",
ASPLOS 2019). Virtual gates (0 ns, e.g. ``rz``) are error-free.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantum_service.circuits.ir import Circuit
from quantum_service.contract import DeviceParameters, PreparedProgram, QpuCapabilities
from quantum_service.simulator.pauli import measurement_setting_count

__all__ = [
    "estimated_success_probability",
    "predicted_device_time_s",
    "program_duration_ns",
    "program_physical_qubits",
    "schedule_duration_ns",
]


def schedule_duration_ns(circuit: Circuit, caps: QpuCapabilities) -> float:
    """As-soon-as-possible schedule length of ``circuit``'s gates, nanoseconds."""
    clock: dict[int, float] = {}
    for op in circuit.operations:
        if op.name in ("measure", "barrier", "reset"):
            continue
        start = max((clock.get(q, 0.0) for q in op.qubits), default=0.0)
        for q in op.qubits:
            clock[q] = start + caps.gate_duration_ns(op.name)
    return max(clock.values(), default=0.0)


def program_duration_ns(program: PreparedProgram, caps: QpuCapabilities) -> float:
    """One shot's gate schedule of ``program``, nanoseconds (readout and reset excluded): the
    driver's ``PreparedProgram.duration_ns``, else ``compiled_depth`` × the slowest native gate.
    """
    if program.duration_ns > 0:
        return program.duration_ns
    slowest = max((g.duration_ns for g in caps.native_gates), default=0.0)
    return program.compiled_depth * slowest


def program_physical_qubits(program: PreparedProgram) -> tuple[int, ...]:
    """The device qubits ``program`` occupies (``()`` when its driver does not say)."""
    return tuple(sorted(program.physical_qubits))


def predicted_device_time_s(programs: Sequence[PreparedProgram], caps: QpuCapabilities, *,
                            shot_count: int, parameter_set_count: int) -> float:
    """Predicted device time of a job, seconds.

    ``Σ_programs parameter_set_count × settings × max(shot_count, 1) × (duration + readout +
    reset)``, durations in ns from ``caps`` and :func:`program_duration_ns`.
    """
    per_shot = caps.readout_duration_ns + caps.reset_duration_ns
    total_ns = 0.0
    for program in programs:
        terms = [{int(f[1:]): f[0] for f in p.split()} for p, _ in program.observable or ()]
        settings = measurement_setting_count(terms)
        total_ns += (max(parameter_set_count, 1) * settings * max(shot_count, 1)
                     * (program_duration_ns(program, caps) + per_shot))
    return total_ns * 1e-9


def estimated_success_probability(circuit: Circuit, caps: QpuCapabilities,
                                  device: DeviceParameters) -> float:
    """ESP of ``circuit`` (native gates on physical qubits) from calibrated fidelities.

    Args:
        circuit: a compiled circuit on ``caps``' physical qubits.
        caps: gate durations (0-ns gates are virtual and error-free) and the ``noisy`` flag.
        device: calibrated parameters (a calibration snapshot's ``parameters``).
    Returns:
        a probability in ``(0, 1]``; exactly 1 on ideal devices.
    """
    if not caps.noisy:
        return 1.0
    log_esp = 0.0
    for op in circuit.operations:
        if op.name == "measure":
            for q in op.qubits:
                log_esp += np.log(max(device.qubits[q].readout_fidelity, 1e-12))
            continue
        if op.name in ("barrier", "reset") or caps.gate_duration_ns(op.name) <= 0.0:
            continue
        if len(op.qubits) == 1:
            fidelity = device.qubits[op.qubits[0]].single_qubit_gate_fidelity
        else:
            fidelity = device.pair(*op.qubits[:2]).two_qubit_gate_fidelity
        log_esp += np.log(max(fidelity, 1e-12))
    return float(np.exp(log_esp))
