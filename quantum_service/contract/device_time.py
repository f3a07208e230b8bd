"""The one model of device time and shot accounting.

Every place that computes or predicts device time (the simulated drivers, post-selecting
drivers, simultaneous calibration programs, multi-programming, the scheduler's predictions)
uses these functions; "QPU utilisation" and "parallel execution gain" are measured in it.

Formulas (times in ns unless the name says ``_s``):

* one shot: ``shot_ns = schedule_ns + readout_duration_ns + reset_duration_ns``, where
  ``schedule_ns`` is the as-soon-as-possible gate schedule of the compiled circuit
  (:func:`schedule_duration_ns`; virtual gates last 0 ns);
* a batch: ``device_time = executions × settings × shot_count × shot_ns``, where
  ``executions`` counts circuits run (every parameter set, and every shifted circuit of a
  parameter-shift gradient) and ``settings`` the measurement settings of the observable
  (qubit-wise commuting groups of its terms, :func:`measurement_settings`; 1 for sampling
  programs);
* an exact evaluation (``shot_count = 0``: expectation values of the simulated state itself)
  is something no device can do: it is *simulator-only* and charges no device time (0 s), and
  results say so (``Job.exact``, ``SessionResult.exact``). Quotas and the fair share count
  device time only; the simulator time of exact work shows in the queue's ETA
  (:mod:`quantum_service.kernel.runtime`), not in device seconds. The alternative — charging
  the shots a device would need for some precision — would invent a precision the user never
  asked for;
* simultaneous programs on disjoint qubits: each shot lasts the *longest* program's schedule
  plus one readout and reset, ``shot_count × (max schedule_ns + readout + reset)``;
* post-selection: the device spends time on every *attempted* shot, kept or not, so a run of
  ``ran`` shots standing for ``attempted`` attempts costs ``time(ran) × attempted / ran``
  (device time is linear in the shot count);
* multi-programming: one merged run's device time is shared among its jobs in proportion to
  ``schedule_ns + readout + reset`` of each job's own circuit.

Source: the accounting of DESIGN.md ("device time is accounted from gate durations, readout
and reset, times shots"); measurement settings as in Kandala et al., Nature 549, 242 (2017).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from quantum_service.circuits.ir import Circuit
from quantum_service.contract.capabilities import QpuCapabilities
from quantum_service.contract.programs import PreparedProgram
from quantum_service.simulator.pauli import measurement_setting_count

__all__ = [
    "NS",
    "attempted_shot_time_s",
    "batch_device_time_s",
    "measurement_settings",
    "predicted_device_time_s",
    "program_duration_ns",
    "schedule_duration_ns",
    "shot_duration_ns",
    "simultaneous_device_time_s",
    "time_shares",
]

#: Seconds per nanosecond.
NS = 1e-9

#: Operations that take no gate time in a schedule.
_UNTIMED = frozenset({"measure", "barrier", "reset"})


def shot_duration_ns(schedule_ns: float, caps: QpuCapabilities) -> float:
    """One shot: the gate schedule plus readout and reset, ns."""
    return schedule_ns + caps.readout_duration_ns + caps.reset_duration_ns


def batch_device_time_s(*, executions: int, settings: int, shot_count: int,
                        shot_ns: float) -> float:
    """``executions × settings × shot_count × shot_ns``, in seconds (0 for exact evaluations).

    Args:
        executions: circuits run (>= 0), counting shifted gradient circuits.
        settings: measurement settings per circuit (>= 1).
        shot_count: shots per circuit and setting; 0 (exact, simulator-only) costs nothing.
        shot_ns: one shot's duration (:func:`shot_duration_ns`).
    """
    return executions * settings * max(shot_count, 0) * shot_ns * NS


def simultaneous_device_time_s(schedules_ns: Sequence[float], *, shot_count: int,
                               caps: QpuCapabilities) -> float:
    """Programs played at once on disjoint qubits: ``shot_count`` shots of the longest
    schedule plus one readout and reset each, seconds; 0 for no program."""
    if not schedules_ns:
        return 0.0
    return shot_count * shot_duration_ns(max(schedules_ns), caps) * NS


def attempted_shot_time_s(run_s: float, *, ran_shots: int, attempted_shots: int) -> float:
    """Device time of ``attempted_shots`` attempts from a run of ``ran_shots`` (>= 1) shots
    that took ``run_s`` seconds: ``run_s × attempted / ran`` (post-selection)."""
    return run_s * attempted_shots / ran_shots


def time_shares(schedules_ns: Sequence[float], caps: QpuCapabilities) -> list[float]:
    """Each job's share of a merged run: its ``shot_duration_ns`` over their sum (sums to 1)."""
    weights = [shot_duration_ns(s, caps) for s in schedules_ns]
    total = sum(weights)
    return [w / total for w in weights] if total > 0 else [1.0 / len(weights)] * len(weights)


def measurement_settings(observable: Sequence[tuple[str, float]] | None) -> int:
    """Measurement settings of an observable given as ``(pauli_string, coefficient)`` terms
    with strings like ``"Z0 X3"``: its qubit-wise commuting groups; 1 without observable."""
    terms: list[Mapping[int, str]] = [{int(f[1:]): f[0] for f in p.split()}
                                      for p, _ in observable or ()]
    return measurement_setting_count(terms)


def schedule_duration_ns(circuit: Circuit, caps: QpuCapabilities) -> float:
    """As-soon-as-possible schedule length of ``circuit``'s gates (durations from ``caps``), ns."""
    clock: dict[int, float] = {}
    for op in circuit.operations:
        if op.name in _UNTIMED:
            continue
        start = max((clock.get(q, 0.0) for q in op.qubits), default=0.0)
        for q in op.qubits:
            clock[q] = start + caps.gate_duration_ns(op.name)
    return max(clock.values(), default=0.0)


def program_duration_ns(program: PreparedProgram, caps: QpuCapabilities) -> float:
    """One shot's gate schedule of ``program``, ns (readout and reset excluded): the driver's
    ``PreparedProgram.duration_ns``, else ``compiled_depth`` × the slowest native gate."""
    if program.duration_ns > 0:
        return program.duration_ns
    return program.compiled_depth * caps.slowest_gate_ns


def predicted_device_time_s(programs: Sequence[PreparedProgram], caps: QpuCapabilities, *,
                            shot_count: int, parameter_set_count: int) -> float:
    """Predicted device time of a job, seconds: per program, ``max(parameter_set_count, 1)``
    executions of :func:`batch_device_time_s` with its measurement settings."""
    return sum(batch_device_time_s(
        executions=max(parameter_set_count, 1), settings=measurement_settings(p.observable),
        shot_count=shot_count, shot_ns=shot_duration_ns(program_duration_ns(p, caps), caps))
        for p in programs)
