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
* device time follows :mod:`quantum_service.contract.device_time`: per circuit execution the
  gate schedule plus readout and reset, times shots, times the number of measurement settings
  (qubit-wise commuting groups of the observable); an exact evaluation counts as one shot per
  setting.

Drift and calibration: a noisy device's true parameters drift with its device clock
(:class:`~quantum_service.devices.drift.DriftingDevice`; busy time of jobs and calibration plus
idle time passed with :meth:`SimulatedQpuDriver.advance_clock`), while the OS compiles pulses
from the installed :class:`CalibrationSnapshot`. The executable form of each prepared program is
rebuilt (noise only, never recompiled) whenever the true parameters or the snapshot change, so
stale estimates show up as coherent errors. Calibration experiments run through
:meth:`SimulatedQpuDriver.execute_native` and cost device time like any job.

Readout mitigation (``ExecutionOptions.readout_mitigation``) uses the *calibrated* assignment
matrices (:mod:`quantum_service.calibration.mitigation`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from opentelemetry import trace

from quantum_service.calibration.mitigation import mitigate_counts
from quantum_service.circuits.ir import Circuit
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.contract import (
    Calibratable,
    CalibrationSnapshot,
    DeviceParameters,
    ExecutionCancelled,
    ExecutionOptions,
    ExecutionResult,
    FixedLayout,
    PreparedProgram,
    QpuCapabilities,
    QpuDriver,
    Simultaneous,
)
from quantum_service.contract.device_time import (
    batch_device_time_s,
    shot_duration_ns,
    simultaneous_device_time_s,
)
from quantum_service.devices.drift import DRIFT_RATES, DriftingDevice, DriftRates
from quantum_service.engines import (
    Engine,
    ReadoutObservable,
    engine_names,
    estimate,
    parse_pauli_term,
    select_engine,
)
from quantum_service.engines.executable import Executable, build_executable
from quantum_service.errors import FailedPreconditionError, InvalidProgramError
from quantum_service.simulator import AdjointProgram

__all__ = ["SimulatedQpuDriver"]

tracer = trace.get_tracer(__name__)


@dataclass(slots=True)
class _Program:
    """A prepared program's compiled form and its executable, cached per device state."""

    compiled: Circuit
    extra_qubits: tuple[int, ...]
    parameters: tuple[str, ...]
    observable: Sequence[tuple[str, float]] | None
    logical_to_physical: dict[int, int]
    cache_key: tuple[int, str] | None = None
    bound: tuple[Executable, ReadoutObservable | None] | None = field(default=None, repr=False)
    #: The engine of the bound executable (planned once per executable).
    engine: tuple[Executable, Engine] | None = field(default=None, repr=False)


class SimulatedQpuDriver(QpuDriver):
    """A simulated QPU. Abilities (:mod:`quantum_service.contract.driver`): calibratable,
    simultaneous native programs, fixed layout.

    Args:
        capabilities: what the device declares.
        parameters: its true physical parameters at clock 0 (the first calibration snapshot
            equals them: the device starts freshly calibrated).
        drift: drift rates of the true parameters; ``True`` (default) takes the modality's
            :data:`~quantum_service.devices.drift.DRIFT_RATES` on noisy devices, ``False``
            disables drift. Ideal devices never drift.
        seed: seed of the drift trajectory.
        drift_step_s: device seconds per drift step.
    """

    def __init__(self, capabilities: QpuCapabilities, parameters: DeviceParameters, *,
                 drift: DriftRates | bool = True, seed: int = 0,
                 drift_step_s: float = 10.0) -> None:
        self._caps = capabilities
        rates = DRIFT_RATES.get(capabilities.modality) if drift is True else drift or None
        self._drift: DriftingDevice | None = None
        if capabilities.noisy and isinstance(rates, DriftRates):
            self._drift = DriftingDevice(parameters, rates, pairs=capabilities.coupling_map,
                                         seed=seed, step_s=drift_step_s)
        self._base = parameters
        self._snapshot = CalibrationSnapshot.create(capabilities.qpu_id, parameters)
        self._lock = threading.Lock()
        self._device_time_s = 0.0
        self._calibration_time_s = 0.0
        self._idle_time_s = 0.0
        self._target = CompileTarget(
            qubit_count=capabilities.qubit_count,
            native_gates=capabilities.native_gate_names,
            coupling_map=capabilities.coupling_map,
            max_active_qubits=capabilities.max_simulated_qubits,
        )

    @property
    def capabilities(self) -> QpuCapabilities:
        return self._caps

    @property
    def engines(self) -> tuple[str, ...]:
        return engine_names(noisy=self._caps.noisy)

    def calibratable(self) -> Calibratable:
        return self

    def simultaneous(self) -> Simultaneous:
        return self

    def fixed_layout(self) -> FixedLayout:
        return self

    def calibration_snapshot(self) -> CalibrationSnapshot:
        return self._snapshot

    def install_snapshot(self, snapshot: CalibrationSnapshot) -> None:
        """Makes ``snapshot`` the calibration that pulses are built from from now on.

        Raises:
            ValueError: the snapshot belongs to another QPU or has another qubit count.
        """
        if (snapshot.qpu_id != self._caps.qpu_id
                or len(snapshot.parameters.qubits) != self._caps.qubit_count):
            raise ValueError(f"snapshot {snapshot.snapshot_id} does not describe QPU "
                             f"{self._caps.qpu_id!r}")
        self._snapshot = snapshot

    @property
    def device_time_s(self) -> float:
        """Busy device time (jobs and calibration experiments), seconds."""
        return self._device_time_s

    @property
    def calibration_device_time_s(self) -> float:
        """Device time spent on calibration experiments, seconds."""
        return self._calibration_time_s

    @property
    def device_clock_s(self) -> float:
        """The device clock: busy plus idle device time, seconds (drift follows it)."""
        return self._device_time_s + self._idle_time_s

    @property
    def drifts(self) -> bool:
        """Whether the true parameters drift (noisy devices with drift rates)."""
        return self._drift is not None

    def true_parameters(self) -> DeviceParameters:
        """The hidden true parameters now (simulator-only: tests and benchmarks)."""
        return self._drift.parameters if self._drift is not None else self._base

    def advance_clock(self, seconds: float) -> None:
        """Lets ``seconds`` of idle device time pass (the device drifts, nothing runs).

        Raises:
            ValueError: ``seconds < 0``.
        """
        if seconds < 0:
            raise ValueError(f"idle time must be >= 0 s, got {seconds}")
        with self._lock:
            self._idle_time_s += seconds
            if self._drift is not None:
                self._drift.advance(seconds)

    def account_device_time(self, seconds: float, *, calibration: bool = False) -> None:
        """Adds ``seconds`` of busy device time (also calibration time when ``calibration``);
        the device drifts by as much. For subclasses whose devices spend time this driver's
        execution does not see (e.g. discarded shots)."""
        self._account(seconds, calibration=calibration)

    def _account(self, seconds: float, *, calibration: bool = False) -> None:
        with self._lock:
            self._device_time_s += seconds
            if calibration:
                self._calibration_time_s += seconds
            if self._drift is not None:
                self._drift.advance(seconds)

    def program_executable(self, program: PreparedProgram) -> Executable:
        """The executable form of ``program`` on this device now (active qubits, gates).

        Raises:
            FailedPreconditionError: ``program`` was not prepared by this driver (reason
                ``FOREIGN_PROGRAM``).
        """
        return self._bind(self._own_payload(program))[0]

    def compiled_circuit(self, program: PreparedProgram) -> Circuit:
        """``program`` compiled for this QPU: native gates on physical qubits.

        Raises:
            FailedPreconditionError: as :meth:`program_executable`.
        """
        return self._own_payload(program).compiled

    def mitigated_probabilities(self, program: PreparedProgram, counts: dict[str, int]
                                ) -> dict[str, float]:
        """Readout-mitigated quasi-probabilities of ``counts`` measured by ``program``, with
        the installed calibration (:mod:`quantum_service.calibration.mitigation`)."""
        return self._mitigate(self.program_executable(program), counts)

    def _own_payload(self, program: PreparedProgram) -> _Program:
        payload = program.payload
        if program.qpu_id != self._caps.qpu_id or not isinstance(payload, _Program):
            raise FailedPreconditionError(
                f"program for {program.qpu_id!r} was not prepared by QPU "
                f"{self._caps.qpu_id!r}; prepare it with the driver that executes it",
                reason="FOREIGN_PROGRAM")
        return payload

    def prepare(self, circuit: Circuit, *, observable: Sequence[tuple[str, float]] | None
                ) -> PreparedProgram:
        return self._prepare(circuit, observable=observable, fixed_layout=False)

    def prepare_physical(self, circuit: Circuit, *,
                         observable: Sequence[tuple[str, float]] | None) -> PreparedProgram:
        """Like :meth:`prepare`, for a circuit already written on physical qubits: its qubits
        are kept (no layout, no routing), as multi-programming needs for jobs packed onto
        disjoint regions.

        Raises:
            InvalidProgramError: a two-qubit gate acts on qubits that are not coupled
                (reason ``UNROUTABLE``).
        """
        return self._prepare(circuit, observable=observable, fixed_layout=True)

    def _prepare(self, circuit: Circuit, *, observable: Sequence[tuple[str, float]] | None,
                 fixed_layout: bool) -> PreparedProgram:
        caps = self._caps
        if circuit.qubit_count > caps.qubit_count:
            raise InvalidProgramError(
                f"the circuit uses {circuit.qubit_count} qubits but QPU {caps.qpu_id!r} has "
                f"{caps.qubit_count}", reason="TOO_MANY_QUBITS")
        _check_measurements(circuit, caps)
        if fixed_layout:
            compiled = compile_circuit(circuit, self._target, optimization_level=0)
            identity = tuple(range(len(compiled.initial_layout)))
            if compiled.swap_count or compiled.initial_layout != identity \
                    or compiled.final_layout != identity:
                raise InvalidProgramError(
                    f"the circuit's two-qubit gates do not all act on coupled qubits of "
                    f"{caps.qpu_id!r}; it cannot run on the qubits it names", reason="UNROUTABLE")
        else:
            compiled = compile_circuit(circuit, self._target)
        extra = {compiled.final_layout[q] for s, _ in observable or ()
                 for q in parse_pauli_term(s)}
        support = {q for s, _ in observable or () for q in parse_pauli_term(s)}
        program = _Program(compiled.circuit, tuple(sorted(extra)), tuple(circuit.parameters),
                           observable, {q: compiled.final_layout[q] for q in support})
        exe, obs = self._bind(program)
        if exe.qubit_count > caps.max_simulated_qubits:
            raise InvalidProgramError(
                f"the compiled circuit is active on {exe.qubit_count} qubits; QPU "
                f"{caps.qpu_id!r} simulates at most {caps.max_simulated_qubits}",
                reason="TOO_MANY_QUBITS")
        if observable is None and not exe.measured and not exe.measures_mid_circuit:
            raise InvalidProgramError(
                "the program measures nothing and has no observable: add measure "
                "instructions or an observable", reason="NOTHING_TO_MEASURE")
        gate_count = sum(1 for op in compiled.circuit.operations
                         if op.name not in ("measure", "barrier", "reset"))
        return PreparedProgram(
            qpu_id=caps.qpu_id, circuit=circuit, parameters=circuit.parameters,
            observable=observable, compiled_gate_count=gate_count,
            compiled_depth=compiled.depth, swap_count=compiled.swap_count,
            calibration_snapshot_id=self._snapshot.snapshot_id,
            duration_ns=exe.duration_ns, physical_qubits=exe.physical_qubits, payload=program)

    def _bind(self, program: _Program, calibrated: DeviceParameters | None = None
              ) -> tuple[Executable, ReadoutObservable | None]:
        """The executable for the current true parameters and calibration (cached)."""
        drift_version = self._drift.version if self._drift is not None else 0
        snapshot = self._snapshot
        cal = snapshot.parameters if calibrated is None else calibrated
        key = (drift_version, snapshot.snapshot_id if calibrated is None else f"id{id(cal)}")
        bound = program.bound
        if bound is not None and program.cache_key == key:
            return bound
        true = self.true_parameters()
        exe = build_executable(program.compiled, caps=self._caps, device=true,
                               extra_qubits=program.extra_qubits, parameters=program.parameters,
                               calibrated=cal)
        obs = None
        if program.observable is not None:
            mapping = {q: exe.physical_qubits.index(p)
                       for q, p in program.logical_to_physical.items()}
            cal_readout = np.array([(cal.qubits[p].readout_p01, cal.qubits[p].readout_p10)
                                    if self._caps.noisy else (0.0, 0.0)
                                    for p in exe.physical_qubits])
            previous = bound[1] if bound is not None else None
            obs = ReadoutObservable(program.observable, mapping, exe.qubit_count, exe.readout_errors,
                              cal_readout, structure=previous)
        program.bound, program.cache_key = (exe, obs), key
        return exe, obs

    # -- execution ---------------------------------------------------------------------------

    def _engine(self, program: _Program, exe: Executable) -> Engine:
        """The engine of ``exe`` (chosen and planned once per bound executable)."""
        if program.engine is None or program.engine[0] is not exe:
            program.engine = (exe, select_engine(exe))
        return program.engine[1]

    def _mitigate(self, exe: Executable, counts: dict[str, int]) -> dict[str, float]:
        cal = self._snapshot.parameters
        errors = {}
        for q, c in exe.measured:
            qp = cal.qubits[exe.physical_qubits[q]]
            errors[c] = (qp.readout_p01, qp.readout_p10) if exe.noisy else (0.0, 0.0)
        return mitigate_counts(counts, clbit_errors=errors, clbit_count=exe.clbit_count)

    def execute(self, program: PreparedProgram, parameter_sets: np.ndarray,
                options: ExecutionOptions) -> ExecutionResult:
        with tracer.start_as_current_span("engine.run") as span:  # binding + simulation
            result = self._run(cast(_Program, program.payload), parameter_sets, options)
            span.set_attribute("qcore.engine", result.engine)
            return result

    def execute_native(self, circuit: Circuit, parameter_sets: np.ndarray, *, shot_count: int,
                       seed: int | None = None, calibrated: DeviceParameters | None = None
                       ) -> ExecutionResult:
        """Runs a circuit already written on physical qubits, uncompiled (calibration).

        The circuit may use native gates, the drive pulses ``r``/``rx``/``ry`` (played with the
        longest native 1-qubit pulse duration) and ``delay`` (one constant parameter in ns);
        it must measure. Pulses are built from ``calibrated`` (default: the installed snapshot),
        so experiments see the coherent errors of the estimates being tested. Its device time
        counts as busy and as calibration time, and advances the drift.

        Args:
            circuit: ``qubit_count`` = the device's; qubits are physical.
            parameter_sets: float64 ``(m, circuit.parameter_count)``.
            shot_count: shots per parameter set, >= 1.
            seed: seed of shot sampling.
            calibrated: the estimates pulses are built from.
        Returns:
            counts per parameter set, device time.
        Raises:
            InvalidProgramError: nothing is measured, ``shot_count < 1``, or the circuit is
                active on more qubits than the device simulates.
        """
        if shot_count < 1:
            raise InvalidProgramError("calibration programs need shot_count >= 1")
        program = _Program(circuit, (), tuple(circuit.parameters), None, {})
        self._native_executable(program, calibrated)
        return self._run(program, parameter_sets, ExecutionOptions(shot_count=shot_count,
                                                                   seed=seed),
                         calibrated=calibrated, calibration=True)

    def execute_native_simultaneous(self, circuits: Sequence[Circuit], *, shot_count: int,
                                    seed: int | None = None,
                                    calibrated: DeviceParameters | None = None
                                    ) -> list[dict[str, int]]:
        """Plays calibration programs on disjoint qubits *at the same time*, ``shot_count``
        shots (simultaneous characterisation, as devices with global control and parallel
        readout calibrate their qubits; e.g. Gambetta et al., "Characterization of addressability
        by simultaneous randomized benchmarking", PRL 109, 240504 (2012)).

        Each circuit is as for :meth:`execute_native` (no symbolic parameters). The noise model
        has no crosstalk between calibration programs, so each is simulated on its own: the
        joint outcome distribution is the product of theirs. Device time is one shot of the
        longest program (plus readout and reset) per shot — not the sum — and counts as
        calibration time.

        Args:
            circuits: programs on the device's physical qubits, pairwise disjoint active qubits.
            shot_count: shots, >= 1.
            seed: seed of shot sampling.
            calibrated: the estimates pulses are built from (default: the installed snapshot).
        Returns:
            the counts of each circuit, in order.
        Raises:
            InvalidProgramError: a circuit has symbolic parameters or measures nothing, two
                circuits share a qubit (reason ``OVERLAPPING_PROGRAMS``), ``shot_count < 1``.
        """
        if shot_count < 1:
            raise InvalidProgramError("calibration programs need shot_count >= 1")
        rng = np.random.default_rng(seed)
        used: set[int] = set()
        counts: list[dict[str, int]] = []
        schedules_ns: list[float] = []
        for circuit in circuits:
            if circuit.parameters:
                raise InvalidProgramError("simultaneous calibration programs take no parameters",
                                          reason="WRONG_PARAMETER_COUNT")
            program = _Program(circuit, (), (), None, {})
            exe = self._native_executable(program, calibrated)
            active = {q for op in circuit.operations for q in op.qubits}
            if active & used:
                raise InvalidProgramError(
                    f"simultaneous programs share qubits {sorted(active & used)}",
                    reason="OVERLAPPING_PROGRAMS")
            used |= active
            engine = self._engine(program, exe)
            counts.append(engine.counts(np.zeros(0), shot_count, rng))
            schedules_ns.append(exe.duration_ns)
        if circuits:
            self._account(simultaneous_device_time_s(schedules_ns, shot_count=shot_count,
                                                     caps=self._caps), calibration=True)
        return counts

    def _native_executable(self, program: _Program, calibrated: DeviceParameters | None
                           ) -> Executable:
        """The executable of a calibration program; raises InvalidProgramError when it measures
        nothing or is active on more qubits than the device simulates."""
        exe, _ = self._bind(program, calibrated)
        if not exe.measured:
            raise InvalidProgramError("a calibration program must measure",
                                      reason="NOTHING_TO_MEASURE")
        if exe.qubit_count > self._caps.max_simulated_qubits:
            raise InvalidProgramError(f"calibration program active on {exe.qubit_count} qubits",
                                      reason="TOO_MANY_QUBITS")
        return exe

    def _shot_ns(self, schedule_ns: float) -> float:
        """One shot's device time, ns
        (:func:`~quantum_service.contract.device_time.shot_duration_ns`)."""
        return shot_duration_ns(schedule_ns, self._caps)

    def state_expectation(self, program: PreparedProgram, parameter_set: np.ndarray) -> float:
        """Exact expectation value of ``program``'s observable on the simulated state *before
        readout* (simulator-only diagnostic: state fidelities in benchmarks; no device time).

        Raises:
            InvalidProgramError: the program has no observable.
        """
        payload = cast(_Program, program.payload)
        exe, obs = self._bind(payload)
        if obs is None:
            raise InvalidProgramError("the program has no observable")
        engine = self._engine(payload, exe)
        mixture = engine.term_mixture(np.asarray(parameter_set, dtype=np.float64), obs.ideal,
                                      0, np.random.default_rng(0))
        return float(obs.ideal.coefficients @ mixture.mean)

    def _run(self, program: _Program, parameter_sets: np.ndarray, options: ExecutionOptions,
             *, calibrated: DeviceParameters | None = None, calibration: bool = False
             ) -> ExecutionResult:
        exe, obs = self._bind(program, calibrated)
        x_all = np.asarray(parameter_sets, dtype=np.float64)
        if x_all.ndim != 2 or x_all.shape[1] != exe.parameter_count:
            raise InvalidProgramError(
                f"parameter sets must have shape (m, {exe.parameter_count}), got {x_all.shape}",
                reason="WRONG_PARAMETER_COUNT")
        m = x_all.shape[0]
        rng = np.random.default_rng(options.seed)
        shots = options.shot_count
        engine = self._engine(program, exe)
        result = ExecutionResult(engine=engine.choice.name, engine_reason=engine.choice.reason)
        executions = 0
        if obs is None:
            result.counts = []
            for x in x_all:
                _check_stop(options)
                result.counts.append(engine.counts(x, shots, rng))
            if options.readout_mitigation:
                result.mitigated_probabilities = [self._mitigate(exe, c) for c in result.counts]
            executions = m
            settings = 1
        else:
            if options.gradient and not exe.gradient_supported:
                raise InvalidProgramError(
                    "gradients need every symbolic parameter in a rotation angle of the "
                    "compiled circuit", reason="GRADIENT_UNSUPPORTED")
            mitigate = options.readout_mitigation and exe.noisy
            fast = (engine.adjoint_program(obs.total)
                    if shots == 0 and not mitigate else None)
            if fast is not None:
                return self._run_fast(exe, obs, fast, x_all, options, calibration=calibration,
                                      engine=engine)
            if options.gradient_method == "adjoint":
                raise InvalidProgramError(
                    "adjoint gradients need exact expectation values (shot_count = 0) on a "
                    "noiseless QPU; use the parameter-shift rule", reason="GRADIENT_UNSUPPORTED")
            values, errors = np.empty(m), np.empty(m)
            grads = np.zeros((m, exe.parameter_count)) if options.gradient else None
            coeffs = exe.shift_coefficients()
            for row, x in enumerate(x_all):
                _check_stop(options)
                values[row], errors[row] = estimate(engine, obs, x, shots, rng,
                                                    mitigate=mitigate)
                executions += 1
                if grads is not None:
                    shifts = np.empty(len(exe.parametric))
                    for i in range(len(exe.parametric)):
                        _check_stop(options)
                        e_plus, _ = estimate(engine, obs, x, shots, rng, mitigate=mitigate,
                                             shift=(i, np.pi / 2))
                        e_minus, _ = estimate(engine, obs, x, shots, rng, mitigate=mitigate,
                                              shift=(i, -np.pi / 2))
                        shifts[i] = 0.5 * (e_plus - e_minus)
                    executions += 2 * len(exe.parametric)
                    grads[row] = coeffs.T @ shifts
            result.expectation_values, result.standard_errors = values, errors
            result.gradients = grads
            settings = obs.setting_count
        return self._finish(result, exe, executions, settings, shots, calibration=calibration)

    def _finish(self, result: ExecutionResult, exe: Executable, executions: int, settings: int,
                shots: int, *, calibration: bool) -> ExecutionResult:
        """Accounts device time (:func:`~quantum_service.contract.device_time.batch_device_time_s`:
        executions × settings × max(shots, 1) × one shot's time)."""
        device_time = batch_device_time_s(executions=executions, settings=settings,
                                          shot_count=shots, shot_ns=self._shot_ns(exe.duration_ns))
        self._account(device_time, calibration=calibration)
        result.device_time_s = device_time
        result.circuit_executions = executions
        return result

    def _run_fast(self, exe: Executable, obs: ReadoutObservable, fast: AdjointProgram,
                  x_all: np.ndarray, options: ExecutionOptions, *, calibration: bool,
                  engine: Engine) -> ExecutionResult:
        """Exact expectation values (and gradients) of a noiseless executable in one fused
        sweep per parameter set, plus one adjoint sweep for gradients (Jones & Gacon,
        arXiv:2009.02823). The values equal the gate-by-gate and parameter-shift results; the
        device time is accounted as the QPU would spend it: with the parameter-shift rule,
        2 circuits per parametric gate, unless adjoint differentiation (a simulator-only
        method) was asked for."""
        m = x_all.shape[0]
        if exe.parametric:
            A = np.stack([step.A[0] * step.scale for step in exe.parametric])
            b = np.array([step.b[0] * step.scale for step in exe.parametric])
            angles = x_all @ A.T + b
        else:
            A, angles = np.zeros((0, exe.parameter_count)), np.zeros((m, 0))
        result = ExecutionResult(standard_errors=np.zeros(m), engine=engine.choice.name,
                                 engine_reason=engine.choice.reason)
        executions = m
        if options.gradient:
            values, per_gate = fast.gradients(angles)
            result.gradients = per_gate @ A
            if options.gradient_method != "adjoint":
                executions += 2 * len(exe.parametric) * m
        else:
            values = fast.energies(angles)
        result.expectation_values = np.asarray(values, dtype=np.float64)
        return self._finish(result, exe, executions, obs.setting_count, 0,
                            calibration=calibration)


def _check_stop(options: ExecutionOptions) -> None:
    """Raises :class:`ExecutionCancelled` when ``options.should_stop`` asks to stop."""
    if options.should_stop is not None and options.should_stop():
        raise ExecutionCancelled("execution stopped on request")


def _check_measurements(circuit: Circuit, caps: QpuCapabilities) -> None:
    """Rejects a dynamic circuit (mid-circuit measurement or reset, conditional operations:
    :meth:`Circuit.dynamic_feature`) on a QPU whose capabilities do not declare
    ``dynamic_circuits`` (reason ``UNSUPPORTED_OPERATION``)."""
    if caps.dynamic_circuits:
        return
    feature = circuit.dynamic_feature()
    if feature is not None:
        raise InvalidProgramError(
            f"the program is a dynamic circuit ({feature}) but QPU {caps.qpu_id!r} "
            f"({caps.modality.value}) does not run dynamic circuits; choose a QPU whose "
            "supports['mid_circuit_measurement'] is true, or measure each qubit once at the end "
            "without conditions", reason="UNSUPPORTED_OPERATION")
