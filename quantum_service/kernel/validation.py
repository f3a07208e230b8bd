"""Validation of job submissions, before anything is queued.

Checks everything that can be checked without running: programs parse, gates are known, the
observable (or each of several) fits the programs, parameter sets match the programs'
parameters and are finite, ``shot_count`` is in range, enum fields hold values the service
knows, and the programs compile for the chosen QPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from google.protobuf.descriptor import EnumDescriptor

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.circuits.ir import Circuit
from quantum_service.convert import (
    mitigation_from_proto,
    observable_from_proto,
    observables_from_proto,
    program_from_proto,
)
from quantum_service.contract import MitigationOptions, PreparedProgram, QpuCapabilities, QpuDriver
from quantum_service.engines.mps import DEFAULT_MAX_BOND_DIMENSION
from quantum_service.errors import FailedPreconditionError, InvalidProgramError
from quantum_service.kernel.jobs import JobState

__all__ = ["MAX_BOND_DIMENSION", "ParsedJob", "check_bond_dimension", "parse_job",
           "parse_observables", "check_shot_count", "parameter_matrix", "check_enum",
           "check_seed", "job_state_filter", "check_session_start", "check_dynamic_circuits",
           "parse_mitigation", "check_mitigation"]


@dataclass(slots=True)
class ParsedJob:
    """A submission with its programs parsed (not yet compiled)."""

    circuits: list[Circuit]
    observable: list[tuple[str, float]] | None
    parameter_sets: np.ndarray  # float64 (m, n); m = 1, n = 0 for parameter-free programs
    qubit_count: int
    #: ``SubmitJobRequest.observables``, each as ``(pauli_string, coefficient)`` terms (then
    #: ``observable`` is ``None``); empty otherwise.
    observables: list[list[tuple[str, float]]] = field(default_factory=list)
    mitigation: MitigationOptions | None = None

    @property
    def has_observable(self) -> bool:
        """The job returns expectation values (one observable or several)."""
        return self.observable is not None or bool(self.observables)


def parameter_matrix(rows: list[list[float]], parameter_count: int, *, what: str
                     ) -> np.ndarray:
    """Checks parameter sets and returns them as float64 ``(m, parameter_count)``.

    Raises:
        InvalidProgramError: a set of the wrong length, or a NaN/infinite value.
    """
    if not rows:
        if parameter_count:
            raise InvalidProgramError(
                f"{what} has {parameter_count} symbolic parameter(s) but no parameter sets "
                f"were given", reason="WRONG_PARAMETER_COUNT")
        return np.zeros((1, 0))
    for index, row in enumerate(rows):
        if len(row) != parameter_count:
            raise InvalidProgramError(
                f"parameter set {index} has {len(row)} value(s); {what} expects "
                f"{parameter_count}", reason="WRONG_PARAMETER_COUNT")
        if not all(math.isfinite(v) for v in row):
            raise InvalidProgramError(
                f"parameter set {index} contains NaN or infinity", reason="INVALID_PARAMETER")
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), parameter_count)


def check_shot_count(shot_count: int, *, has_observable: bool, caps: QpuCapabilities | None
                     ) -> None:
    """Raises InvalidProgramError when ``shot_count`` is out of range."""
    if shot_count < 0 or (shot_count == 0 and not has_observable):
        raise InvalidProgramError(
            f"shot_count must be > 0 to sample measurement counts (got {shot_count}); "
            "use shot_count = 0 only with an observable for exact expectation values",
            reason="INVALID_SHOT_COUNT")
    if caps is not None and shot_count > caps.max_shot_count:
        raise InvalidProgramError(
            f"shot_count {shot_count} exceeds QPU {caps.qpu_id!r}'s limit of "
            f"{caps.max_shot_count}", reason="INVALID_SHOT_COUNT")


def parse_observables(message: qs_pb2.SubmitJobRequest | qs_pb2.SessionStart, *,
                      qubit_count: int
                      ) -> tuple[list[tuple[str, float]] | None, list[list[tuple[str, float]]]]:
    """``(observable, observables)`` of a job or session request: its single ``observable``
    (or ``None``) and its ``observables`` (or ``[]``), each validated
    (:func:`~quantum_service.convert.observable_from_proto`,
    :func:`~quantum_service.convert.observables_from_proto`) against ``qubit_count`` qubits.

    Raises:
        InvalidProgramError: both fields are set, or an observable is bad (reason
            ``INVALID_OBSERVABLE``).
    """
    if message.HasField("observable") and message.observables:
        raise InvalidProgramError(
            "set either `observable` or `observables`, not both: to measure that observable "
            "with the others, add it to `observables`", reason="INVALID_OBSERVABLE")
    if message.observables:
        return None, observables_from_proto(message.observables, qubit_count=qubit_count)
    if message.HasField("observable"):
        return observable_from_proto(message.observable, qubit_count=qubit_count), []
    return None, []


def check_dynamic_circuits(circuits: list[Circuit], caps: QpuCapabilities,
                           fleet: list[QpuCapabilities]) -> None:
    """Rejects dynamic circuits (:meth:`Circuit.dynamic_feature`) for a QPU that does not
    declare ``dynamic_circuits``, naming the QPUs of ``fleet`` that do.

    Raises:
        InvalidProgramError: reason ``UNSUPPORTED_OPERATION``.
    """
    if caps.dynamic_circuits:
        return
    feature = next((f for c in circuits if (f := c.dynamic_feature()) is not None), None)
    if feature is None:
        return
    able = [c.qpu_id for c in fleet if c.dynamic_circuits]
    hint = (f"submit it to one of {', '.join(able)} or leave qpu_id empty" if able
            else "no QPU of this service runs dynamic circuits")
    raise InvalidProgramError(
        f"the program is a dynamic circuit ({feature}) but QPU {caps.qpu_id!r} "
        f"({caps.modality.value}) does not run dynamic circuits (mid-circuit measurement, "
        f"reset, feed-forward); {hint}", reason="UNSUPPORTED_OPERATION")


def check_seed(seed: int) -> None:
    """Raises InvalidProgramError for a negative ``seed`` (0 picks one; NumPy's
    ``SeedSequence`` takes non-negative integers only)."""
    if seed < 0:
        raise InvalidProgramError(f"seed must be >= 0 (0 picks one), got {seed}",
                                  reason="INVALID_SEED")


#: Largest accepted ``max_bond_dimension``: a request may lower the MPS bond cap of the
#: simulated QPUs (:data:`~quantum_service.engines.mps.DEFAULT_MAX_BOND_DIMENSION`), never raise
#: it, so no job can claim more memory (a site tensor grows as ``χ²``) than the QPU is sized for.
MAX_BOND_DIMENSION = DEFAULT_MAX_BOND_DIMENSION


def check_bond_dimension(value: int) -> None:
    """Raises InvalidProgramError (reason ``INVALID_BOND_DIMENSION``) unless
    ``0 <= value <= MAX_BOND_DIMENSION`` (0: the QPU's default)."""
    if not 0 <= value <= MAX_BOND_DIMENSION:
        raise InvalidProgramError(
            f"max_bond_dimension must be between 1 and {MAX_BOND_DIMENSION} (a job may lower "
            f"the QPU's cap, not raise it), or 0 for the QPU's default; got {value}",
            reason="INVALID_BOND_DIMENSION")


def parse_job(request: qs_pb2.SubmitJobRequest) -> ParsedJob:
    """Parses and checks a submission (everything except QPU-specific limits).

    Raises:
        InvalidProgramError: with an actionable message.
    """
    if not request.programs:
        raise InvalidProgramError("the job has no programs", reason="EMPTY_PROGRAM")
    circuits = [program_from_proto(p, index=i) for i, p in enumerate(request.programs)]
    counts = {c.parameter_count for c in circuits}
    if len(counts) != 1:
        raise InvalidProgramError(
            "all programs of a job must have the same number of symbolic parameters "
            f"(got {sorted(counts)})", reason="WRONG_PARAMETER_COUNT")
    width = max(c.qubit_count for c in circuits)
    observable, observables = parse_observables(
        request, qubit_count=min(c.qubit_count for c in circuits))
    has_observable = observable is not None or bool(observables)
    check_shot_count(request.shot_count, has_observable=has_observable, caps=None)
    check_seed(request.seed)
    check_bond_dimension(request.max_bond_dimension)
    mitigation = parse_mitigation(request, has_observable=has_observable,
                                  several_observables=bool(observables))
    sets = parameter_matrix([list(s.values) for s in request.parameter_sets], counts.pop(),
                            what="the program")
    return ParsedJob(circuits, observable, sets, width, observables, mitigation)


def parse_mitigation(request: qs_pb2.SubmitJobRequest | qs_pb2.SessionStart, *,
                     has_observable: bool, several_observables: bool = False
                     ) -> MitigationOptions | None:
    """The request's ``mitigation`` options, checked; ``None`` when unset.

    Raises:
        InvalidProgramError: bad options (see
            :func:`~quantum_service.convert.mitigation_from_proto`), or mitigation without an
            observable, or with several (``observables``: the extrapolation is per observable and
            not offered yet) (reason ``INVALID_MITIGATION``).
    """
    if not request.HasField("mitigation"):
        return None
    if several_observables:
        raise InvalidProgramError(
            "error mitigation (zero-noise extrapolation, twirling, decoupling) applies to one "
            "observable (`observable`), not to `observables`: submit one mitigated job or "
            "session per observable, or drop mitigation", reason="INVALID_MITIGATION")
    if not has_observable:
        raise InvalidProgramError(
            "error mitigation (zero-noise extrapolation, twirling, decoupling) mitigates "
            "expectation values: add an observable, or drop mitigation (readout_mitigation "
            "corrects counts)", reason="INVALID_MITIGATION")
    return mitigation_from_proto(request.mitigation)


def check_mitigation(driver: QpuDriver, programs: list[PreparedProgram],
                     mitigation: MitigationOptions, *, gradient: bool = False) -> None:
    """Checks that ``driver``'s QPU can apply ``mitigation`` to ``programs`` (prepared by it).

    Raises:
        FailedPreconditionError: the QPU applies no circuit-level mitigation, or not one of the
            options (reason ``MITIGATION_UNSUPPORTED``).
        InvalidProgramError: see :meth:`~quantum_service.contract.Mitigating.check_mitigation`.
    """
    mitigating = driver.mitigating()
    if mitigating is None:
        raise FailedPreconditionError(
            f"QPU {driver.capabilities.qpu_id!r} applies no circuit-level error mitigation; "
            "choose a QPU whose supports['zero_noise_extrapolation'] is true",
            reason="MITIGATION_UNSUPPORTED")
    for program in programs:
        mitigating.check_mitigation(program, mitigation, gradient=gradient)


def check_enum(value: int, enum: EnumDescriptor, *, field: str) -> int:
    """Returns ``value`` if it is a number ``enum`` defines, ``0`` (UNSPECIFIED) included.

    proto3 keeps unknown enum numbers as plain ints, so a client can send any int32; each
    request field is checked here before the value is used.

    Raises:
        InvalidProgramError: ``value`` is not one of ``enum``'s numbers (reason ``INVALID_ENUM``).
    """
    if value not in enum.values_by_number:
        names = ", ".join(f"{v.name} = {v.number}" for v in enum.values)
        raise InvalidProgramError(
            f"{field} = {value} is not a {enum.name} value; use one of {names}",
            reason="INVALID_ENUM")
    return value


def job_state_filter(value: int) -> JobState | None:
    """``ListJobsRequest.state`` as a filter: ``None`` for ``JOB_STATE_UNSPECIFIED`` (all jobs).

    Raises:
        InvalidProgramError: not a ``qcore.v1.JobState`` number.
    """
    check_enum(value, common_pb2.JobState.DESCRIPTOR, field="state")
    return JobState(value) if value else None


def check_session_start(start: qs_pb2.SessionStart) -> None:
    """Checks the fields of ``SessionStart`` that need no program or QPU.

    ``gradient_method`` UNSPECIFIED means parameter shift (chosen at the first gradient
    request); ``idle_timeout_s = 0`` means the default.

    Raises:
        InvalidProgramError: an unknown ``gradient_method``, or a negative ``idle_timeout_s``,
            ``shot_count`` or ``seed``.
    """
    check_enum(start.gradient_method, qs_pb2.GradientMethod.DESCRIPTOR, field="gradient_method")
    if start.idle_timeout_s < 0:
        raise InvalidProgramError(
            f"idle_timeout_s must be >= 0 (0 means the default), got {start.idle_timeout_s}",
            reason="INVALID_TIMEOUT")
    if start.shot_count < 0:
        raise InvalidProgramError(
            f"shot_count must be >= 0 (0 means exact expectation values), got "
            f"{start.shot_count}", reason="INVALID_SHOT_COUNT")
    check_seed(start.seed)
