"""Executable form of a compiled circuit on a simulated QPU.

Built once per prepared program (per session): the compiled circuit is restricted to its
*active* qubits (relabelled ``0..k-1``), constant gate matrices are built once, noise channels are
inserted from the device parameters, parametric gates keep an affine map from the parameter
vector to their angles, and the observable is moved to the physical qubits where the routed
logical qubits end. Binding a parameter set then costs one matrix build per parametric gate.

On a noisy device, coherent errors follow from the mismatch between the true parameters and
the calibrated estimates (see :mod:`quantum_service.devices.noise`): drive pulses (``x``, ``sx``,
``r``, ``rx``, ``ry``, ``y``) over-rotate by ``A_cal/A_true``; every qubit precesses by
``Rz(2π Δ t)`` while it idles and, split in halves before and after, during each gate; ``cz``
(and any other fixed 2-qubit gate) gets ``diag(1, 1, 1, e^{iδ})``, ``rxx`` an angle factor
``1 + 2δ/π``. Virtual ``rz`` is exact. The pseudo-gate ``delay`` (one constant parameter, the
idle time in nanoseconds) lets calibration experiments wait.

Crosstalk on a noisy device (:mod:`quantum_service.devices.crosstalk`): every neighbouring pair
of simulated qubits with a ZZ rate accumulates its conditional phase over the schedule; the
phase is kept pending and emitted as one diagonal 2-qubit gate just before a non-diagonal
operation acts on either qubit, and at the end of the schedule (diagonal steps commute with
it, so runs of ``rz``/``cz`` do not split it and the fusers can batch it with them). To place
the phases in time, the operations are emitted in the order of their start times (a list
schedule that keeps the order of operations sharing a qubit or a classical bit). The time of a
gate is accounted after it (exact for diagonal gates such as ``cz``, which commute with the
phase; a split of at most one gate duration for drive pulses), and a pair's own 2-qubit gate
absorbs its ZZ (its calibration includes it). After each 2-qubit gate every simulated
neighbour of its qubits gets its spectator Z error.

Scheduling: as soon as possible, except a qubit's *leading* single-qubit gates followed by a
multi-qubit gate (before any measurement, reset, delay or conditional on it), which are
scheduled as late as possible: they end when that gate starts, so the qubit waits in ``|0>``, where
relaxation, dephasing and ZZ coupling do nothing, instead of in a superposition (the reason
Qiskit schedules as late as possible by default for devices with idle errors: Qiskit docs,
``qiskit.transpiler.passes.ALAPScheduleAnalysis``).

Steps that are exactly the identity (up to a global phase) on the state are not emitted: while
a qubit is known to be in ``|0>`` (no non-diagonal step has acted on it since the start or a
reset), a channel on it whose every Kraus operator maps ``|0>`` to a multiple of ``|0>``
(relaxation, dephasing, spectator Z errors), a diagonal 1-qubit step on it, and a diagonal
2-qubit step equal to a phase on the ``|0>`` block of that qubit (ZZ phases, ``cz``) act
trivially. This changes no distribution or expectation value; it saves the engines the work
(trajectories on wide devices above all).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from quantum_service.circuits.gates import gate_spec
from quantum_service.circuits.ir import Circuit, Condition, Operation
from quantum_service.contract import DELAY, DRIVE_GATES, DeviceParameters, QpuCapabilities
from quantum_service.devices.noise import (
    conditional_phase_error,
    depolarizing,
    detuning_phase_rad,
    entanglement_fidelity,
    relaxation_kraus,
    residual_depolarizing_p,
    rotation_scale,
    two_qubit_angle_scale,
)
from quantum_service.devices.crosstalk import (
    crosstalk_pairs,
    spectator_kraus,
    zz_phase_gate,
    zz_phase_rad,
)
from quantum_service.errors import InvalidProgramError
from quantum_service.simulator import Channel

__all__ = [
    "DELAY",
    "DRIVE_GATES",
    "ConditionalStep",
    "Executable",
    "MeasureStep",
    "ParametricStep",
    "ResetStep",
    "build_executable",
]


@dataclass(frozen=True, slots=True)
class MeasureStep:
    """A mid-circuit measurement of simulated ``qubit`` into ``clbit``; the recorded bit
    flips with ``readout_error = (p(1|0), p(0|1))``, the state collapses to the true outcome."""

    qubit: int
    clbit: int
    readout_error: tuple[float, float]


@dataclass(frozen=True, slots=True)
class ResetStep:
    """A mid-circuit reset of simulated ``qubit`` to ``|0>``."""

    qubit: int


@dataclass(frozen=True, slots=True)
class ConditionalStep:
    """Steps (gates, their noise, measurements, resets) that run only for shots whose
    classical register satisfies ``condition``."""

    condition: Condition
    steps: tuple[object, ...]


@dataclass(slots=True)
class ParametricStep:
    """A gate whose angles depend on the parameter vector: ``angles = A @ x + b``."""

    position: int
    name: str
    qubits: tuple[int, ...]
    A: np.ndarray  # (param_count_of_gate, parameter_count)
    b: np.ndarray  # (param_count_of_gate,)
    shift_rule: bool
    scale: float = 1.0  # coherent factor on the first angle (over-rotation)


@dataclass(slots=True)
class Executable:
    """A compiled circuit ready to simulate.

    Attributes:
        qubit_count: active qubits (``k``); simulated state has ``2**k`` amplitudes.
        physical_qubits: ``physical_qubits[i]`` is the device qubit of simulated qubit ``i``.
        steps: ops in order; an entry is ``(qubits, matrix)``, a :class:`Channel`, ``None``
            at the positions of parametric gates (filled per parameter set), or a dynamic step
            (:class:`MeasureStep`, :class:`ResetStep`, :class:`ConditionalStep`).
        parametric: the parametric gates.
        parameter_count: length of a parameter vector.
        measured: ``(simulated qubit, clbit)`` pairs of the circuit's *terminal*
            measurements, read from the final state (nothing follows them on their qubit and
            no condition reads their clbit); the others are :class:`MeasureStep` steps.
        clbit_count: classical bits of the circuit.
        readout_errors: per simulated qubit ``(p(1|0), p(0|1))``; zeros on ideal devices.
        duration_ns: one shot's gate schedule length (readout and reset excluded).
        noisy: whether channels are present (density-matrix simulation).
        coherent_error_count: coherent-error unitaries inserted (0 when calibrated = true).
        crosstalk_step_count: ZZ-phase gates and spectator-error channels inserted.
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
    coherent_error_count: int = 0
    crosstalk_step_count: int = 0

    @property
    def dynamic(self) -> bool:
        """Whether mid-circuit measurements, resets or conditions occur (per-shot simulation)."""
        return any(isinstance(step, (MeasureStep, ResetStep, ConditionalStep))
                   for step in self.steps)

    @property
    def measures_mid_circuit(self) -> bool:
        """Whether a mid-circuit measurement writes a clbit (anywhere, conditional or not)."""
        def measures(steps: Sequence[object]) -> bool:
            return any(isinstance(s, MeasureStep)
                       or (isinstance(s, ConditionalStep) and measures(s.steps)) for s in steps)
        return measures(self.steps)

    @property
    def gradient_supported(self) -> bool:
        return all(step.shift_rule for step in self.parametric)

    def ops(self, x: np.ndarray, shift: tuple[int, float] | None = None) -> list[object]:
        """The numeric program for parameter vector ``x`` (float64 ``(parameter_count,)``).

        ``shift = (i, delta)`` adds ``delta`` to the first angle of parametric gate ``i``
        (parameter-shift rule).
        """
        ops = list(self.steps)
        for step in self.parametric:
            ops[step.position] = (step.qubits, None)
        for position, matrix in self.parametric_matrices(x, shift).items():
            ops[position] = (ops[position][0], matrix)  # type: ignore[index]
        return ops

    def parametric_matrices(self, x: np.ndarray, shift: tuple[int, float] | None = None
                            ) -> dict[int, np.ndarray]:
        """The bound matrix of every parametric gate for parameter vector ``x``: step position
        → complex128 ``(2**k, 2**k)``; ``shift`` as in :meth:`ops`."""
        out: dict[int, np.ndarray] = {}
        for i, step in enumerate(self.parametric):
            angles = step.A @ x + step.b
            angles[0] *= step.scale
            if shift is not None and shift[0] == i:
                angles[0] += shift[1]
            out[step.position] = gate_spec(step.name).matrix(angles)
        return out

    def shift_coefficients(self) -> np.ndarray:
        """float64 ``(len(parametric), parameter_count)``: d(first angle of gate i)/d x_j, the
        played angle (including its coherent scale)."""
        if not self.parametric:
            return np.zeros((0, self.parameter_count))
        return np.stack([step.A[0] * step.scale for step in self.parametric])


def terminal_measurements(compiled: Circuit) -> set[int]:
    """Indices of ``compiled``'s terminal measurements: no later operation acts on the
    measured qubit, no later condition reads the clbit, no later measurement writes it. They
    are read from the final state; every other measurement happens mid-circuit."""
    terminal: set[int] = set()
    touched: set[int] = set()
    read: set[int] = set()
    for i in range(len(compiled.operations) - 1, -1, -1):
        op = compiled.operations[i]
        if op.name == "barrier":
            continue
        if op.name == "measure" and op.condition is None and \
                not touched.intersection(op.qubits) and not read.intersection(op.clbits):
            terminal.add(i)
        touched.update(op.qubits)
        if op.name == "measure":
            read.update(op.clbits)
        if op.condition is not None:
            read.update(op.condition.clbits)
    return terminal


def _rx(angle: float) -> np.ndarray:
    c, s = np.cos(angle / 2), np.sin(angle / 2)
    return np.array([[c, -1j * s], [-1j * s, c]], dtype=np.complex128)


def _ry(angle: float) -> np.ndarray:
    c, s = np.cos(angle / 2), np.sin(angle / 2)
    return np.array([[c, -s], [s, c]], dtype=np.complex128)


def _rz(angle: float) -> np.ndarray:
    return np.diag([np.exp(-0.5j * angle), np.exp(0.5j * angle)]).astype(np.complex128)


#: Over-rotation error (applied after the ideal gate) of the fixed drive gates, per scale
#: ``s``: the gate rotates by ``θ s`` about its axis, i.e. ideal · R(θ (s - 1)).
_FIXED_DRIVE_ERRORS = {
    "x": lambda s: _rx(np.pi * (s - 1.0)),
    "y": lambda s: _ry(np.pi * (s - 1.0)),
    "sx": lambda s: _rx(0.5 * np.pi * (s - 1.0)),
    "sxdg": lambda s: _rx(-0.5 * np.pi * (s - 1.0)),
}


#: Parametric gates diagonal for every angle (constant gates are checked by their matrix).
_DIAGONAL_PARAMETRIC = frozenset({"rz", "p", "u1", "cp", "crz", "rzz"})


def _is_diagonal_matrix(matrix: np.ndarray) -> bool:
    return not np.any(matrix - np.diag(np.diag(matrix)))


def _is_diagonal(name: str, matrix: np.ndarray | None) -> bool:
    if matrix is None:
        return name in _DIAGONAL_PARAMETRIC
    return _is_diagonal_matrix(matrix)


def _fixes_ground(channel: Channel) -> bool:
    """Whether every Kraus operator of a 1-qubit ``channel`` maps ``|0>`` to a multiple of
    ``|0>`` (then, trace preserving, the channel leaves ``|0><0|`` unchanged)."""
    return len(channel.qubits) == 1 and all(k[1, 0] == 0 for k in channel.kraus_operators)


def _trivial_on_ground(qubits: tuple[int, ...], diagonal: np.ndarray, ground: set[int]
                       ) -> bool:
    """Whether a diagonal step is a global phase on every state whose ``ground`` qubits are
    in ``|0>``: a 1-qubit step on such a qubit, a 2-qubit step with both there, or with one
    there and equal phases on its ``|0>`` block (checked in either qubit-order convention:
    entries 0, 1, 2 equal, as for ``cz`` and the ZZ phase ``diag(1, 1, 1, e^{-iφ})``)."""
    inside = [q in ground for q in qubits]
    if all(inside):
        return True
    if len(qubits) == 2 and any(inside):
        d = np.diag(diagonal)
        return bool(d[0] == d[1] == d[2])
    return False


def _leading_gates_wait(compiled: Circuit, order: Sequence[int], terminal: set[int]
                        ) -> set[int]:
    """Physical qubits whose first operation other than unconditioned single-qubit gates is
    an unconditioned multi-qubit gate (their leading gates are scheduled as late as
    possible)."""
    decided: set[int] = set()
    waits: set[int] = set()
    for position in order:
        op = compiled.operations[position]
        if op.name == "barrier" or position in terminal:
            continue
        leading = (len(op.qubits) == 1 and op.condition is None
                   and op.name not in ("measure", "reset", DELAY))
        if leading:
            continue
        multi = (len(op.qubits) > 1 and op.condition is None
                 and op.name not in ("measure", "reset", DELAY))
        for q in op.qubits:
            if q not in decided:
                decided.add(q)
                if multi:
                    waits.add(q)
    return waits


def schedule(compiled: Circuit, caps: QpuCapabilities, terminal: set[int]
             ) -> tuple[list[int], dict[int, float]]:
    """The schedule :func:`build_executable` makes: ``(order, late)``.

    ``order``: indices of ``compiled.operations`` in the order of their start times, program
    order among equal starts. A list schedule: an operation comes after every earlier one that
    shares a qubit or a classical bit (measured or read by a condition), so the reordered
    circuit means the same. Start times are as soon as possible, except the leading
    single-qubit gates of the qubits in :func:`_leading_gates_wait`, which end when the
    multi-qubit gate after them starts; ``late`` maps those gates' indices to their start
    times, ns.
    """
    ops = compiled.operations
    waits = _leading_gates_wait(compiled, range(len(ops)), terminal)
    clock: dict[int, float] = {}
    ready: dict[int, float] = {}
    start: list[float] = []
    held: dict[int, list[int]] = {}  # leading gates of waiting qubits, not yet placed
    late: dict[int, float] = {}
    for i, op in enumerate(ops):
        if op.name == "barrier":
            start.append(max((clock.get(q, 0.0) for q in op.qubits), default=0.0))
            continue
        if (len(op.qubits) == 1 and op.qubits[0] in waits and op.condition is None
                and op.name not in ("measure", "reset", DELAY)
                and clock.get(op.qubits[0]) is None):
            held.setdefault(op.qubits[0], []).append(i)
            start.append(0.0)  # placed with the multi-qubit gate that follows
            continue
        pending = {q: held.pop(q) for q in op.qubits if q in held}
        durations = {q: [gate_duration_ns(caps, ops[j].name, 1) for j in js]
                     for q, js in pending.items()}
        s = max((clock.get(q, 0.0) + sum(durations.get(q, ())) for q in op.qubits),
                default=0.0)
        for q, js in pending.items():
            t = s - sum(durations[q])
            for j, d in zip(js, durations[q]):
                start[j] = late[j] = t
                t += d
        if op.condition is not None:
            s = max([s] + [ready.get(c, 0.0) + caps.feed_forward_latency_ns
                           for c in op.condition.clbits])
        start.append(s)
        for k, q in enumerate(op.qubits):
            base = s if op.condition is not None else clock.get(q, 0.0)
            if op.name in ("measure", "reset"):
                clock[q] = base + caps.readout_duration_ns + (
                    caps.feed_forward_latency_ns if op.name == "reset" else 0.0)
                if op.name == "measure":
                    ready[op.clbits[k]] = clock[q]
            elif op.name == DELAY:
                clock[q] = base + float(op.params[0].constant)
            else:
                clock[q] = s + gate_duration_ns(caps, op.name, len(op.qubits))
    successors: list[list[int]] = [[] for _ in ops]
    waiting = [0] * len(ops)
    last: dict[tuple[str, int], int] = {}
    for i, op in enumerate(ops):
        bits = [("q", q) for q in op.qubits] + [("c", c) for c in op.clbits]
        if op.condition is not None:
            bits += [("c", c) for c in op.condition.clbits]
        for key in dict.fromkeys(bits):
            if key in last:
                successors[last[key]].append(i)
                waiting[i] += 1
            last[key] = i
    assert not held, "every held gate is followed by a multi-qubit gate"
    heap = [(start[i], i) for i in range(len(ops)) if waiting[i] == 0]
    heapq.heapify(heap)
    order: list[int] = []
    while heap:
        _, i = heapq.heappop(heap)
        order.append(i)
        for j in successors[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(heap, (start[j], j))
    return order, late


def gate_duration_ns(caps: QpuCapabilities, name: str, qubit_count: int) -> float:
    """Duration of ``name``: the native duration, else (non-native drive pulses of calibration
    programs) the longest native pulse of the same arity."""
    for gate in caps.native_gates:
        if gate.name == name:
            return gate.duration_ns
    if name in DRIVE_GATES or qubit_count == 2:
        return max((g.duration_ns for g in caps.native_gates if g.qubit_count == qubit_count),
                   default=0.0)
    return 0.0


def build_executable(compiled: Circuit, *, caps: QpuCapabilities, device: DeviceParameters,
                     extra_qubits: Sequence[int] = (), parameters: Sequence[str],
                     calibrated: DeviceParameters | None = None,
                     drop_identities: bool = True) -> Executable:
    """Builds the executable form of ``compiled`` (a circuit on physical qubits).

    Args:
        compiled: native-gate circuit on the device's physical qubits (calibration programs may
            also use the drive gates ``r``/``rx``/``ry`` and ``delay``).
        caps: the device capabilities (gate durations, noisy flag).
        device: the device's *true* physical parameters (noise is derived from these).
        extra_qubits: physical qubits that must be simulated although no gate touches them
            (observable support, measured qubits).
        parameters: parameter-vector order.
        calibrated: the OS's calibrated estimates; on a noisy device, coherent errors follow
            from their mismatch with ``device`` (none when omitted).
        drop_identities: leave out the steps that act as the identity on qubits known to be in
            ``|0>`` (module docstring); False keeps every step (for verification).
    """
    active = sorted({q for op in compiled.operations for q in op.qubits} | set(extra_qubits))
    if not active:
        active = [0]
    index = {q: i for i, q in enumerate(active)}
    col = {name: j for j, name in enumerate(parameters)}
    n_params = len(parameters)
    noisy = caps.noisy
    coherent = noisy and calibrated is not None
    cal: DeviceParameters = calibrated if calibrated is not None else device
    clock = dict.fromkeys(active, 0.0)
    steps: list[object] = []
    parametric: list[ParametricStep] = []
    coherent_count = 0
    channels: dict[tuple, Channel] = {}  # identical channels are built (and checked) once
    target: list[list[object]] = [steps]  # where ops go: the program, or a conditional's body
    terminal = terminal_measurements(compiled)
    clbit_ready: dict[int, float] = {}  # clbit -> time its mid-circuit readout ends
    touched: set[int] = set()
    inside = set(active)
    neighbour_pairs = [p for p in crosstalk_pairs(caps) if inside.issuperset(p)] if noisy else []
    zz_rate = {p: device.pair(*p).zz_khz for p in neighbour_pairs if device.pair(*p).zz_khz > 0}
    zz_of: dict[int, list[tuple[int, int]]] = {}
    for pair in zz_rate:
        for q in pair:
            zz_of.setdefault(q, []).append(pair)
    spectators: dict[int, list[tuple[int, float]]] = {}  # q -> (neighbour, its Z-error p)
    for a, b in neighbour_pairs:
        p_spec = device.pair(a, b).spectator_error
        if p_spec > 0:
            spectators.setdefault(a, []).append((b, p_spec))
            spectators.setdefault(b, []).append((a, p_spec))
    zz_clock = dict.fromkeys(zz_rate, 0.0)  # time up to which a pair's phase is accounted
    zz_pending = dict.fromkeys(zz_rate, 0.0)  # accounted, not yet emitted
    crosstalk_count = 0

    ground = set(range(len(active)))  # simulated qubits known to be in |0>

    def emit(step: object) -> bool:
        """Appends ``step`` unless it acts as the identity (see the module docstring);
        updates which qubits are known to be in ``|0>``. True when appended."""
        if not drop_identities:
            target[0].append(step)
            return True
        if isinstance(step, Channel):
            fixes = _fixes_ground(step)
            if fixes and ground.issuperset(step.qubits):
                return False
            if not fixes:
                ground.difference_update(step.qubits)
        elif isinstance(step, tuple):
            qubits, matrix = step
            if _is_diagonal_matrix(matrix):
                if _trivial_on_ground(qubits, matrix, ground):
                    return False
            else:
                ground.difference_update(qubits)
        elif isinstance(step, ResetStep) and target[0] is steps:
            ground.add(step.qubit)  # unconditionally back in |0> (not inside a condition)
        target[0].append(step)
        return True

    def zz_advance(q: int, until: float) -> None:
        """Accounts the ZZ phase of ``q``'s pairs up to ``until``."""
        for pair in zz_of.get(q, ()):
            if until > zz_clock[pair]:
                zz_pending[pair] += zz_phase_rad(zz_rate[pair], until - zz_clock[pair])
                zz_clock[pair] = until

    def zz_flush(q: int) -> None:
        """Emits the pending ZZ phase of ``q``'s pairs (before a non-diagonal operation)."""
        nonlocal crosstalk_count
        for pair in zz_of.get(q, ()):
            if abs(zz_pending[pair]) > 1e-12:
                if emit(((index[pair[0]], index[pair[1]]),
                         zz_phase_gate(zz_pending[pair]))):
                    crosstalk_count += 1
            zz_pending[pair] = 0.0

    def spectator_errors(op_qubits: tuple[int, ...]) -> None:
        nonlocal crosstalk_count
        for q in op_qubits:
            for c, p_spec in spectators.get(q, ()):
                if c in op_qubits:
                    continue
                key = ("S", c, p_spec)
                if key not in channels:
                    channels[key] = Channel((index[c],), spectator_kraus(p_spec))
                if emit(channels[key]):
                    crosstalk_count += 1

    def relaxation(q: int, duration: float) -> Channel:
        qp = device.qubits[q]
        key = ("T", q, qp.t1_us, qp.t2_us, duration)
        found = channels.get(key)
        if found is None:
            found = channels[key] = Channel(
                (index[q],), tuple(relaxation_kraus(qp.t1_us, qp.t2_us, duration)))
        return found

    def detuning(q: int, duration: float) -> None:
        nonlocal coherent_count
        if not coherent or duration <= 0:
            return
        phase = detuning_phase_rad(true_frequency_hz=device.qubits[q].frequency_hz,
                                   calibrated_frequency_hz=cal.qubits[q].frequency_hz,
                                   duration_ns=duration)
        if abs(phase) > 1e-12:
            if emit(((index[q],), _rz(phase))):
                coherent_count += 1

    def idle(q: int, until: float) -> None:
        gap = until - clock[q]
        if noisy and gap > 0:
            emit(relaxation(q, gap))
            detuning(q, gap)
        clock[q] = until

    def scale_of(op_name: str, qubits: tuple[int, ...]) -> float:
        if not coherent:
            return 1.0
        if len(qubits) == 1 and op_name in DRIVE_GATES:
            return rotation_scale(true_amplitude=device.qubits[qubits[0]].pi_pulse_amplitude,
                                  calibrated_amplitude=cal.qubits[qubits[0]]
                                  .pi_pulse_amplitude)
        if op_name == "rxx":
            delta = (device.pair(*qubits).two_qubit_phase_rad
                     - cal.pair(*qubits).two_qubit_phase_rad)
            return two_qubit_angle_scale(delta)
        return 1.0

    def emit_gate(op: Operation, not_before: float = 0.0) -> None:
        """Emits a gate with its coherent errors and noise, advancing its qubits' clocks; it
        starts once its qubits are free, not before ``not_before`` (ns)."""
        nonlocal coherent_count
        if op.name == DELAY:
            for q in op.qubits:
                idle(q, clock[q] + float(op.params[0].constant))
            return
        spec = gate_spec(op.name)
        sim_qubits = tuple(index[q] for q in op.qubits)
        duration = gate_duration_ns(caps, op.name, len(op.qubits))
        start = max([clock[q] for q in op.qubits] + [not_before])
        for q in op.qubits:
            idle(q, start)
        scale = scale_of(op.name, op.qubits)
        scaled_first_angle = op.name in ("r", "rx", "ry", "rxx")
        if zz_of:
            constant = None if op.is_parametric else spec.matrix(
                [p.constant for p in op.params])
            for q in op.qubits:
                zz_advance(q, start)
            if scale != 1.0 or not _is_diagonal(op.name, constant):
                for q in op.qubits:
                    zz_flush(q)
        for q in op.qubits:
            detuning(q, duration / 2)
        if op.is_parametric:
            A = np.zeros((len(op.params), n_params))
            b = np.zeros(len(op.params))
            for k, p in enumerate(op.params):
                b[k] = p.constant
                for symbol, coefficient in p.terms:
                    A[k, col[symbol]] += coefficient
            shiftable = spec.shift_rule or (
                op.name == "r" and all(not op.params[k].terms for k in range(1, len(op.params))))
            if op.condition is not None:
                raise InvalidProgramError(
                    f"a classically controlled {op.name!r} with symbolic parameters is not "
                    "supported; bind its parameters first", reason="UNSUPPORTED_OPERATION")
            parametric.append(ParametricStep(len(steps), op.name, sim_qubits, A, b, shiftable,
                                             scale if scaled_first_angle else 1.0))
            if not _is_diagonal(op.name, None):
                ground.difference_update(sim_qubits)
            emit(None)
        else:
            angles = [p.constant for p in op.params]
            if scaled_first_angle and angles:
                angles[0] *= scale
            emit((sim_qubits, spec.matrix(angles)))
        if scale != 1.0 and op.name in _FIXED_DRIVE_ERRORS:
            emit((sim_qubits, _FIXED_DRIVE_ERRORS[op.name](scale)))
        if scale != 1.0:
            coherent_count += 1
        if coherent and len(op.qubits) == 2 and op.name != "rxx":
            delta = (device.pair(*op.qubits).two_qubit_phase_rad
                     - cal.pair(*op.qubits).two_qubit_phase_rad)
            if abs(delta) > 1e-12:
                emit((sim_qubits, conditional_phase_error(delta)))
                coherent_count += 1
        for q in op.qubits:
            detuning(q, duration / 2)
        for q in op.qubits:
            clock[q] = start + duration
        pair_key = (min(op.qubits), max(op.qubits))
        if len(op.qubits) == 2 and pair_key in zz_clock:
            zz_clock[pair_key] = start + duration  # the gate's calibration absorbs its own ZZ
        if noisy and duration > 0:
            fe = 1.0
            for q in op.qubits:
                channel = relaxation(q, duration)
                fe *= entanglement_fidelity(channel.kraus_operators)
                emit(channel)
            if len(op.qubits) == 1:
                fidelity = device.qubits[op.qubits[0]].single_qubit_gate_fidelity
            else:
                fidelity = device.pair(*op.qubits).two_qubit_gate_fidelity
            p_dep = residual_depolarizing_p(fidelity, fe, len(op.qubits))
            if p_dep > 0:
                key = ("D", sim_qubits, p_dep)
                if key not in channels:
                    channels[key] = Channel(sim_qubits,
                                            tuple(depolarizing(p_dep, len(op.qubits))))
                emit(channels[key])
            if len(op.qubits) == 2:
                spectator_errors(op.qubits)

    order, late = schedule(compiled, caps, terminal)
    if not zz_of:
        order = list(range(len(compiled.operations)))  # each qubit's order is what matters
    for position in order:
        op = compiled.operations[position]
        if op.name == "barrier" or position in terminal:
            continue
        if op.name == "reset" and op.condition is None and not touched.intersection(op.qubits):
            continue  # a reset before anything acts on the qubit: the state starts in |0>
        touched.update(op.qubits)
        if op.condition is not None:
            start = max([clock[q] for q in op.qubits]
                        + [clbit_ready.get(c, 0.0) + caps.feed_forward_latency_ns
                           for c in op.condition.clbits])
            for q in op.qubits:
                idle(q, start)
                zz_advance(q, start)
                zz_flush(q)  # unconditionally, before the conditional body
            body: list[object] = []
            target[0] = body
        if op.name in ("measure", "reset"):
            for k, q in enumerate(op.qubits):
                zz_advance(q, clock[q])
                if op.name == "reset":
                    zz_flush(q)
                if op.name == "measure":
                    errors = ((float(device.qubits[q].readout_p01),
                               float(device.qubits[q].readout_p10)) if noisy else (0.0, 0.0))
                    emit(MeasureStep(index[q], op.clbits[k], errors))
                else:
                    emit(ResetStep(index[q]))
                duration = caps.readout_duration_ns + (
                    caps.feed_forward_latency_ns if op.name == "reset" else 0.0)
                if noisy and duration > 0:
                    emit(relaxation(q, duration))
                clock[q] += duration
                if op.name == "measure":
                    clbit_ready[op.clbits[k]] = clock[q]
        else:
            emit_gate(op, late.get(position, 0.0))
        if op.condition is not None:
            target[0] = steps
            steps.append(ConditionalStep(op.condition, tuple(body)))
    end = max(clock.values(), default=0.0)
    for q in active:
        idle(q, end)
    for q in active:
        zz_advance(q, end)
        zz_flush(q)
    readout = np.array([
        (device.qubits[q].readout_p01, device.qubits[q].readout_p10) if noisy else (0.0, 0.0)
        for q in active
    ])
    measured = tuple((index[q], c) for i in sorted(terminal)
                     for q, c in zip(compiled.operations[i].qubits,
                                     compiled.operations[i].clbits))
    return Executable(
        qubit_count=len(active), physical_qubits=tuple(active), steps=steps,
        parametric=parametric, parameter_count=n_params, measured=measured,
        clbit_count=compiled.clbit_count, readout_errors=readout, duration_ns=end,
        noisy=noisy, coherent_error_count=coherent_count, crosstalk_step_count=crosstalk_count,
    )
