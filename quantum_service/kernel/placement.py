"""Placement of a job that names no QPU.

Candidates are the QPUs whose capabilities fit the program: enough physical qubits, within
the simulation limit, and — when the job asks for exact expectation values (``shot_count = 0``)
— noiseless; a dynamic circuit (mid-circuit measurement, reset, feed-forward) only goes to QPUs
declaring ``dynamic_circuits``. For each candidate the program is compiled for the QPU and its
estimated success probability ``ESP`` is computed from the QPU's *calibrated* fidelities
(:func:`~quantum_service.kernel.estimate.estimated_success_probability`); the predicted wait is
the device time queued ahead of it. QPUs with heralded (probabilistic) two-qubit gates, whose
kept shots are a small fraction of those asked for, are only used when a job names them. The
QPU (among those ``available``, e.g. with a free session lease) maximising

    log(ESP) - wait_s / wait_scale_s

wins (``wait_scale_s``: the wait worth a factor e in fidelity; ties go to the shorter wait,
then the id). The reason names the winner's ESP and wait and the runner-up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from quantum_service.circuits.ir import Circuit
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.contract import HERALDED_TWO_QUBIT_GATES
from quantum_service.errors import InvalidProgramError, QcoreError, ResourceExhaustedError
from quantum_service.kernel.estimate import estimated_success_probability
from quantum_service.kernel.qpus import QpuSlot

__all__ = ["Placement", "place"]


@dataclass(frozen=True, slots=True)
class Placement:
    """The chosen QPU and why."""

    slot: QpuSlot
    reason: str
    esp: float
    wait_s: float


def _esp(circuits: Sequence[Circuit], slot: QpuSlot) -> float:
    caps = slot.driver.capabilities
    target = CompileTarget(qubit_count=caps.qubit_count, native_gates=caps.native_gate_names,
                           coupling_map=caps.coupling_map,
                           max_active_qubits=caps.max_simulated_qubits)
    device = slot.driver.calibration_snapshot().parameters
    esp = 1.0
    for circuit in circuits:
        compiled = compile_circuit(circuit, target)
        esp *= estimated_success_probability(compiled.circuit, caps, device)
    return esp


def place(slots: Sequence[QpuSlot], circuits: Sequence[Circuit], *, wait_s: Callable[[QpuSlot],
          float], wait_scale_s: float, require_noiseless: bool = False,
          available: Callable[[QpuSlot], bool] | None = None) -> Placement:
    """Chooses a QPU for ``circuits`` (see the module docstring).

    Args:
        slots: the QPUs.
        circuits: the job's programs (logical circuits).
        wait_s: predicted wait on a QPU, device seconds.
        wait_scale_s: wait worth a factor e of fidelity (> 0).
        require_noiseless: only noiseless QPUs qualify (exact expectation values).
        available: only QPUs it accepts qualify (sessions: a free lease); ``None``: all.
    Raises:
        InvalidProgramError: no QPU fits (reason ``TOO_MANY_QUBITS``, ``NO_SUITABLE_QPU``, or
            ``UNSUPPORTED_OPERATION`` for a dynamic circuit no fitting QPU runs).
        ResourceExhaustedError: QPUs fit, none of them ``available`` (reason
            ``SESSION_LIMIT``).
    """
    width = max(c.qubit_count for c in circuits)
    wide = [s for s in slots if min(s.driver.capabilities.qubit_count,
                                    s.driver.capabilities.max_simulated_qubits) >= width]
    if not wide:
        widest = max(min(s.driver.capabilities.qubit_count,
                         s.driver.capabilities.max_simulated_qubits) for s in slots)
        raise InvalidProgramError(
            f"no QPU can run a {width}-qubit program (the widest runs {widest} qubits)",
            reason="TOO_MANY_QUBITS")
    # Devices that keep only heralded shots (photonic) return far fewer counts than asked for:
    # they run jobs that name them, never by automatic placement.
    wide = [s for s in wide
            if not s.driver.supports.get(HERALDED_TWO_QUBIT_GATES, False)]
    feature = next((f for c in circuits if (f := c.dynamic_feature()) is not None), None)
    if feature is not None:
        wide = [s for s in wide if s.driver.capabilities.dynamic_circuits]
        if not wide:
            raise InvalidProgramError(
                f"the program is a dynamic circuit ({feature}) and no QPU that fits {width} "
                "qubits runs dynamic circuits", reason="UNSUPPORTED_OPERATION")
    fits = [s for s in wide if not (require_noiseless and s.driver.capabilities.noisy)]
    if not fits:
        raise InvalidProgramError(
            "exact expectation values (shot_count = 0) need a noiseless QPU and none fits "
            f"{width} qubits; set shot_count > 0 or name a qpu_id", reason="NO_SUITABLE_QPU")
    if available is not None:
        free = [s for s in fits if available(s)]
        if not free:
            raise ResourceExhaustedError(
                f"every QPU that fits this {width}-qubit program "
                f"({', '.join(s.driver.capabilities.qpu_id for s in fits)}) has its maximum of "
                f"open sessions; close one or retry later", reason="SESSION_LIMIT")
        fits = free
    scored = []
    for slot in fits:
        try:
            esp = _esp(circuits, slot)
        except QcoreError:
            continue  # e.g. unroutable on this coupling map: not a candidate
        wait = wait_s(slot)
        score = math.log(max(esp, 1e-300)) - wait / wait_scale_s
        scored.append((-score, wait, slot.driver.capabilities.qpu_id, slot, esp))
    if not scored:
        raise InvalidProgramError(f"no QPU can compile this {width}-qubit program",
                                  reason="NO_SUITABLE_QPU")
    scored.sort(key=lambda t: t[:3])
    _, wait, qpu_id, slot, esp = scored[0]
    reason = (f"scheduler: {len(scored)} QPU(s) fit {width} qubits"
              f"{' (noiseless required)' if require_noiseless else ''}; {qpu_id} has predicted "
              f"fidelity {esp:.3f} and wait {wait:.3g} s")
    if len(scored) > 1:
        _, wait2, qpu2, _, esp2 = scored[1]
        reason += f" (next best {qpu2}: fidelity {esp2:.3f}, wait {wait2:.3g} s)"
    return Placement(slot, reason, esp, wait)
