"""Predictions the scheduler works with beyond device time: the qubits a program occupies and
the fidelity of a compiled circuit. (Predicted device time is
:func:`quantum_service.contract.device_time.predicted_device_time_s`.)

Fidelity is the *estimated success probability* (ESP): the product of the calibrated fidelities
of every gate and of the readout of every measured qubit (Nishio et al., "Extracting success
from IBM's 20-qubit machines using error-aware compilation", ACM JETC 16, 32 (2020); Murali et
al., "Noise-adaptive compiler mappings for noisy intermediate-scale quantum computers",
ASPLOS 2019). Virtual gates (0 ns, e.g. ``rz``) are error-free.
"""

from __future__ import annotations

import numpy as np

from quantum_service.circuits.ir import Circuit
from quantum_service.contract import DeviceParameters, PreparedProgram, QpuCapabilities

__all__ = ["estimated_success_probability", "program_physical_qubits"]


def program_physical_qubits(program: PreparedProgram) -> tuple[int, ...]:
    """The device qubits ``program`` occupies (``()`` when its driver does not say)."""
    return tuple(sorted(program.physical_qubits))


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
