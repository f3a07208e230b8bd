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
  (qubit-wise commuting groups of the observable); an exact evaluation (``shot_count = 0``) is
  simulator-only and costs no device time;
* several observables of one program (``prepare(observables=...)``) are read from the distinct
  Pauli terms of them all: one execution per measurement setting (qubit-wise commuting group)
  of those terms serves every observable, so device time counts each setting once, however
  many observables read it.

Drift and calibration: a noisy device's true parameters drift with its device clock
(:class:`~quantum_service.devices.drift.DriftingDevice`; busy time of jobs and calibration plus
idle time passed with :meth:`SimulatedQpuDriver.advance_clock`), while the OS compiles pulses
from the installed :class:`CalibrationSnapshot`. The executable form of each prepared program is
rebuilt (noise only, never recompiled) whenever the true parameters or the snapshot change, so
stale estimates show up as coherent errors. Calibration experiments run through
:meth:`SimulatedQpuDriver.execute_native` and cost device time like any job.

Readout mitigation (``ExecutionOptions.readout_mitigation``) uses the *calibrated* assignment
matrices (:mod:`quantum_service.calibration.mitigation`).

Circuit-level mitigation (``ExecutionOptions.mitigation``; :mod:`quantum_service.mitigation`)
transforms the *compiled* circuit — folded for each noise scale factor, twirled with a fresh
Pauli frame per randomization, decoupling pulses in its idle windows — and runs every variant
as its own executable, so the device's per-gate and idle noise acts on every inserted gate.
Twirling splits the shots evenly among its frames (``ceil(shot_count / R)`` each); every
variant's shots are charged as device time. The values at each scale factor are averaged over
frames (standard error ``sqrt(Σ_r σ_r²) / R``) and extrapolated to zero noise
(:func:`~quantum_service.mitigation.extrapolate`); gradients are extrapolated with the same
linear weights. Each variant runs with its own seed drawn from ``(seed, scale index, frame)``,
and the frames from ``(seed, scale index)``, so a seeded run is reproducible and independent
of chunking.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np
from opentelemetry import trace

from quantum_service.calibration.mitigation import mitigate_counts
from quantum_service.circuits.ir import Circuit
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.contract import (
    DYNAMICAL_DECOUPLING,
    PAULI_TWIRLING,
    ZERO_NOISE_EXTRAPOLATION,
    Calibratable,
    CalibrationSnapshot,
    DeviceParameters,
    ExecutionOptions,
    ExecutionResult,
    Executor,
    Extrapolation,
    FixedLayout,
    Mitigating,
    MitigationOptions,
    MitigationRecord,
    Offloadable,
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
    parse_pauli_term,
    stack_observables,
)
from quantum_service.engines.executable import Executable, build_executable
from quantum_service.engines.mps import DEFAULT_MAX_BOND_DIMENSION
from quantum_service.errors import FailedPreconditionError, InvalidProgramError
from quantum_service.execution.inprocess import InProcessExecutor
from quantum_service.mitigation import (
    extrapolate,
    extrapolation_weights,
    fold_circuit,
    insert_decoupling,
    twirl_circuit,
)
from quantum_service.mitigation.folding import split_body
from quantum_service.execution.simulation import (
    CountsItem,
    EstimateItem,
    ExactItem,
    SimulationProgram,
    estimated_row_s,
    run_counts,
    run_estimates,
    run_exact,
)

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
    #: float64 ``(k, terms)`` for ``k`` observables read from ``observable``'s terms
    #: (:func:`~quantum_service.engines.stack_observables`); ``None`` for one observable.
    rows: np.ndarray | None = None
    cache_key: tuple[object, str] | None = None
    bound: tuple[Executable, ReadoutObservable | None] | None = field(default=None, repr=False)
    #: The bound executable as simulation work (its engine planned once per executable).
    simulation: SimulationProgram | None = field(default=None, repr=False)
    #: Deterministic mitigation variants (folded, decoupled) of this program, by transform.
    variants: dict[tuple[object, ...], _Program] = field(default_factory=dict, repr=False)
    #: For a folded variant: the achieved noise scale factor; decoupling pulses inserted.
    scale_factor: float = 1.0
    decoupling_pulse_count: int = 0


class SimulatedQpuDriver(QpuDriver):
    """A simulated QPU. Abilities (:mod:`quantum_service.contract.driver`): calibratable,
    simultaneous native programs, fixed layout, offloadable, mitigating (zero-noise
    extrapolation and Pauli twirling everywhere; dynamical decoupling on noisy devices, whose
    idle qubits decohere).

    Pure simulation (bound executable + parameter sets + shots + seed → counts or values) runs
    on the driver's :class:`~quantum_service.contract.Executor` (in-process unless
    :meth:`use_executor` set another); binding, device time, drift and calibration stay here.

    Args:
        capabilities: what the device declares.
        parameters: its true physical parameters at clock 0 (the first calibration snapshot
            equals them: the device starts freshly calibrated).
        drift: drift rates of the true parameters; ``True`` (default) takes the modality's
            :data:`~quantum_service.devices.drift.DRIFT_RATES` on noisy devices, ``False``
            disables drift. Ideal devices never drift.
        seed: seed of the drift trajectory.
        drift_step_s: device seconds per drift step.
        max_bond_dimension: the bond cap of matrix-product-state simulations (default
            :data:`~quantum_service.engines.mps.DEFAULT_MAX_BOND_DIMENSION`), >= 1, as a
            simulator's backend option (Qiskit Aer's ``matrix_product_state_max_bond_dimension``);
            what a lower cap cuts off is reported on every result
            (``ExecutionResult.truncation_errors``).
    Raises:
        ValueError: ``max_bond_dimension`` is not an integer >= 1.
    """

    def __init__(self, capabilities: QpuCapabilities, parameters: DeviceParameters, *,
                 drift: DriftRates | bool = True, seed: int = 0,
                 drift_step_s: float = 10.0,
                 max_bond_dimension: int = DEFAULT_MAX_BOND_DIMENSION) -> None:
        if not isinstance(max_bond_dimension, int) or max_bond_dimension < 1:
            raise ValueError(f"max_bond_dimension must be an integer >= 1, got "
                             f"{max_bond_dimension!r}")
        self._max_bond_dimension = int(max_bond_dimension)
        self._caps = capabilities
        rates = DRIFT_RATES.get(capabilities.modality) if drift is True else drift or None
        self._drift: DriftingDevice | None = None
        if capabilities.noisy and isinstance(rates, DriftRates):
            self._drift = DriftingDevice(parameters, rates, pairs=capabilities.coupling_map,
                                         seed=seed, step_s=drift_step_s)
        self._executor: Executor = InProcessExecutor()
        self._base = parameters
        self._snapshot = CalibrationSnapshot.create(capabilities.qpu_id, parameters)
        #: Every snapshot installed so far, for runs pinned to an earlier device state.
        self._snapshots: dict[str, CalibrationSnapshot] = {self._snapshot.snapshot_id:
                                                            self._snapshot}
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

    def offloadable(self) -> Offloadable:
        return self

    def mitigating(self) -> Mitigating | None:
        return self

    @property
    def supports(self) -> dict[str, bool]:
        """Mitigation flags: ZNE and twirling always; dynamical decoupling where idle qubits
        decohere (:attr:`idle_qubits_decohere`)."""
        return {ZERO_NOISE_EXTRAPOLATION: True, PAULI_TWIRLING: True,
                DYNAMICAL_DECOUPLING: self.idle_qubits_decohere}

    @property
    def idle_qubits_decohere(self) -> bool:
        """Whether the device model applies noise to idle qubits: on a noisy device every idle
        window gets ``T1``/``T2`` relaxation, detuning precession and ZZ phases
        (:mod:`quantum_service.engines.executable`); an ideal device has none."""
        return self._caps.noisy

    def use_executor(self, executor: Executor) -> None:
        """Runs simulation work on ``executor`` from now on (the caller closes it)."""
        self._executor = executor

    @property
    def executor(self) -> Executor:
        """Where simulation work runs."""
        return self._executor

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
        self._snapshots[snapshot.snapshot_id] = snapshot

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

    def device_state(self) -> str:
        """``"<drift step>/<snapshot id>"``: the true parameters' drift step and the installed
        calibration snapshot now (see ``ExecutionOptions.device_state``)."""
        step = self._drift.step if self._drift is not None else 0
        return f"{step}/{self._snapshot.snapshot_id}"

    def state_parameters(self, token: str) -> tuple[DeviceParameters, CalibrationSnapshot]:
        """The true parameters and the snapshot of a :meth:`device_state` token (simulator-only:
        replays, tests).

        Raises:
            FailedPreconditionError: the token does not name a state of this device (reason
                ``UNKNOWN_DEVICE_STATE``).
        """
        step_text, _, snapshot_id = token.partition("/")
        snapshot = self._snapshots.get(snapshot_id)
        try:
            step = int(step_text)
            true = (self._drift.parameters_at(step) if self._drift is not None
                    else self._base if step == 0 else None)
        except ValueError:
            true = None
        if snapshot is None or true is None:
            raise FailedPreconditionError(
                f"device state {token!r} is not one QPU {self._caps.qpu_id!r} has been in "
                "since it started", reason="UNKNOWN_DEVICE_STATE")
        return true, snapshot

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

    def prepare(self, circuit: Circuit, *, observable: Sequence[tuple[str, float]] | None,
                observables: Sequence[Sequence[tuple[str, float]]] = ()) -> PreparedProgram:
        return self._prepare(circuit, observable=observable, observables=observables,
                             fixed_layout=False)

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
                 fixed_layout: bool, observables: Sequence[Sequence[tuple[str, float]]] = ()
                 ) -> PreparedProgram:
        caps = self._caps
        rows = None
        if observables:
            if observable is not None:
                raise InvalidProgramError(
                    "give either one observable or several observables, not both",
                    reason="INVALID_OBSERVABLE")
            observable, rows = stack_observables(observables)
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
                           observable, {q: compiled.final_layout[q] for q in support}, rows)
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
            duration_ns=exe.duration_ns, physical_qubits=exe.physical_qubits,
            observables=tuple(observables), payload=program)

    def _bind(self, program: _Program, calibrated: DeviceParameters | None = None,
              state: str | None = None) -> tuple[Executable, ReadoutObservable | None]:
        """The executable for the current true parameters and calibration, or those of the
        pinned device ``state`` (cached)."""
        if state is not None and state != self.device_state():
            true, snapshot = self.state_parameters(state)
            key: tuple[object, str] = (f"state {state}", snapshot.snapshot_id)
        else:
            true, snapshot = self.true_parameters(), self._snapshot
            key = (self._drift.version if self._drift is not None else 0, snapshot.snapshot_id)
        cal = snapshot.parameters if calibrated is None else calibrated
        if calibrated is not None:
            key = (key[0], f"id{id(cal)}")
        bound = program.bound
        if bound is not None and program.cache_key == key:
            return bound
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
            obs = ReadoutObservable(program.observable, mapping, exe.qubit_count,
                                    exe.readout_errors, cal_readout, structure=previous,
                                    rows=program.rows)
        program.bound, program.cache_key = (exe, obs), key
        return exe, obs

    # -- execution ---------------------------------------------------------------------------

    def _simulation(self, program: _Program, exe: Executable, obs: ReadoutObservable | None,
                    max_bond_dimension: int | None = None) -> SimulationProgram:
        """The bound executable as simulation work (one per bound executable and bond cap). A
        requested cap lowers the driver's, never raises it; ``None``: the driver's."""
        bond = min(self._max_bond_dimension, max_bond_dimension or self._max_bond_dimension)
        sim = program.simulation
        if (sim is None or sim.executable is not exe or sim.observable is not obs
                or sim.max_bond_dimension != bond):
            sim = program.simulation = SimulationProgram(exe, obs, max_bond_dimension=bond)
        return sim

    def _engine(self, program: _Program, exe: Executable) -> Engine:
        """The engine of ``exe`` (chosen and planned once per bound executable)."""
        bound = program.bound
        obs = bound[1] if bound is not None and bound[0] is exe else None
        return self._simulation(program, exe, obs).engine()

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
            if options.mitigation is not None and options.mitigation.active:
                result = self._run_mitigated(self._own_payload(program), parameter_sets, options)
            else:
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
            InvalidProgramError: the program has no observable, or several.
        """
        payload = cast(_Program, program.payload)
        exe, obs = self._bind(payload)
        if obs is None or payload.rows is not None:
            raise InvalidProgramError("the program must have exactly one observable")
        engine = self._engine(payload, exe)
        mixture = engine.term_mixture(np.asarray(parameter_set, dtype=np.float64), obs.ideal,
                                      0, np.random.default_rng(0))
        return float(obs.ideal.coefficients @ mixture.mean)

    def _run(self, program: _Program, parameter_sets: np.ndarray, options: ExecutionOptions,
             *, calibrated: DeviceParameters | None = None, calibration: bool = False
             ) -> ExecutionResult:
        exe, obs = self._bind(program, calibrated, options.device_state)
        x_all = np.asarray(parameter_sets, dtype=np.float64)
        if x_all.ndim != 2 or x_all.shape[1] != exe.parameter_count:
            raise InvalidProgramError(
                f"parameter sets must have shape (m, {exe.parameter_count}), got {x_all.shape}",
                reason="WRONG_PARAMETER_COUNT")
        m = x_all.shape[0]
        # One seed per batch; each parameter set draws from its own stream (row_generator).
        entropy = (int(options.seed) if options.seed is not None
                   else int(np.random.SeedSequence().entropy))
        first = options.first_row
        shots = options.shot_count
        if options.max_bond_dimension is not None and options.max_bond_dimension < 1:
            raise InvalidProgramError(
                f"max_bond_dimension must be >= 1, got {options.max_bond_dimension}",
                reason="INVALID_BOND_DIMENSION")
        sim = self._simulation(program, exe, obs, options.max_bond_dimension)
        engine = sim.engine()
        result = ExecutionResult(engine=engine.choice.name, engine_reason=engine.choice.reason)
        row_s = estimated_row_s(sim, shots)
        if obs is None:
            counts = self._executor.map(
                run_counts, sim, [CountsItem(x, shots, entropy, first + row)
                                  for row, x in enumerate(x_all)],
                item_cost_s=row_s, should_stop=options.should_stop)
            result.counts = [o.counts for o in counts.results]
            result.truncation_errors = [o.truncation_error for o in counts.results]
            self._note(result, counts.where)
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
            several = program.rows is not None
            # several observables without gradients take the estimate path below: one state
            # per parameter set serves them all; with gradients, one adjoint sweep each
            if shots == 0 and not mitigate and (options.gradient or not several) \
                    and all(fast is not None for fast in sim.adjoints()):
                return self._run_fast(sim, x_all, options, calibration=calibration,
                                      result=result, several=several)
            if options.gradient_method == "adjoint" and (options.gradient or not several):
                raise InvalidProgramError(
                    "adjoint gradients need exact expectation values (shot_count = 0) on a "
                    "noiseless QPU; use the parameter-shift rule", reason="GRADIENT_UNSUPPORTED")
            circuits = 1 + (2 * len(exe.parametric) if options.gradient else 0)
            batch = self._executor.map(
                run_estimates, sim, [EstimateItem(x, shots, entropy, first + row, mitigate,
                                                  options.gradient)
                                     for row, x in enumerate(x_all)],
                item_cost_s=row_s * circuits * obs.setting_count,
                should_stop=options.should_stop)
            self._note(result, batch.where)
            result.truncation_errors = [o.truncation_error for o in batch.results]
            k = obs.observable_count
            values = np.array([o.values for o in batch.results]).reshape(m, k)
            errors = np.array([o.standard_errors for o in batch.results]).reshape(m, k)
            grads = (np.array([o.gradients for o in batch.results], dtype=np.float64
                              ).reshape(m, k, exe.parameter_count)
                     if options.gradient else None)
            if several:  # (m, k): one value per observable
                result.expectation_values, result.standard_errors = values, errors
                result.gradients = grads
            else:
                result.expectation_values, result.standard_errors = values[:, 0], errors[:, 0]
                result.gradients = None if grads is None else grads[:, 0]
            executions = m * circuits
            settings = obs.setting_count
        return self._finish(result, exe, executions, settings, shots, calibration=calibration)

    # -- mitigation --------------------------------------------------------------------------

    def check_mitigation(self, program: PreparedProgram, mitigation: MitigationOptions, *,
                         gradient: bool = False) -> None:
        """See :meth:`~quantum_service.contract.Mitigating.check_mitigation`."""
        self._check_mitigation(self._own_payload(program), mitigation, gradient=gradient)

    def _check_mitigation(self, payload: _Program, mitigation: MitigationOptions, *,
                          gradient: bool) -> None:
        caps = self._caps
        flags = self.supports
        missing = [f for f in mitigation.required_flags() if not flags.get(f)]
        if missing:
            why = (" (its idle qubits do not decohere, so decoupling pulses would only add gate "
                   "error)" if missing == [DYNAMICAL_DECOUPLING] else "")
            raise FailedPreconditionError(
                f"QPU {caps.qpu_id!r} does not support {', '.join(missing)}{why}; choose a QPU "
                "whose supports[...] flag is true, or drop the option",
                reason="MITIGATION_UNSUPPORTED")
        if payload.observable is None:
            raise InvalidProgramError(
                "error mitigation needs an observable (expectation values); add one, or drop "
                "the mitigation options", reason="INVALID_MITIGATION")
        split_body(payload.compiled)
        zne = mitigation.zero_noise_extrapolation
        if zne is None:
            return
        if gradient and zne.extrapolation is Extrapolation.EXPONENTIAL:
            raise InvalidProgramError(
                "gradients with zero-noise extrapolation need a linear fit (linear or "
                "Richardson); the exponential fit is not linear in the data",
                reason="INVALID_MITIGATION")
        achieved = [self._folded(payload, scale, mitigation)[1] for scale in zne.scale_factors]
        if len(set(achieved)) != len(achieved):
            gates = sum(1 for op in payload.compiled.operations if op.name != "measure")
            raise InvalidProgramError(
                f"scale factors {list(zne.scale_factors)} fold the compiled circuit "
                f"({gates} gates) to the achieved factors {achieved}, which repeat; choose "
                "factors further apart (odd integers fold whole gates)",
                reason="INVALID_MITIGATION")

    def _folded(self, program: _Program, scale: float, mitigation: MitigationOptions
                ) -> tuple[_Program, float]:
        """``program`` folded to ``scale`` (and decoupled, when asked and not twirled: a
        twirled circuit is decoupled per frame), cached; and the achieved scale factor."""
        zne = mitigation.zero_noise_extrapolation
        dd = mitigation.dynamical_decoupling if mitigation.pauli_twirling is None else None
        key = (scale, zne.folding if zne is not None else None,
               dd.sequence if dd is not None else None)
        found = program.variants.get(key)
        if found is not None:
            return found, found.scale_factor
        basis, use_x = self._basis()
        circuit, achieved = (fold_circuit(program.compiled, scale, folding=zne.folding,
                                          basis=basis, use_x=use_x)
                             if zne is not None else (program.compiled, 1.0))
        pulses = 0
        if dd is not None:
            circuit, pulses = insert_decoupling(circuit, self._caps, sequence=dd.sequence,
                                                basis=basis, use_x=use_x)
        variant = self._variant(program, circuit)
        variant.scale_factor, variant.decoupling_pulse_count = achieved, pulses
        program.variants[key] = variant
        return variant, achieved

    def _basis(self) -> tuple[str, bool]:
        basis = self._target.one_qubit_basis
        assert basis is not None  # CompileTarget guarantees one
        return basis, "x" in self._target.native_gates

    @staticmethod
    def _variant(program: _Program, circuit: Circuit) -> _Program:
        return _Program(circuit, program.extra_qubits, program.parameters, program.observable,
                        program.logical_to_physical)

    def _run_mitigated(self, program: _Program, parameter_sets: np.ndarray,
                       options: ExecutionOptions) -> ExecutionResult:
        """Runs every mitigation variant of ``program`` and combines them (module docstring)."""
        mitigation = options.mitigation
        assert mitigation is not None
        self._check_mitigation(program, mitigation, gradient=options.gradient)
        zne = mitigation.zero_noise_extrapolation
        twirl = mitigation.pauli_twirling
        dd = mitigation.dynamical_decoupling
        scales = zne.scale_factors if zne is not None else (1.0,)
        frames = twirl.randomization_count if twirl is not None else 1
        shots = options.shot_count
        frame_shots = -(-shots // frames) if shots else 0
        entropy = (int(options.seed) if options.seed is not None
                   else int(np.random.SeedSequence().entropy))
        basis, use_x = self._basis()
        x_all = np.asarray(parameter_sets, dtype=np.float64)
        m = x_all.shape[0] if x_all.ndim == 2 else 0
        values = np.zeros((len(scales), m))
        variances = np.zeros((len(scales), m))
        gradients = (np.zeros((len(scales), m, len(program.parameters)))
                     if options.gradient else None)
        achieved: list[float] = []
        result = ExecutionResult()
        pulses = 0
        for s_index, scale in enumerate(scales):
            folded, factor = self._folded(program, scale, mitigation)
            achieved.append(factor)
            if s_index == 0 and twirl is None:
                pulses = folded.decoupling_pulse_count
            rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(1, s_index)))
            for frame in range(frames):
                variant = folded
                if twirl is not None:
                    circuit, _ = twirl_circuit(folded.compiled, rng, basis=basis, use_x=use_x)
                    if dd is not None:
                        circuit, count = insert_decoupling(circuit, self._caps,
                                                           sequence=dd.sequence, basis=basis,
                                                           use_x=use_x)
                        if s_index == 0 and frame == 0:
                            pulses = count
                    variant = self._variant(program, circuit)
                seed = int(np.random.SeedSequence(entropy, spawn_key=(2, s_index, frame))
                           .generate_state(1, np.uint64)[0] >> 1)
                out = self._run(variant, x_all, replace(options, shot_count=frame_shots,
                                                        seed=seed, mitigation=None))
                assert out.expectation_values is not None and out.standard_errors is not None
                values[s_index] += out.expectation_values / frames
                variances[s_index] += out.standard_errors ** 2 / frames ** 2
                if gradients is not None and out.gradients is not None:
                    gradients[s_index] += out.gradients / frames
                result.device_time_s += out.device_time_s
                result.circuit_executions += out.circuit_executions
                result.engine, result.engine_reason = out.engine, out.engine_reason
                result.executor = out.executor
                if out.truncation_errors is not None:
                    result.truncation_errors = [
                        max(a, b) for a, b in zip(result.truncation_errors
                                                  or [0.0] * m, out.truncation_errors)]
        errors = np.sqrt(variances)
        records: list[MitigationRecord] = []
        if zne is not None:
            asymptote = sum(c for term, c in program.observable or () if not term.strip())
            mitigated = np.zeros(m)
            mitigated_errors = np.zeros(m)
            for row in range(m):
                value, error, fit = extrapolate(achieved, values[:, row], errors[:, row],
                                                method=zne.extrapolation, asymptote=asymptote)
                mitigated[row], mitigated_errors[row] = value, error
                records.append(MitigationRecord(
                    tuple(achieved), tuple(float(v) for v in values[:, row]),
                    tuple(float(e) for e in errors[:, row]), fit, frames, pulses))
            if gradients is not None:
                weights = extrapolation_weights(achieved, zne.extrapolation)
                result.gradients = np.tensordot(weights, gradients, axes=1)
        else:
            mitigated, mitigated_errors = values[0], errors[0]
            records = [MitigationRecord((1.0,), (float(values[0, row]),),
                                        (float(errors[0, row]),), None, frames, pulses)
                       for row in range(m)]
            if gradients is not None:
                result.gradients = gradients[0]
        result.expectation_values = mitigated
        result.standard_errors = mitigated_errors
        result.mitigation = records
        return result

    def _note(self, result: ExecutionResult, where: str) -> None:
        """Records where a batch ran; a batch that left the service process (or fell back to
        it) says so on ``engine_reason`` too."""
        result.executor = where
        if where != "in-process":
            result.engine_reason = f"{result.engine_reason}; executed {where}"

    def _finish(self, result: ExecutionResult, exe: Executable, executions: int, settings: int,
                shots: int, *, calibration: bool) -> ExecutionResult:
        """Accounts device time (:func:`~quantum_service.contract.device_time.batch_device_time_s`:
        executions × settings × shots × one shot's time; 0 when exact)."""
        device_time = batch_device_time_s(executions=executions, settings=settings,
                                          shot_count=shots, shot_ns=self._shot_ns(exe.duration_ns))
        self._account(device_time, calibration=calibration)
        result.device_time_s = device_time
        result.circuit_executions = executions
        return result

    def _run_fast(self, sim: SimulationProgram, x_all: np.ndarray, options: ExecutionOptions,
                  *, calibration: bool, result: ExecutionResult, several: bool
                  ) -> ExecutionResult:
        """Exact expectation values (and gradients) of a noiseless executable in one fused
        sweep per parameter set, plus one adjoint sweep for gradients (Jones & Gacon,
        arXiv:2009.02823), per observable (``several``: results keep the observable axis,
        ``(m, k)`` and ``(m, k, parameter_count)``). The values equal the gate-by-gate and
        parameter-shift results.
        Circuit executions count as the QPU's would: with the parameter-shift rule, 2 circuits
        per parametric gate, unless adjoint differentiation (a simulator-only method) was asked
        for; exact values cost no device time."""
        exe, obs = sim.executable, sim.observable
        assert obs is not None
        m = x_all.shape[0]
        if exe.parametric:
            A = np.stack([step.A[0] * step.scale for step in exe.parametric])
            b = np.array([step.b[0] * step.scale for step in exe.parametric])
            angles = x_all @ A.T + b
        else:
            A, angles = np.zeros((0, exe.parameter_count)), np.zeros((m, 0))
        batch = self._executor.map(
            run_exact, sim, [ExactItem(a, options.gradient) for a in angles],
            item_cost_s=estimated_row_s(sim, 0) * (3 if options.gradient else 1),
            should_stop=options.should_stop)
        self._note(result, batch.where)
        k = obs.observable_count
        values = np.array([v for v, _ in batch.results], dtype=np.float64).reshape(m, k)
        executions = m
        if options.gradient:
            per_gate = np.array([g for _, g in batch.results]).reshape(m, k, len(exe.parametric))
            gradients = per_gate @ A  # (m, k, parameter_count)
            result.gradients = gradients if several else gradients[:, 0]
            if options.gradient_method != "adjoint":
                executions += 2 * len(exe.parametric) * m
        result.expectation_values = values if several else values[:, 0]
        result.standard_errors = np.zeros_like(result.expectation_values)
        result.truncation_errors = [0.0] * len(values)
        return self._finish(result, exe, executions, obs.setting_count, 0,
                            calibration=calibration)


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
