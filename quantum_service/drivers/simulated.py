"""A simulated QPU: compiler + device model + simulator engine behind the driver interface.

Execution model:

* noiseless devices simulate a state vector; noisy ones a density matrix with the channels of
  :mod:`quantum_service.devices.noise` (so at most ``max_simulated_qubits`` active qubits);
* exact expectation values are ``Tr(ρ H_meas)`` where ``H_meas`` is the observable as seen
  through the readout assignment errors: with independent errors
  ``E[z'|z] = a + b z`` (``a = p(0|1) - p(1|0)``, ``b = 1 - p(0|1) - p(1|0)``), a Pauli product
  on support ``S`` reads as ``Σ_{T⊆S} Π_{S∖T} a_i Π_T b_i P_T``;
* shot-based estimates measure each term with ``shot_count`` shots: ``k ~ Binomial(shots,
  (1 + e)/2)``, ``ê = 2k/shots - 1``, standard error ``sqrt(Σ c² (1 - ê²)/shots)``;
* gradients use the two-term parameter-shift rule on each parametric native gate
  (``∂E/∂θ = [E(θ + π/2) - E(θ - π/2)]/2``, Mitarai et al., PRA 98, 032309 (2018); Schuld et al.,
  PRA 99, 032331 (2019)) and the chain rule through the affine parameter expressions;
* device time per circuit execution is the gate schedule plus readout and reset, times shots,
  times the number of measurement settings (qubit-wise commuting groups of the observable);
  an exact evaluation counts as one shot per setting.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence

import numpy as np

from quantum_service.circuits.ir import Circuit
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.devices.model import CalibrationSnapshot, DeviceParameters
from quantum_service.drivers.base import (
    ExecutionOptions,
    ExecutionResult,
    PreparedProgram,
    QpuCapabilities,
    QpuDriver,
)
from quantum_service.drivers.executable import Executable, build_executable
from quantum_service.errors import InvalidProgramError
from quantum_service.simulator import (
    PauliSum,
    dm_expectation_value,
    dm_probabilities,
    expectation_value,
    simulate_density_matrix,
    simulate_statevector,
)

__all__ = ["SimulatedQpuDriver"]


def _parse_term(pauli_string: str) -> dict[int, str]:
    return {int(f[1:]): f[0] for f in pauli_string.split()}


def _qwc_group_count(terms: Sequence[dict[int, str]]) -> int:
    """Greedy count of qubit-wise commuting groups (measurement settings)."""
    groups: list[dict[int, str]] = []
    for term in sorted(terms, key=len, reverse=True):
        if not term:
            continue
        for group in groups:
            if all(group.get(q, p) == p for q, p in term.items()):
                group.update(term)
                break
        else:
            groups.append(dict(term))
    return max(1, len(groups))


def _format(term: dict[int, str]) -> str:
    return " ".join(f"{p}{q}" for q, p in sorted(term.items()))


class _Observable:
    """The observable on simulated qubits, per term and through the readout errors."""

    def __init__(self, terms: Sequence[tuple[str, float]], mapping: dict[int, int],
                 qubit_count: int, readout_errors: np.ndarray) -> None:
        self.coefficients = np.array([c for _, c in terms], dtype=np.float64)
        self.terms = [{mapping[q]: p for q, p in _parse_term(s).items()} for s, _ in terms]
        self.setting_count = _qwc_group_count(self.terms)
        a = readout_errors[:, 1] - readout_errors[:, 0]
        b = 1.0 - readout_errors[:, 0] - readout_errors[:, 1]
        # Each term, as read out: a small Pauli sum over the subsets of its support.
        self.term_sums: list[PauliSum] = []
        combined: dict[str, float] = {}
        for term, c in zip(self.terms, self.coefficients):
            expansion: dict[str, float] = {}
            support = sorted(term)
            for r in range(len(support) + 1):
                for kept in itertools.combinations(support, r):
                    w = float(np.prod([b[q] if q in kept else a[q] for q in support]))
                    if w != 0.0:
                        key = _format({q: term[q] for q in kept})
                        expansion[key] = expansion.get(key, 0.0) + w
            self.term_sums.append(PauliSum(list(expansion.items()), qubit_count=qubit_count))
            for key, w in expansion.items():
                combined[key] = combined.get(key, 0.0) + c * w
        self.total = PauliSum(list(combined.items()), qubit_count=qubit_count)


class SimulatedQpuDriver(QpuDriver):
    """A simulated QPU.

    Args:
        capabilities: what the device declares.
        parameters: its true physical parameters (the calibration starts equal to them).
    """

    def __init__(self, capabilities: QpuCapabilities, parameters: DeviceParameters) -> None:
        self._caps = capabilities
        self._true = parameters
        self._snapshot = CalibrationSnapshot.create(capabilities.qpu_id, parameters)
        self._lock = threading.Lock()
        self._device_time_s = 0.0
        self._target = CompileTarget(
            qubit_count=capabilities.qubit_count,
            native_gates=capabilities.native_gate_names,
            coupling_map=capabilities.coupling_map,
        )

    @property
    def capabilities(self) -> QpuCapabilities:
        return self._caps

    def calibration_snapshot(self) -> CalibrationSnapshot:
        return self._snapshot

    @property
    def device_time_s(self) -> float:
        return self._device_time_s

    def prepare(self, circuit: Circuit, *, observable: Sequence[tuple[str, float]] | None
                ) -> PreparedProgram:
        caps = self._caps
        if circuit.qubit_count > caps.qubit_count:
            raise InvalidProgramError(
                f"the circuit uses {circuit.qubit_count} qubits but QPU {caps.qpu_id!r} has "
                f"{caps.qubit_count}", reason="TOO_MANY_QUBITS")
        _check_measurements(circuit)
        compiled = compile_circuit(circuit, self._target)
        extra = {compiled.final_layout[q] for s, _ in observable or ()
                 for q in _parse_term(s)}
        exe = build_executable(compiled.circuit, caps=caps, device=self._true,
                               extra_qubits=sorted(extra), parameters=circuit.parameters)
        if exe.qubit_count > caps.max_simulated_qubits:
            raise InvalidProgramError(
                f"the compiled circuit is active on {exe.qubit_count} qubits; QPU "
                f"{caps.qpu_id!r} simulates at most {caps.max_simulated_qubits} "
                f"({'density-matrix noise model' if caps.noisy else 'state vector'})",
                reason="TOO_MANY_QUBITS")
        obs = None
        if observable is not None:
            support = {q for s, _ in observable for q in _parse_term(s)}
            mapping = {q: exe.physical_qubits.index(compiled.final_layout[q]) for q in support}
            obs = _Observable(observable, mapping, exe.qubit_count, exe.readout_errors)
        elif not exe.measured:
            raise InvalidProgramError(
                "the program measures nothing and has no observable: add measure "
                "instructions or an observable", reason="NOTHING_TO_MEASURE")
        gate_count = sum(1 for op in compiled.circuit.operations
                         if op.name not in ("measure", "barrier", "reset"))
        return PreparedProgram(
            qpu_id=caps.qpu_id, circuit=circuit, parameters=circuit.parameters,
            observable=observable, compiled_gate_count=gate_count,
            compiled_depth=compiled.depth, swap_count=compiled.swap_count,
            calibration_snapshot_id=self._snapshot.snapshot_id, payload=(exe, obs))

    # -- execution ---------------------------------------------------------------------------

    def _simulate(self, exe: Executable, ops: list[object]) -> np.ndarray:
        if exe.noisy:
            return simulate_density_matrix(exe.qubit_count, ops)
        return simulate_statevector(exe.qubit_count, ops)

    def _expect(self, exe: Executable, state: np.ndarray, pauli_sum: PauliSum) -> float:
        if exe.noisy:
            return float(dm_expectation_value(state, pauli_sum))
        return float(expectation_value(state, pauli_sum))

    def _estimate(self, exe: Executable, obs: _Observable, state: np.ndarray, shot_count: int,
                  rng: np.random.Generator) -> tuple[float, float]:
        if shot_count == 0:
            return self._expect(exe, state, obs.total), 0.0
        values = np.array([self._expect(exe, state, s) for s in obs.term_sums])
        values = np.clip(values, -1.0, 1.0)
        estimates = np.empty_like(values)
        variances = np.zeros_like(values)
        for i, (term, e) in enumerate(zip(obs.terms, values)):
            if not term:  # identity: known exactly
                estimates[i] = e
                continue
            k = rng.binomial(shot_count, (1.0 + e) / 2.0)
            estimates[i] = 2.0 * k / shot_count - 1.0
            variances[i] = (1.0 - estimates[i] ** 2) / shot_count
        return (float(obs.coefficients @ estimates),
                float(np.sqrt(obs.coefficients**2 @ variances)))

    def _counts(self, exe: Executable, state: np.ndarray, shot_count: int,
                rng: np.random.Generator) -> dict[str, int]:
        probs = (dm_probabilities(state) if exe.noisy else np.abs(state) ** 2).astype(np.float64)
        probs /= probs.sum()
        outcomes = rng.choice(probs.size, size=shot_count, p=probs)
        qubits = np.array([q for q, _ in exe.measured])
        clbits = [c for _, c in exe.measured]
        bits = ((outcomes[:, None] >> qubits[None, :]) & 1).astype(np.uint8)
        if exe.noisy:
            flip_p = np.where(bits == 0, exe.readout_errors[qubits, 0],
                              exe.readout_errors[qubits, 1])
            bits ^= (rng.random(bits.shape) < flip_p).astype(np.uint8)
        words = np.zeros((shot_count, exe.clbit_count), dtype=np.uint8)
        words[:, clbits] = bits
        keys, freq = np.unique(words[:, ::-1], axis=0, return_counts=True)
        return {"".join(map(str, row)): int(c) for row, c in zip(keys, freq)}

    def execute(self, program: PreparedProgram, parameter_sets: np.ndarray,
                options: ExecutionOptions) -> ExecutionResult:
        exe, obs = program.payload
        x_all = np.asarray(parameter_sets, dtype=np.float64)
        if x_all.ndim != 2 or x_all.shape[1] != exe.parameter_count:
            raise InvalidProgramError(
                f"parameter sets must have shape (m, {exe.parameter_count}), got {x_all.shape}",
                reason="WRONG_PARAMETER_COUNT")
        m = x_all.shape[0]
        rng = np.random.default_rng(options.seed)
        shots = options.shot_count
        result = ExecutionResult()
        executions = 0
        if obs is None:
            result.counts = []
            for x in x_all:
                state = self._simulate(exe, exe.ops(x))
                result.counts.append(self._counts(exe, state, shots, rng))
            executions = m
            settings = 1
        else:
            if options.gradient and not exe.gradient_supported:
                raise InvalidProgramError(
                    "gradients need every symbolic parameter in a rotation angle of the "
                    "compiled circuit", reason="GRADIENT_UNSUPPORTED")
            values, errors = np.empty(m), np.empty(m)
            grads = np.zeros((m, exe.parameter_count)) if options.gradient else None
            coeffs = exe.shift_coefficients()
            for row, x in enumerate(x_all):
                state = self._simulate(exe, exe.ops(x))
                values[row], errors[row] = self._estimate(exe, obs, state, shots, rng)
                executions += 1
                if grads is not None:
                    shifts = np.empty(len(exe.parametric))
                    for i in range(len(exe.parametric)):
                        plus = self._simulate(exe, exe.ops(x, (i, np.pi / 2)))
                        minus = self._simulate(exe, exe.ops(x, (i, -np.pi / 2)))
                        e_plus, _ = self._estimate(exe, obs, plus, shots, rng)
                        e_minus, _ = self._estimate(exe, obs, minus, shots, rng)
                        shifts[i] = 0.5 * (e_plus - e_minus)
                    executions += 2 * len(exe.parametric)
                    grads[row] = coeffs.T @ shifts
            result.expectation_values, result.standard_errors = values, errors
            result.gradients = grads
            settings = obs.setting_count
        per_shot_ns = exe.duration_ns + self._caps.readout_duration_ns + self._caps.reset_duration_ns
        device_time = executions * settings * max(shots, 1) * per_shot_ns * 1e-9
        with self._lock:
            self._device_time_s += device_time
        result.device_time_s = device_time
        result.circuit_executions = executions
        return result


def _check_measurements(circuit: Circuit) -> None:
    """Rejects mid-circuit measurement and mid-circuit reset (not simulated)."""
    measured: set[int] = set()
    touched: set[int] = set()
    for op in circuit.operations:
        if op.name == "barrier":
            continue
        if op.name == "measure":
            measured.update(op.qubits)
            continue
        if op.name == "reset":
            if any(q in touched for q in op.qubits):
                raise InvalidProgramError("reset after a gate is not supported; qcore starts "
                                          "every qubit in |0>", reason="UNSUPPORTED_OPERATION")
            continue
        if measured & set(op.qubits):
            raise InvalidProgramError(
                f"gate {op.name!r} acts on an already measured qubit; mid-circuit measurement "
                f"is not supported", reason="UNSUPPORTED_OPERATION")
        touched.update(op.qubits)
