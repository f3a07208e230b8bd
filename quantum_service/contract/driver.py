"""The unified driver interface: one abstract :class:`QpuDriver` and its optional abilities.

A driver declares what its QPU is as data (:class:`~.capabilities.QpuCapabilities`, plus the
open-ended :attr:`QpuDriver.supports` flags and :attr:`QpuDriver.properties` numbers) and
executes *prepared programs* (:mod:`.programs`): circuits compiled for it once, evaluated for
batches of parameter sets. The kernel never branches on the modality.

Optional abilities are typed protocols. A driver declares an ability by overriding the
matching accessor of :class:`QpuDriver` to return itself (the default returns ``None``); a
caller asks the accessor, never probes attributes:

======================  =======================  ===============================================
accessor                protocol                 used by
======================  =======================  ===============================================
``calibratable()``      :class:`Calibratable`    calibration (native programs, snapshots, clock)
``simultaneous()``      :class:`Simultaneous`    calibration canaries (programs played at once)
``fixed_layout()``      :class:`FixedLayout`     multi-programming (circuits on named qubits)
``post_selecting()``    :class:`PostSelecting`   heralded / loss-detecting devices
``offloadable()``       :class:`Offloadable`     the service's executor (Dask workers)
``mitigating()``        :class:`Mitigating`      jobs and sessions asking for ZNE, twirling, DD
======================  =======================  ===============================================

Lifecycle (as in qibolab): ``connect()`` → many ``prepare()``/``execute()`` → ``disconnect()``.
Drivers never import ``grpc``; they raise :mod:`quantum_service.errors` exceptions.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from quantum_service.circuits.ir import Circuit
from quantum_service.contract.capabilities import QpuCapabilities
from quantum_service.contract.executor import Executor
from quantum_service.contract.mitigation import MitigationOptions
from quantum_service.contract.parameters import CalibrationSnapshot, DeviceParameters
from quantum_service.contract.programs import ExecutionOptions, ExecutionResult, PreparedProgram

__all__ = [
    "Calibratable",
    "FixedLayout",
    "Mitigating",
    "Offloadable",
    "PostSelecting",
    "QpuDriver",
    "Simultaneous",
]


class Calibratable(Protocol):
    """A QPU that calibration experiments run on: uncompiled native programs, a device clock,
    and installable calibration snapshots."""

    @property
    def capabilities(self) -> QpuCapabilities: ...

    @property
    def device_clock_s(self) -> float:
        """Busy plus idle device time, seconds (drift follows it)."""

    @property
    def calibration_device_time_s(self) -> float:
        """Device time spent on calibration programs so far, seconds."""

    def calibration_snapshot(self) -> CalibrationSnapshot: ...

    def install_snapshot(self, snapshot: CalibrationSnapshot) -> None:
        """Makes ``snapshot`` the calibration pulses are built from.

        Raises:
            ValueError: the snapshot describes another QPU.
        """

    def execute_native(self, circuit: Circuit, parameter_sets: np.ndarray, *, shot_count: int,
                       seed: int | None = None, calibrated: DeviceParameters | None = None
                       ) -> ExecutionResult:
        """Runs a circuit on physical qubits, uncompiled, with pulses built from ``calibrated``
        (default: the installed snapshot); native gates, :data:`~.capabilities.DRIVE_GATES`
        and :data:`~.capabilities.DELAY` are allowed. Counts as calibration device time.

        Raises:
            InvalidProgramError: nothing is measured, ``shot_count < 1``, too many qubits.
        """


class Simultaneous(Calibratable, Protocol):
    """A calibratable QPU that plays several native programs on disjoint qubits at once."""

    def execute_native_simultaneous(self, circuits: Sequence[Circuit], *, shot_count: int,
                                    seed: int | None = None,
                                    calibrated: DeviceParameters | None = None
                                    ) -> list[dict[str, int]]:
        """The counts of each circuit, played together for ``shot_count`` shots (device time:
        :func:`~quantum_service.contract.device_time.simultaneous_device_time_s`).

        Raises:
            InvalidProgramError: overlapping qubits (reason ``OVERLAPPING_PROGRAMS``),
                symbolic parameters, nothing measured, ``shot_count < 1``.
        """


class FixedLayout(Protocol):
    """A QPU that runs a circuit on exactly the physical qubits it names (no layout, no
    routing), as multi-programming needs for jobs packed onto disjoint regions."""

    def prepare_physical(self, circuit: Circuit, *,
                         observable: Sequence[tuple[str, float]] | None) -> PreparedProgram:
        """Like :meth:`QpuDriver.prepare`, keeping the circuit's qubits.

        Raises:
            InvalidProgramError: a two-qubit gate on uncoupled qubits (reason ``UNROUTABLE``).
        """


class PostSelecting(Protocol):
    """A QPU that discards shots on an outcome-independent event (failed herald, lost atom);
    results report them in ``ExecutionResult.discarded_shot_counts``."""

    def keep_probability(self, program: PreparedProgram) -> float:
        """Probability in ``[0, 1]`` that one attempted shot of ``program`` is kept."""


class Offloadable(Protocol):
    """A QPU whose pure simulation work (program + parameter sets + shots + seed → counts or
    values) can run on an :class:`~.executor.Executor` the service chooses; the device state
    stays with the driver."""

    def use_executor(self, executor: Executor) -> None:
        """Runs simulation work on ``executor`` from now on (the caller owns and closes it)."""


class Mitigating(Protocol):
    """A QPU that applies circuit-level error mitigation
    (:class:`~.mitigation.MitigationOptions` in ``ExecutionOptions.mitigation``) to the programs
    it prepared: folding for zero-noise extrapolation, Pauli twirling, dynamical decoupling."""

    def check_mitigation(self, program: PreparedProgram, mitigation: MitigationOptions, *,
                         gradient: bool = False) -> None:
        """Checks, before anything runs, that ``program`` can run with ``mitigation``.

        Raises:
            InvalidProgramError: no observable, a dynamic circuit, scale factors that fold to
                the same achieved factor, or gradients with a non-linear fit (reason
                ``INVALID_MITIGATION`` or ``UNSUPPORTED_OPERATION``).
            FailedPreconditionError: the device cannot apply an option, e.g. dynamical
                decoupling where idle qubits do not decohere (reason ``MITIGATION_UNSUPPORTED``).
        """


class QpuDriver(abc.ABC):
    """Abstract driver. Subclasses implement :attr:`capabilities`, :meth:`prepare`,
    :meth:`execute` and :meth:`calibration_snapshot`; everything else has defaults.

    ``execute`` is blocking and thread-safe; the kernel calls it from worker threads.
    """

    @property
    @abc.abstractmethod
    def capabilities(self) -> QpuCapabilities:
        """The QPU's capabilities."""

    def connect(self) -> None:  # noqa: B027 - optional hook
        """Opens the device (default: nothing to do)."""

    def disconnect(self) -> None:  # noqa: B027 - optional hook
        """Releases the device (default: nothing to do)."""

    @abc.abstractmethod
    def prepare(self, circuit: Circuit, *, observable: Sequence[tuple[str, float]] | None,
                observables: Sequence[Sequence[tuple[str, float]]] = ()) -> PreparedProgram:
        """Validates and compiles ``circuit`` for this QPU (once per program).

        Args:
            circuit: the program.
            observable: ``(pauli_string, coefficient)`` terms whose expectation value each
                execution returns, or ``None`` (measurement counts).
            observables: instead of ``observable``, several observables measured together:
                their terms are grouped into qubit-wise commuting measurement settings once,
                each setting runs once for all of them, and results carry one value per
                observable (``ExecutionResult.expectation_values`` of shape ``(m, k)``).
        Raises:
            InvalidProgramError: the circuit cannot run here (too wide, unroutable, ...), or
                both ``observable`` and ``observables`` are given.
        """

    @abc.abstractmethod
    def execute(self, program: PreparedProgram, parameter_sets: np.ndarray,
                options: ExecutionOptions) -> ExecutionResult:
        """Runs ``program`` for each row of ``parameter_sets`` (float64 ``(m, n)``)."""

    @abc.abstractmethod
    def calibration_snapshot(self) -> CalibrationSnapshot:
        """The calibration snapshot programs are compiled and run under now."""

    @property
    def device_time_s(self) -> float:
        """Total device time consumed so far, seconds."""
        return 0.0

    def device_state(self) -> str | None:
        """An opaque token naming the state programs run on now, for
        ``ExecutionOptions.device_state`` (pinning a job to one state; replays). ``None``
        (default): the device cannot be pinned or replayed, e.g. real hardware."""
        return None

    @property
    def supports(self) -> Mapping[str, bool]:
        """Feature flags the driver declares (``QpuDescription.supports``), e.g.
        :data:`~.capabilities.POST_SELECTION`; default none."""
        return {}

    @property
    def properties(self) -> Mapping[str, float]:
        """Modality-specific numbers (``QpuDescription.properties``), e.g.
        ``blockade_radius_um``; default none."""
        return {}

    @property
    def engines(self) -> tuple[str, ...]:
        """Names of the simulation engines this driver runs programs on (``()``: a real
        device, or not declared)."""
        return ()

    # -- optional abilities: override to return ``self`` -----------------------------------

    def calibratable(self) -> Calibratable | None:
        """This driver as a :class:`Calibratable`, or ``None``."""
        return None

    def simultaneous(self) -> Simultaneous | None:
        """This driver as a :class:`Simultaneous`, or ``None``."""
        return None

    def fixed_layout(self) -> FixedLayout | None:
        """This driver as a :class:`FixedLayout`, or ``None``."""
        return None

    def post_selecting(self) -> PostSelecting | None:
        """This driver as a :class:`PostSelecting`, or ``None``."""
        return None

    def offloadable(self) -> Offloadable | None:
        """This driver as an :class:`Offloadable`, or ``None``."""
        return None

    def mitigating(self) -> Mitigating | None:
        """This driver as a :class:`Mitigating` QPU, or ``None``."""
        return None
