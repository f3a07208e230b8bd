"""Simulated QPUs that discard shots: post-selection on a heralded or loss-free run.

Some devices only report a shot when an independent event succeeded: a photonic QPU keeps a
shot when every heralded two-qubit gate heralded success and every photon reached a detector; a
neutral-atom QPU with an occupancy image keeps a shot when no used atom was lost. The model
shared by these devices:

* each attempted shot is kept with probability ``p_keep``, which depends on the compiled
  program only, never on the measured outcome (loss and herald failure are independent of the
  qubit state in this model);
* the kept shots are therefore distributed exactly as the device's state (noisy or ideal):
  for a sampling program, ``kept ~ Binomial(shot_count, p_keep)`` shots are drawn uniformly
  without replacement from the ``shot_count`` simulated shots (multivariate hypergeometric
  thinning), ``counts`` holds the kept shots and ``discarded_shot_counts`` the others;
* shot-based expectation values are estimated from the kept shots of each measurement setting
  (the same ``kept`` for every setting and every parameter-shifted circuit of a parameter set,
  a simplification); when no shot is kept, the value is NaN and its standard error infinite;
* exact expectation values (``shot_count = 0``) are those of the post-selected state, i.e. the
  ideal (or noisy) state itself: post-selection on an outcome-independent event does not
  change it;
* device time counts every *attempted* shot: ``shot_count`` per circuit execution and setting,
  kept or not;
* calibration programs (:meth:`PostSelectedQpuDriver.execute_native`, and the simultaneous form)
  run with the same heralding or loss, as the calibration of such a device does: an experiment
  asks for ``shot_count`` *kept* shots, the device repeats attempts until it has them, so the
  attempts are ``shot_count`` plus a negative-binomial number of failures
  (``NegBin(shot_count, p_keep)``, mean ``shot_count (1 - p_keep) / p_keep``) and every attempt is
  charged as calibration device time; programs played at once are kept only when all of them
  are (``p_keep`` is the product of theirs).

Thinning a multinomial sample by independent Bernoulli(``p_keep``) selection gives the same
distribution as sampling ``Binomial(n, p_keep)`` shots directly (the splitting property of the
Poisson/multinomial family; e.g. Feller, *An Introduction to Probability Theory and Its
Applications*, vol. 1, 3rd ed., §VI.10).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence

import numpy as np

from quantum_service.circuits.ir import Circuit
from quantum_service.contract import (
    DeviceParameters,
    ExecutionOptions,
    ExecutionResult,
    PostSelecting,
    PreparedProgram,
)
from quantum_service.contract.device_time import attempted_shot_time_s
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.errors import FailedPreconditionError

#: Below this keep probability a calibration program is refused: it would need more than
#: ~10^9 attempts per kept shot.
MIN_CALIBRATION_KEEP_PROBABILITY = 1e-9

#: Operations that send no pulse through a photon's components or an atom.
_NO_PULSE = frozenset({"measure", "barrier", "delay", "reset"})

__all__ = ["PostSelectedQpuDriver"]


class PostSelectedQpuDriver(SimulatedQpuDriver):
    """A :class:`SimulatedQpuDriver` whose device discards shots (see the module docstring);
    declares the :class:`~quantum_service.contract.driver.PostSelecting` ability.

    Subclasses implement :meth:`keep_probability`; the constructor is
    :class:`SimulatedQpuDriver`'s. Results are those of
    :class:`SimulatedQpuDriver` for the kept shots; ``discarded_shot_counts`` holds, per parameter
    set, the discarded shots out of the ``shot_count`` attempted (per measurement setting for
    observable programs); it is ``None`` for exact evaluations.
    """

    @abc.abstractmethod
    def circuit_keep_probability(self, operations: Sequence[tuple[str, tuple[int, ...]]],
                                 active_qubits: Sequence[int]) -> float:
        """Probability in ``[0, 1]`` that one attempted shot is kept.

        Args:
            operations: ``(gate name, physical qubits)`` of each pulse the shot plays (native
                gates and drive pulses; no measure, barrier, delay or reset).
            active_qubits: the physical qubits the shot uses (gates, measurements, observable).
        """

    def keep_probability(self, program: PreparedProgram) -> float:
        """Probability in ``[0, 1]`` that one attempted shot of ``program`` is kept: of its
        compiled circuit on the qubits the driver simulates."""
        exe = self.program_executable(program)
        native = self.capabilities.native_gate_names
        operations = [(op.name, tuple(op.qubits))
                      for op in self.compiled_circuit(program).operations if op.name in native]
        return self.circuit_keep_probability(operations, exe.physical_qubits)

    def native_keep_probability(self, circuit: Circuit) -> float:
        """Probability in ``[0, 1]`` that one attempted shot of a calibration program (a circuit
        on physical qubits, :meth:`execute_native`) is kept."""
        operations = [(op.name, tuple(op.qubits)) for op in circuit.operations
                      if op.name not in _NO_PULSE]
        active = sorted({q for op in circuit.operations if op.name != "barrier"
                         for q in op.qubits})
        return self.circuit_keep_probability(operations, active)

    def post_selecting(self) -> PostSelecting:
        return self

    def mitigating(self) -> None:
        """``None``: the kept-shot accounting is per prepared program, so folded, twirled or
        decoupled variants (more gates, other keep probabilities) are not offered here."""
        return None

    # -- calibration programs ------------------------------------------------------------

    def execute_native(self, circuit: Circuit, parameter_sets: np.ndarray, *, shot_count: int,
                       seed: int | None = None, calibrated: DeviceParameters | None = None
                       ) -> ExecutionResult:
        """:meth:`SimulatedQpuDriver.execute_native` with heralding or loss: ``shot_count``
        kept shots per parameter set, every attempt charged (module docstring).
        ``discarded_shot_counts`` holds the failed attempts per parameter set.

        Raises:
            FailedPreconditionError: the program's keep probability is below
                :data:`MIN_CALIBRATION_KEEP_PROBABILITY` (reason ``KEEP_PROBABILITY_TOO_LOW``).
            InvalidProgramError: as the base driver's.
        """
        p_keep = self._checked_native_keep(self.native_keep_probability(circuit))
        result = super().execute_native(circuit, parameter_sets, shot_count=shot_count,
                                        seed=seed, calibrated=calibrated)
        rows = np.asarray(parameter_sets).shape[0]
        failures = self._failed_attempts(p_keep, shot_count, rows, seed)
        extra = attempted_shot_time_s(result.device_time_s, ran_shots=shot_count * rows,
                                      attempted_shots=shot_count * rows + int(failures.sum())
                                      ) - result.device_time_s
        self.account_device_time(extra, calibration=True)
        result.device_time_s += extra
        result.discarded_shot_counts = [int(f) for f in failures]
        return result

    def execute_native_simultaneous(self, circuits: Sequence[Circuit], *, shot_count: int,
                                    seed: int | None = None,
                                    calibrated: DeviceParameters | None = None
                                    ) -> list[dict[str, int]]:
        """:meth:`SimulatedQpuDriver.execute_native_simultaneous` with heralding or loss: a
        shot is kept when every program's is, ``shot_count`` kept shots, every attempt charged.

        Raises:
            FailedPreconditionError: as :meth:`execute_native`.
            InvalidProgramError: as the base driver's.
        """
        p_keep = self._checked_native_keep(
            float(np.prod([self.native_keep_probability(c) for c in circuits])))
        before = self.calibration_device_time_s
        counts = super().execute_native_simultaneous(circuits, shot_count=shot_count, seed=seed,
                                                     calibrated=calibrated)
        spent = self.calibration_device_time_s - before
        failures = int(self._failed_attempts(p_keep, shot_count, 1, seed).sum())
        self.account_device_time(attempted_shot_time_s(
            spent, ran_shots=shot_count, attempted_shots=shot_count + failures) - spent,
            calibration=True)
        return counts

    def _checked_native_keep(self, p_keep: float) -> float:
        if p_keep < MIN_CALIBRATION_KEEP_PROBABILITY:
            raise FailedPreconditionError(
                f"a calibration program on QPU {self.capabilities.qpu_id!r} keeps a shot with "
                f"probability {p_keep:.3g}: it would need more than "
                f"{1 / MIN_CALIBRATION_KEEP_PROBABILITY:.0e} attempts per kept shot; use fewer "
                "two-qubit gates or qubits", reason="KEEP_PROBABILITY_TOO_LOW")
        return p_keep

    @staticmethod
    def _failed_attempts(p_keep: float, shot_count: int, rows: int, seed: int | None
                         ) -> np.ndarray:
        """int64 ``(rows,)``: failed attempts before ``shot_count`` kept shots, per row."""
        if p_keep >= 1.0 or shot_count < 1:
            return np.zeros(rows, dtype=np.int64)
        rng = np.random.default_rng(None if seed is None else [seed & (2**64 - 1), 0xA77E])
        return rng.negative_binomial(shot_count, p_keep, size=rows).astype(np.int64)

    # -- execution -------------------------------------------------------------------------

    def execute(self, program: PreparedProgram, parameter_sets: np.ndarray,
                options: ExecutionOptions) -> ExecutionResult:
        shots = options.shot_count
        p_keep = self.keep_probability(program)
        if shots == 0 or p_keep >= 1.0:
            result = super().execute(program, parameter_sets, options)
            if shots > 0:
                result.discarded_shot_counts = [0] * np.asarray(parameter_sets).shape[0]
            return result
        # A stream apart from the base driver's, so kept counts and outcomes are independent.
        rng = np.random.default_rng(None if options.seed is None
                                    else [options.seed & (2**64 - 1), 0x5EED])
        if program.observable is None:
            return self._thinned_counts(program, parameter_sets, options, p_keep, rng)
        return self._kept_shot_estimates(program, parameter_sets, options, p_keep, rng)

    def _thinned_counts(self, program: PreparedProgram, parameter_sets: np.ndarray,
                        options: ExecutionOptions, p_keep: float, rng: np.random.Generator
                        ) -> ExecutionResult:
        result = super().execute(program, parameter_sets, options)  # all attempted shots
        shots = options.shot_count
        kept_counts: list[dict[str, int]] = []
        discarded: list[int] = []
        for counts in result.counts or []:
            keys = list(counts)
            kept = int(rng.binomial(shots, p_keep))
            drawn = rng.multivariate_hypergeometric(
                np.array([counts[k] for k in keys], dtype=np.int64), kept)
            kept_counts.append({k: int(n) for k, n in zip(keys, drawn) if n})
            discarded.append(shots - kept)
        result.counts = kept_counts
        result.discarded_shot_counts = discarded
        if result.mitigated_probabilities is not None:  # only kept shots have outcomes
            result.mitigated_probabilities = [self.mitigated_probabilities(program, c)
                                              for c in kept_counts]
        return result

    def _kept_shot_estimates(self, program: PreparedProgram, parameter_sets: np.ndarray,
                             options: ExecutionOptions, p_keep: float, rng: np.random.Generator
                             ) -> ExecutionResult:
        shots = options.shot_count
        sets = np.asarray(parameter_sets, dtype=np.float64)
        if sets.ndim != 2:  # let the base driver raise its shape error
            return super().execute(program, sets, options)
        values, errors, grads, discarded = [], [], [], []
        truncation: list[float] = []
        device_time, extra_time, executions = 0.0, 0.0, 0
        engine, engine_reason = "", ""
        for row in range(sets.shape[0]):
            kept = int(rng.binomial(shots, p_keep))
            row_options = dataclasses.replace(
                options, shot_count=max(kept, 1), seed=int(rng.integers(2**62)))
            out = super().execute(program, sets[row:row + 1], row_options)
            engine, engine_reason = out.engine, out.engine_reason
            attempted = attempted_shot_time_s(out.device_time_s, ran_shots=row_options.shot_count,
                                              attempted_shots=shots)
            device_time += attempted
            extra_time += attempted - out.device_time_s
            executions += out.circuit_executions
            discarded.append(shots - kept)
            truncation.append(out.truncation_errors[0] if out.truncation_errors else 0.0)
            assert out.expectation_values is not None and out.standard_errors is not None
            if kept == 0:  # nothing survived post-selection: no estimate
                values.append(np.full_like(out.expectation_values[0], np.nan))
                errors.append(np.full_like(out.standard_errors[0], np.inf))
                if out.gradients is not None:
                    grads.append(np.full_like(out.gradients[0], np.nan))
                continue
            values.append(out.expectation_values[0])
            errors.append(out.standard_errors[0])
            if out.gradients is not None:
                grads.append(out.gradients[0])
        self.account_device_time(extra_time)  # the discarded attempts
        return ExecutionResult(
            expectation_values=np.array(values, dtype=np.float64),
            standard_errors=np.array(errors, dtype=np.float64),
            gradients=(np.array(grads, dtype=np.float64).reshape(
                len(values), *([len(program.observables)] if program.observables else []),
                len(program.parameters)) if options.gradient else None),
            device_time_s=device_time, circuit_executions=executions,
            discarded_shot_counts=discarded, engine=engine, engine_reason=engine_reason,
            truncation_errors=truncation)
