"""Executable form of a compiled circuit on a simulated QPU.

Built once per prepared program (per session): the compiled circuit is restricted to its
*active* qubits (relabelled ``0..k-1``), constant gate matrices are built once, noise channels are
inserted from the device parameters, parametric gates keep an affine map from the parameter
vector to their angles, and the observable is moved to the physical qubits where the routed
logical qubits end. Binding a parameter set then costs one matrix build per parametric gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from quantum_service.circuits.gates import gate_spec
from quantum_service.circuits.ir import Circuit
from quantum_service.devices.model import DeviceParameters
from quantum_service.devices.noise import (
    depolarizing,
    entanglement_fidelity,
    relaxation_kraus,
    residual_depolarizing_p,
)
from quantum_service.drivers.base import QpuCapabilities
from quantum_service.simulator import Channel

__all__ = ["Executable", "build_executable", "ParametricStep"]


@dataclass(slots=True)
class ParametricStep:
    """A gate whose angles depend on the parameter vector: ``angles = A @ x + b``."""

    position: int
    name: str
    qubits: tuple[int, ...]
    A: np.ndarray  # (param_count_of_gate, parameter_count)
    b: np.ndarray  # (param_count_of_gate,)
    shift_rule: bool


@dataclass(slots=True)
class Executable:
    """A compiled circuit ready to simulate.

    Attributes:
        qubit_count: active qubits (``k``); simulated state has ``2**k`` amplitudes.
        physical_qubits: ``physical_qubits[i]`` is the device qubit of simulated qubit ``i``.
        steps: ops in order; an entry is ``(qubits, matrix)``, a :class:`Channel`, or ``None``
            at the positions of parametric gates (filled per parameter set).
        parametric: the parametric gates.
        parameter_count: length of a parameter vector.
        measured: ``(simulated qubit, clbit)`` pairs of the circuit's measurements.
        clbit_count: classical bits of the circuit.
        readout_errors: per simulated qubit ``(p(1|0), p(0|1))``; zeros on ideal devices.
        duration_ns: one shot's gate schedule length (readout and reset excluded).
        noisy: whether channels are present (density-matrix simulation).
    """

    qubit_count: int
    physical_qubits: tuple[int, ...]
    steps: list[object]
    parametric: list[ParametricStep]
    parameter_count: int
    measured: tuple[tuple[int, int], ...]
    clbit_count: int
    readout_errors: np.ndarray
    duration_ns: float
    noisy: bool
    logical_to_simulated: dict[int, int] = field(default_factory=dict)

    @property
    def gradient_supported(self) -> bool:
        return all(step.shift_rule for step in self.parametric)

    def ops(self, x: np.ndarray, shift: tuple[int, float] | None = None) -> list[object]:
        """The numeric program for parameter vector ``x`` (float64 ``(parameter_count,)``).

        ``shift = (i, delta)`` adds ``delta`` to the first angle of parametric gate ``i``
        (parameter-shift rule).
        """
        ops = list(self.steps)
        for i, step in enumerate(self.parametric):
            angles = step.A @ x + step.b
            if shift is not None and shift[0] == i:
                angles = angles.copy()
                angles[0] += shift[1]
            ops[step.position] = (step.qubits, gate_spec(step.name).matrix(angles))
        return ops

    def shift_coefficients(self) -> np.ndarray:
        """float64 ``(len(parametric), parameter_count)``: d(first angle of gate i)/d x_j."""
        if not self.parametric:
            return np.zeros((0, self.parameter_count))
        return np.stack([step.A[0] for step in self.parametric])


def _measure_layout(compiled: Circuit) -> list[tuple[int, int]]:
    return [(q, c) for op in compiled.operations if op.name == "measure"
            for q, c in zip(op.qubits, op.clbits)]


def build_executable(compiled: Circuit, *, caps: QpuCapabilities, device: DeviceParameters,
                     extra_qubits: Sequence[int] = (), parameters: Sequence[str]) -> Executable:
    """Builds the executable form of ``compiled`` (a circuit on physical qubits).

    Args:
        compiled: native-gate circuit on the device's physical qubits.
        caps: the device capabilities (gate durations, noisy flag).
        device: the device's *true* physical parameters (noise is derived from these).
        extra_qubits: physical qubits that must be simulated although no gate touches them
            (observable support, measured qubits).
        parameters: parameter-vector order.
    """
    active = sorted({q for op in compiled.operations for q in op.qubits} | set(extra_qubits))
    if not active:
        active = [0]
    index = {q: i for i, q in enumerate(active)}
    col = {name: j for j, name in enumerate(parameters)}
    n_params = len(parameters)
    noisy = caps.noisy
    clock = dict.fromkeys(active, 0.0)
    steps: list[object] = []
    parametric: list[ParametricStep] = []

    def idle(q: int, until: float) -> None:
        gap = until - clock[q]
        if noisy and gap > 0:
            qp = device.qubits[q]
            steps.append(Channel((index[q],), relaxation_kraus(qp.t1_us, qp.t2_us, gap)))
        clock[q] = until

    for op in compiled.operations:
        if op.name in ("measure", "barrier"):
            continue
        if op.name == "reset":
            continue  # only initial resets are accepted by validation: the state starts in |0>
        spec = gate_spec(op.name)
        sim_qubits = tuple(index[q] for q in op.qubits)
        duration = caps.gate_duration_ns(op.name)
        start = max(clock[q] for q in op.qubits)
        for q in op.qubits:
            idle(q, start)
        if op.is_parametric:
            A = np.zeros((len(op.params), n_params))
            b = np.zeros(len(op.params))
            for k, p in enumerate(op.params):
                b[k] = p.constant
                for symbol, coefficient in p.terms:
                    A[k, col[symbol]] += coefficient
            shiftable = spec.shift_rule or (
                op.name == "r" and all(not op.params[k].terms for k in range(1, len(op.params))))
            parametric.append(ParametricStep(len(steps), op.name, sim_qubits, A, b, shiftable))
            steps.append(None)
        else:
            steps.append((sim_qubits, spec.matrix([p.constant for p in op.params])))
        for q in op.qubits:
            clock[q] = start + duration
        if noisy and duration > 0:
            fe = 1.0
            for q in op.qubits:
                qp = device.qubits[q]
                kraus = relaxation_kraus(qp.t1_us, qp.t2_us, duration)
                fe *= entanglement_fidelity(kraus)
                steps.append(Channel((index[q],), kraus))
            if len(op.qubits) == 1:
                fidelity = device.qubits[op.qubits[0]].single_qubit_gate_fidelity
            else:
                fidelity = device.pair(*op.qubits).two_qubit_gate_fidelity
            p = residual_depolarizing_p(fidelity, fe, len(op.qubits))
            if p > 0:
                steps.append(Channel(sim_qubits, depolarizing(p, len(op.qubits))))
    end = max(clock.values(), default=0.0)
    for q in active:
        idle(q, end)
    readout = np.array([
        (device.qubits[q].readout_p01, device.qubits[q].readout_p10) if noisy else (0.0, 0.0)
        for q in active
    ])
    measured = tuple((index[q], c) for q, c in _measure_layout(compiled))
    return Executable(
        qubit_count=len(active), physical_qubits=tuple(active), steps=steps,
        parametric=parametric, parameter_count=n_params, measured=measured,
        clbit_count=compiled.clbit_count, readout_errors=readout, duration_ns=end,
        noisy=noisy,
    )
