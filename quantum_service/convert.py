"""Conversions between ``qcore.v1`` messages and the quantum service's domain objects.

The one module that knows both sides for circuits, observables, QPUs and calibration
snapshots; the drivers and simulator see domain objects only. Job records already hold their
request and result as messages and are converted next to them
(:func:`quantum_service.kernel.jobs.job_to_proto`), so this module depends on no kernel code.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from qcore.v1 import common_pb2
from qcore.v1 import telemetry_pb2
from quantum_service.circuits.gates import gate_spec
from quantum_service.circuits.ir import (
    NON_UNITARY_OPERATIONS,
    Circuit,
    Operation,
    ParameterExpression,
)
from quantum_service.circuits.qasm import parse_qasm
from quantum_service.contract import (
    CalibrationSnapshot,
    DecouplingSequence,
    DynamicalDecoupling,
    Extrapolation,
    Folding,
    MitigationOptions,
    MitigationRecord,
    Modality,
    PauliTwirling,
    QpuCapabilities,
    ZeroNoiseExtrapolation,
)
from quantum_service.errors import InvalidProgramError

__all__ = [
    "circuit_from_proto",
    "circuit_to_proto",
    "program_from_proto",
    "observable_from_proto",
    "observables_from_proto",
    "MAX_OBSERVABLE_TERMS",
    "MAX_PAULI_STRING_LENGTH",
    "qpu_to_proto",
    "snapshot_to_proto",
    "calibration_event",
    "calibration_summary_event",
    "qubit_calibration_events",
    "timestamp",
    "mitigation_from_proto",
    "mitigation_record_to_proto",
    "MAX_SCALE_FACTOR",
    "MAX_RANDOMIZATION_COUNT",
]

#: Largest noise scale factor accepted (a circuit folded 21-fold is noise, not signal).
MAX_SCALE_FACTOR = 21.0
#: Most scale factors of one extrapolation.
MAX_SCALE_FACTOR_COUNT = 8
#: Most Pauli frames per circuit.
MAX_RANDOMIZATION_COUNT = 64
#: Pauli frames when a request asks for twirling without a count.
DEFAULT_RANDOMIZATION_COUNT = 8

_EXTRAPOLATION = {
    common_pb2.EXTRAPOLATION_METHOD_UNSPECIFIED: Extrapolation.RICHARDSON,
    common_pb2.EXTRAPOLATION_METHOD_RICHARDSON: Extrapolation.RICHARDSON,
    common_pb2.EXTRAPOLATION_METHOD_LINEAR: Extrapolation.LINEAR,
    common_pb2.EXTRAPOLATION_METHOD_EXPONENTIAL: Extrapolation.EXPONENTIAL,
}
_EXTRAPOLATION_TO_PROTO = {
    Extrapolation.RICHARDSON: common_pb2.EXTRAPOLATION_METHOD_RICHARDSON,
    Extrapolation.LINEAR: common_pb2.EXTRAPOLATION_METHOD_LINEAR,
    Extrapolation.EXPONENTIAL: common_pb2.EXTRAPOLATION_METHOD_EXPONENTIAL,
}
_FOLDING = {
    common_pb2.FOLDING_METHOD_UNSPECIFIED: Folding.GLOBAL,
    common_pb2.FOLDING_METHOD_GLOBAL: Folding.GLOBAL,
    common_pb2.FOLDING_METHOD_LOCAL: Folding.LOCAL,
}
_SEQUENCE = {
    common_pb2.DECOUPLING_SEQUENCE_UNSPECIFIED: DecouplingSequence.XX,
    common_pb2.DECOUPLING_SEQUENCE_XX: DecouplingSequence.XX,
    common_pb2.DECOUPLING_SEQUENCE_XY4: DecouplingSequence.XY4,
}


def _enum_value(table: Mapping[int, object], value: int, *, field: str, enum: str) -> object:
    if value not in table:
        known = ", ".join(str(k) for k in sorted(table))
        raise InvalidProgramError(f"{field} = {value} is not a {enum} value; use one of {known}",
                                  reason="INVALID_MITIGATION")
    return table[value]


def mitigation_from_proto(msg: common_pb2.MitigationOptions) -> MitigationOptions:
    """Checks and converts ``MitigationOptions`` (defaults: scale factors 1, 3, 5, global
    folding, Richardson; 8 Pauli frames; X–X decoupling).

    Raises:
        InvalidProgramError: (reason ``INVALID_MITIGATION``) no technique set; a scale factor
            below 1, above :data:`MAX_SCALE_FACTOR` or not finite; fewer than 2, more than 8 or
            repeated scale factors; an unknown enum value; a randomization count outside
            ``[0, 64]``.
    """
    zne = twirl = dd = None
    if msg.HasField("zero_noise_extrapolation"):
        z = msg.zero_noise_extrapolation
        factors = tuple(float(v) for v in z.scale_factors) or (1.0, 3.0, 5.0)
        bad = [v for v in factors if not (math.isfinite(v) and 1.0 <= v <= MAX_SCALE_FACTOR)]
        if bad:
            raise InvalidProgramError(
                f"noise scale factors must be finite numbers from 1 (the device's own noise) to "
                f"{MAX_SCALE_FACTOR:g}, got {bad}; e.g. 1, 3, 5", reason="INVALID_MITIGATION")
        if not 2 <= len(factors) <= MAX_SCALE_FACTOR_COUNT or len(set(factors)) != len(factors):
            raise InvalidProgramError(
                f"zero-noise extrapolation needs 2 to {MAX_SCALE_FACTOR_COUNT} distinct scale "
                f"factors, got {list(factors)}; e.g. 1, 3, 5", reason="INVALID_MITIGATION")
        zne = ZeroNoiseExtrapolation(
            scale_factors=factors,
            folding=_enum_value(_FOLDING, z.folding, field="folding",  # type: ignore[arg-type]
                                enum="FoldingMethod"),
            extrapolation=_enum_value(_EXTRAPOLATION, z.extrapolation,  # type: ignore[arg-type]
                                      field="extrapolation", enum="ExtrapolationMethod"))
    if msg.HasField("pauli_twirling"):
        count = msg.pauli_twirling.randomization_count or DEFAULT_RANDOMIZATION_COUNT
        if not 1 <= count <= MAX_RANDOMIZATION_COUNT:
            raise InvalidProgramError(
                f"randomization_count must be from 1 to {MAX_RANDOMIZATION_COUNT} (0 means "
                f"{DEFAULT_RANDOMIZATION_COUNT}), got {msg.pauli_twirling.randomization_count}",
                reason="INVALID_MITIGATION")
        twirl = PauliTwirling(randomization_count=count)
    if msg.HasField("dynamical_decoupling"):
        dd = DynamicalDecoupling(sequence=_enum_value(  # type: ignore[arg-type]
            _SEQUENCE, msg.dynamical_decoupling.sequence, field="sequence",
            enum="DecouplingSequence"))
    options = MitigationOptions(zne, twirl, dd)
    if not options.active:
        raise InvalidProgramError(
            "mitigation is set but names no technique; set zero_noise_extrapolation, "
            "pauli_twirling or dynamical_decoupling (or leave mitigation unset)",
            reason="INVALID_MITIGATION")
    return options


def mitigation_record_to_proto(record: MitigationRecord) -> common_pb2.MitigationResult:
    """A :class:`MitigationRecord` as ``MitigationResult``."""
    return common_pb2.MitigationResult(
        scale_factors=record.scale_factors, expectation_values=record.expectation_values,
        standard_errors=record.standard_errors,
        extrapolation=(_EXTRAPOLATION_TO_PROTO[record.extrapolation]
                       if record.extrapolation is not None
                       else common_pb2.EXTRAPOLATION_METHOD_UNSPECIFIED),
        randomization_count=record.randomization_count,
        decoupling_pulse_count=record.decoupling_pulse_count)

_MODALITY = {
    Modality.SUPERCONDUCTING: common_pb2.MODALITY_SUPERCONDUCTING,
    Modality.TRAPPED_ION: common_pb2.MODALITY_TRAPPED_ION,
    Modality.NEUTRAL_ATOM: common_pb2.MODALITY_NEUTRAL_ATOM,
    Modality.PHOTONIC: common_pb2.MODALITY_PHOTONIC,
}


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _expression_from_proto(msg: common_pb2.ParameterExpression, where: str
                           ) -> ParameterExpression:
    values = [msg.constant, *(t.coefficient for t in msg.terms)]
    if not all(math.isfinite(v) for v in values):
        raise InvalidProgramError(f"{where}: parameter expression has a non-finite number",
                                  reason="INVALID_PARAMETER")
    expr = ParameterExpression(msg.constant)
    for term in msg.terms:
        if not term.symbol:
            raise InvalidProgramError(f"{where}: parameter term without a symbol name")
        expr = expr + ParameterExpression.symbol(term.symbol) * term.coefficient
    return expr


def circuit_from_proto(msg: common_pb2.Circuit) -> Circuit:
    """Converts and validates a structured circuit.

    Raises:
        InvalidProgramError: bad qubit count, unknown gate, wrong arity or parameter count,
            qubit or clbit index out of range, repeated qubits, undeclared symbol.
    """
    n = msg.qubit_count
    if n < 1:
        raise InvalidProgramError("circuit.qubit_count must be >= 1", reason="EMPTY_PROGRAM")
    declared = tuple(msg.parameters)
    if len(set(declared)) != len(declared):
        raise InvalidProgramError("circuit.parameters has duplicate names")
    ops = []
    for index, op in enumerate(msg.operations):
        where = f"operation {index} ({op.name!r})"
        qubits = tuple(op.qubits)
        if any(q < 0 or q >= n for q in qubits):
            raise InvalidProgramError(
                f"{where}: qubit index out of range for a {n}-qubit circuit: {list(qubits)}",
                reason="QUBIT_OUT_OF_RANGE")
        if len(set(qubits)) != len(qubits):
            raise InvalidProgramError(f"{where}: repeated qubit in {list(qubits)}")
        params = tuple(_expression_from_proto(p, where) for p in op.params)
        if declared:
            unknown = {s for p in params for s in p.symbols} - set(declared)
            if unknown:
                raise InvalidProgramError(
                    f"{where}: symbol(s) {sorted(unknown)} not in circuit.parameters")
        if op.name == "measure":
            clbits = tuple(op.clbits)
            if len(clbits) != len(qubits) or not qubits:
                raise InvalidProgramError(f"{where}: measure needs one clbit per qubit")
            if any(c < 0 or c >= msg.clbit_count for c in clbits):
                raise InvalidProgramError(f"{where}: clbit index out of range "
                                          f"(clbit_count={msg.clbit_count})")
            ops.append(Operation("measure", qubits, (), clbits))
            continue
        if op.name in NON_UNITARY_OPERATIONS:
            ops.append(Operation(op.name, qubits))
            continue
        spec = gate_spec(op.name)
        if len(qubits) != spec.qubit_count:
            raise InvalidProgramError(
                f"{where}: gate acts on {spec.qubit_count} qubit(s), got {len(qubits)}")
        if len(params) != spec.param_count:
            raise InvalidProgramError(
                f"{where}: gate takes {spec.param_count} parameter(s), got {len(params)}")
        ops.append(Operation(op.name, qubits, params))
    return Circuit(n, tuple(ops), msg.clbit_count, declared, msg.name)


def circuit_to_proto(circuit: Circuit) -> common_pb2.Circuit:
    """The structured message of a circuit.

    Raises:
        InvalidProgramError: a conditional operation: the structured ``Circuit`` message has no
            conditions; send dynamic circuits as OpenQASM (reason ``UNSUPPORTED_OPERATION``).
    """
    conditional = next((op for op in circuit.operations if op.condition is not None), None)
    if conditional is not None:
        raise InvalidProgramError(
            f"conditional operation {conditional.name!r} cannot be written as a structured "
            "qcore.v1.Circuit (it has no conditions); send the program as OpenQASM 3",
            reason="UNSUPPORTED_OPERATION")
    msg = common_pb2.Circuit(qubit_count=circuit.qubit_count, clbit_count=circuit.clbit_count,
                             parameters=circuit.parameters, name=circuit.name)
    for op in circuit.operations:
        out = msg.operations.add(name=op.name, qubits=op.qubits, clbits=op.clbits)
        for p in op.params:
            expr = out.params.add(constant=p.constant)
            for symbol, coefficient in p.terms:
                expr.terms.add(symbol=symbol, coefficient=coefficient)
    return msg


def program_from_proto(msg: common_pb2.Program, *, index: int = 0) -> Circuit:
    """Parses a ``Program`` (OpenQASM 2/3 text or structured circuit) into the IR.

    Raises:
        InvalidProgramError: neither source set, blank OpenQASM text, or a program the parser
            or :func:`circuit_from_proto` rejects (message prefixed ``program <index>:``).
    """
    which = msg.WhichOneof("source")
    if which == "openqasm" and not msg.openqasm.strip():
        raise InvalidProgramError(
            f"program {index}: `openqasm` is blank; send OpenQASM 2/3 source such as "
            "'OPENQASM 3.0; qubit[1] q; h q[0];'", reason="EMPTY_PROGRAM")
    try:
        if which == "openqasm":
            return parse_qasm(msg.openqasm, name=f"program-{index}")
        if which == "circuit":
            return circuit_from_proto(msg.circuit)
    except InvalidProgramError as exc:
        raise InvalidProgramError(f"program {index}: {exc}", reason=exc.reason) from None
    raise InvalidProgramError(f"program {index} is empty: set `openqasm` or `circuit`",
                              reason="EMPTY_PROGRAM")


#: Most terms an observable may have, checked before any term is parsed so that the work per
#: request is bounded (a qcore choice, not a physical limit).
MAX_OBSERVABLE_TERMS = 100_000
#: Most observables one job or session may measure together (a qcore choice bounding the work
#: per request; their terms count towards :data:`MAX_OBSERVABLE_TERMS` together).
MAX_OBSERVABLES = 256
#: Longest ``pauli_string`` accepted, characters: a factor on every qubit of a 1024-qubit
#: register (``"Z1023 "`` is 6 characters) fits with room for extra spaces.
MAX_PAULI_STRING_LENGTH = 8192
#: One sparse Pauli factor: a letter, then a qubit index of 1 to 9 ASCII digits
#: (``str.isdigit`` accepts ``"²"`` and ``int`` reads ``"١"`` as 1; neither may name a qubit).
_PAULI_FACTOR = re.compile(r"([IXYZ])([0-9]{1,9})", re.ASCII | re.IGNORECASE)


def _pauli_factors(pauli_string: str, *, index: int, qubit_count: int) -> list[tuple[str, int]]:
    """``(letter, qubit)`` factors of one sparse Pauli string, letters upper-case.

    Raises:
        InvalidProgramError: too long, non-ASCII, a malformed factor, a qubit outside the
            circuit, or a qubit named twice.
    """
    where = f"observable term {index}"
    if len(pauli_string) > MAX_PAULI_STRING_LENGTH:
        raise InvalidProgramError(
            f"{where}: pauli_string has {len(pauli_string)} characters; the limit is "
            f"{MAX_PAULI_STRING_LENGTH}", reason="INVALID_OBSERVABLE")
    if not pauli_string.isascii():
        raise InvalidProgramError(
            f"{where}: pauli_string {pauli_string[:40]!r} has non-ASCII characters; write "
            "factors like 'X0 Z3 Y4' (a letter I, X, Y or Z, then a qubit index in 0-9 digits)",
            reason="INVALID_OBSERVABLE")
    factors: list[tuple[str, int]] = []
    seen: set[int] = set()
    for factor in pauli_string.split():
        match = _PAULI_FACTOR.fullmatch(factor)
        if match is None:
            raise InvalidProgramError(
                f"{where}: bad Pauli factor {factor[:40]!r}; write factors like 'X0 Z3 Y4' "
                "(a letter I, X, Y or Z, then a qubit index of at most 9 digits 0-9)",
                reason="INVALID_OBSERVABLE")
        qubit = int(match.group(2))
        if qubit >= qubit_count:
            raise InvalidProgramError(
                f"{where}: qubit {qubit} is outside the {qubit_count}-qubit circuit",
                reason="INVALID_OBSERVABLE")
        if qubit in seen:
            raise InvalidProgramError(f"{where}: qubit {qubit} repeated",
                                      reason="INVALID_OBSERVABLE")
        seen.add(qubit)
        factors.append((match.group(1).upper(), qubit))
    return factors


def observable_from_proto(msg: common_pb2.Observable, *, qubit_count: int
                          ) -> list[tuple[str, float]]:
    """Validates an observable and returns its ``(pauli_string, coefficient)`` terms.

    Pauli strings come back upper-case with ``I`` factors dropped, factors in the order given.
    At most :data:`MAX_OBSERVABLE_TERMS` terms of at most :data:`MAX_PAULI_STRING_LENGTH`
    characters each are accepted; both are checked before anything is parsed.

    Raises:
        InvalidProgramError: no terms or too many, a malformed or over-long Pauli string (only
            ASCII ``I``/``X``/``Y``/``Z`` followed by ASCII digits), a qubit outside the
            circuit, a repeated qubit in one term, a non-finite coefficient, or coefficients
            whose sum of squares overflows float64 (``|c| >~ 1e154``).
    """
    if not msg.terms:
        raise InvalidProgramError("observable has no terms", reason="INVALID_OBSERVABLE")
    if len(msg.terms) > MAX_OBSERVABLE_TERMS:
        raise InvalidProgramError(
            f"observable has {len(msg.terms)} terms; the limit is {MAX_OBSERVABLE_TERMS}",
            reason="INVALID_OBSERVABLE")
    terms = []
    for index, term in enumerate(msg.terms):
        if not math.isfinite(term.coefficient):
            raise InvalidProgramError(f"observable term {index}: coefficient is not finite",
                                      reason="INVALID_OBSERVABLE")
        factors = _pauli_factors(term.pauli_string, index=index, qubit_count=qubit_count)
        terms.append((" ".join(f"{letter}{qubit}" for letter, qubit in factors
                               if letter != "I"), term.coefficient))
    if not math.isfinite(math.fsum(c * c for _, c in terms)):
        raise InvalidProgramError(
            "observable coefficients are too large: the sum of their squares overflows "
            "float64 (so would the shot-noise standard error); rescale the observable",
            reason="INVALID_OBSERVABLE")
    return terms


def observables_from_proto(msgs: Sequence[common_pb2.Observable], *, qubit_count: int
                           ) -> list[list[tuple[str, float]]]:
    """Validates several observables (each as :func:`observable_from_proto`) and returns their
    terms, in order.

    At most :data:`MAX_OBSERVABLES` observables with at most :data:`MAX_OBSERVABLE_TERMS` terms
    in all are accepted, checked before any term is parsed.

    Raises:
        InvalidProgramError: too many observables or terms, or a bad observable (the message
            names it as ``observables[i]``); reason ``INVALID_OBSERVABLE``.
    """
    if len(msgs) > MAX_OBSERVABLES:
        raise InvalidProgramError(
            f"{len(msgs)} observables; the limit is {MAX_OBSERVABLES}: split them over "
            "several jobs or sessions", reason="INVALID_OBSERVABLE")
    total = sum(len(m.terms) for m in msgs)
    if total > MAX_OBSERVABLE_TERMS:
        raise InvalidProgramError(
            f"the observables have {total} terms in all; the limit is {MAX_OBSERVABLE_TERMS}",
            reason="INVALID_OBSERVABLE")
    out = []
    for index, msg in enumerate(msgs):
        try:
            out.append(observable_from_proto(msg, qubit_count=qubit_count))
        except InvalidProgramError as exc:
            raise InvalidProgramError(f"observables[{index}]: {exc}", reason=exc.reason) from None
    return out


def snapshot_to_proto(snapshot: CalibrationSnapshot) -> common_pb2.CalibrationSnapshot:
    params = snapshot.parameters
    msg = common_pb2.CalibrationSnapshot(
        snapshot_id=snapshot.snapshot_id, qpu_id=snapshot.qpu_id,
        create_time=timestamp(snapshot.create_time), trigger=snapshot.trigger,
        recalibrated_qubits=list(snapshot.recalibrated_qubits),
        calibration_device_time_s=snapshot.calibration_device_time_s,
        parent_snapshot_id=snapshot.parent_snapshot_id)
    uncertainties = snapshot.qubit_uncertainties
    times = snapshot.qubit_calibrate_times
    for q, qp in enumerate(params.qubits):
        entry = msg.qubits.add(
            qubit=q, frequency_hz=qp.frequency_hz, t1_us=qp.t1_us, t2_us=qp.t2_us,
            readout_fidelity=qp.readout_fidelity,
            single_qubit_gate_fidelity=qp.single_qubit_gate_fidelity,
            pi_pulse_amplitude=qp.pi_pulse_amplitude, readout_p01=qp.readout_p01,
            readout_p10=qp.readout_p10)
        if q < len(uncertainties):
            entry.uncertainties.update({k: float(v) for k, v in uncertainties[q].items()})
        if q < len(times):
            entry.calibrate_time.CopyFrom(timestamp(times[q]))
    for (a, b), pair in sorted(params.pairs.items()):
        entry = msg.pairs.add(qubit_a=a, qubit_b=b,
                              two_qubit_gate_fidelity=pair.two_qubit_gate_fidelity,
                              two_qubit_phase_rad=pair.two_qubit_phase_rad)
        entry.uncertainties.update(
            {k: float(v) for k, v in snapshot.pair_uncertainties.get((a, b), {}).items()})
    for rejection in snapshot.rejections:
        target = rejection.target
        msg.rejections.add(node=rejection.node,
                           qubits=[target] if isinstance(target, int) else list(target),
                           reason=rejection.reason, detail=rejection.detail)
    return msg


def qpu_to_proto(caps: QpuCapabilities, *, snapshot: CalibrationSnapshot | None,
                 queue_length: int = 0, device_time_s: float = 0.0,
                 status: int = common_pb2.QPU_STATUS_ONLINE,
                 supports: Mapping[str, bool] | None = None,
                 properties: Mapping[str, float] | None = None) -> common_pb2.QpuDescription:
    """A QPU as a ``qcore.v1.QpuDescription``.

    Args:
        caps: the driver's capabilities.
        snapshot: the installed calibration snapshot (native-gate fidelities are its means);
            ``None`` leaves ``calibration`` unset and fidelities at 1.
        queue_length: jobs queued or running.
        device_time_s: device time consumed, seconds.
        status: a ``qcore.v1.QpuStatus`` value.
        supports: capability flags (``Kernel.qpu_supports``).
        properties: modality-specific numbers (``Kernel.qpu_properties``).
    """
    msg = common_pb2.QpuDescription(
        qpu_id=caps.qpu_id, modality=_MODALITY[caps.modality], description=caps.description,
        qubit_count=caps.qubit_count, all_to_all=caps.coupling_map is None,
        max_shot_count=caps.max_shot_count,
        max_parameter_set_count=caps.max_parameter_set_count,
        readout_duration_ns=caps.readout_duration_ns, reset_duration_ns=caps.reset_duration_ns,
        noisy=caps.noisy, status=status, queue_length=queue_length,
        device_time_s=device_time_s, supports=dict(supports or {}),
        properties=dict(properties or {}))
    for a, b in caps.coupling_map or ():
        msg.coupling_map.add(qubit_a=a, qubit_b=b)
    for gate in caps.native_gates:
        fidelity = 1.0
        if snapshot is not None and caps.noisy:
            p = snapshot.parameters
            if gate.qubit_count == 1 and gate.duration_ns > 0:
                fidelity = sum(q.single_qubit_gate_fidelity for q in p.qubits) / len(p.qubits)
            elif gate.qubit_count == 2:
                pairs = list(p.pairs.values())
                fidelity = (sum(x.two_qubit_gate_fidelity for x in pairs) / len(pairs)
                            if pairs else p.default_two_qubit_gate_fidelity)
        msg.native_gates.add(name=gate.name, qubit_count=gate.qubit_count,
                             parameter_count=gate.parameter_count,
                             duration_ns=gate.duration_ns, fidelity=fidelity)
    if snapshot is not None:
        msg.calibration.CopyFrom(snapshot_to_proto(snapshot))
    return msg


def calibration_event(snapshot: CalibrationSnapshot, *, experiments: Sequence[str] = (),
                      time: datetime | None = None) -> telemetry_pb2.CalibrationEvent:
    """The ``CalibrationEvent`` announcing ``snapshot`` (its ``trigger``), produced by
    ``experiments``, at ``time`` (default: now, UTC)."""
    return telemetry_pb2.CalibrationEvent(
        qpu_id=snapshot.qpu_id, snapshot=snapshot_to_proto(snapshot),
        trigger=snapshot.trigger, experiments=list(experiments),
        time=timestamp(time or datetime.now(UTC)))


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def _minimum(values: Sequence[float]) -> float:
    return min(values) if values else math.nan


def calibration_summary_event(snapshot: CalibrationSnapshot, *,
                              experiments: Sequence[str] = (), time: datetime | None = None
                              ) -> telemetry_pb2.CalibrationSummaryEvent:
    """The ``CalibrationSummaryEvent`` of ``snapshot``: its ids and trigger, and statistics
    over its qubits (T1, T2 in µs; readout and gate fidelities) and coupled pairs (two-qubit
    gate fidelity). A statistic over no values is NaN (JSON ``null``), e.g. the two-qubit
    fidelity of a snapshot without pairs. ``time`` defaults to now, UTC."""
    params = snapshot.parameters
    t1 = [q.t1_us for q in params.qubits]
    t2 = [q.t2_us for q in params.qubits]
    readout = [q.readout_fidelity for q in params.qubits]
    gate_1q = [q.single_qubit_gate_fidelity for q in params.qubits]
    gate_2q = [pair.two_qubit_gate_fidelity for pair in params.pairs.values()]
    return telemetry_pb2.CalibrationSummaryEvent(
        qpu_id=snapshot.qpu_id, snapshot_id=snapshot.snapshot_id,
        parent_snapshot_id=snapshot.parent_snapshot_id, trigger=snapshot.trigger,
        experiments=list(experiments), recalibrated_qubits=list(snapshot.recalibrated_qubits),
        calibration_device_time_s=snapshot.calibration_device_time_s,
        qubit_count=len(params.qubits), pair_count=len(params.pairs),
        t1_us_median=_median(t1), t1_us_min=_minimum(t1),
        t2_us_median=_median(t2), t2_us_min=_minimum(t2),
        readout_fidelity_mean=_mean(readout), readout_fidelity_min=_minimum(readout),
        single_qubit_gate_fidelity_mean=_mean(gate_1q),
        two_qubit_gate_fidelity_mean=_mean(gate_2q),
        two_qubit_gate_fidelity_min=_minimum(gate_2q),
        create_time=timestamp(snapshot.create_time),
        time=timestamp(time or datetime.now(UTC)))


def qubit_calibration_events(snapshot: CalibrationSnapshot, *, time: datetime | None = None
                             ) -> list[telemetry_pb2.QubitCalibrationEvent]:
    """One ``QubitCalibrationEvent`` per qubit of ``snapshot``, in qubit order (the
    ``qubits`` entries of :func:`snapshot_to_proto`). ``time`` defaults to now, UTC."""
    when = timestamp(time or datetime.now(UTC))
    return [telemetry_pb2.QubitCalibrationEvent(qpu_id=snapshot.qpu_id,
                                                snapshot_id=snapshot.snapshot_id,
                                                calibration=qubit, time=when)
            for qubit in snapshot_to_proto(snapshot).qubits]
