"""Execution engines: how a simulated QPU turns an executable into states, counts and values.

An :class:`~.executable.Executable` is the compiled native circuit bound to a device model
(noise channels and coherent errors inserted, parametric gates kept affine in the parameters).
One engine interface (:class:`~.base.Engine`) serves every job path — counts from shots, exact
and shot-based expectation values, many parameter sets, sessions — and one function
(:func:`~.select.select_engine`) decides which engine runs an executable and why; the choice is
recorded on every result (``ExecutionResult.engine``).

Engines:

* ``statevector`` (:class:`~.statevector.FusedStateVectorEngine`): noiseless executables. The
  compiled native circuit is fused once per executable (:func:`quantum_service.simulator.fuse`:
  runs of 1-qubit gates and 2-3-qubit blocks collapse into single passes, diagonal gates batch),
  parametric gates are rebound per parameter set, and exact expectation values with adjoint
  gradients run on the same fused program.
* ``density_matrix`` (:class:`~.density_matrix.FusedDensityMatrixEngine`): noisy executables on
  at most :data:`~.select.DENSITY_MATRIX_MAX_QUBITS` active qubits (exact). The vectorised density matrix is a
  ``2n``-qubit state, so unitaries (``U`` on ``Q``, ``conj(U)`` on ``Q + n``) and channels
  (superoperators on ``Q + (Q + n)``) fuse with the same planner between and across noise
  operations.
* ``trajectories`` (:class:`~.trajectory.TrajectoryEngine`): wider noisy executables and every
  dynamic circuit (mid-circuit measurement, reset, feed-forward). Channels are unravelled into
  shot-branching quantum trajectories on a pure-state form (:mod:`~.backend`): shots share the
  fused no-jump evolution and split only where they jump or read a different outcome.
"""

from __future__ import annotations

from quantum_service.engines.backend import PureStateBackend, StateVectorBackend
from quantum_service.engines.base import Engine, EngineChoice, TermMixture
from quantum_service.engines.density_matrix import FusedDensityMatrixEngine
from quantum_service.engines.executable import Executable, ParametricStep, build_executable
from quantum_service.engines.observable import (
    ReadoutObservable,
    estimate,
    estimate_observables,
    parse_pauli_term,
    stack_observables,
)
from quantum_service.engines.sampling import sample_clbit_counts
from quantum_service.engines.select import (
    DENSITY_MATRIX_MAX_QUBITS,
    ENGINE_NAMES,
    engine_names,
    select_engine,
)
from quantum_service.engines.statevector import FusedStateVectorEngine
from quantum_service.engines.trajectory import TrajectoryEngine

__all__ = [
    "DENSITY_MATRIX_MAX_QUBITS",
    "ENGINE_NAMES",
    "Engine",
    "EngineChoice",
    "Executable",
    "FusedDensityMatrixEngine",
    "FusedStateVectorEngine",
    "ParametricStep",
    "PureStateBackend",
    "ReadoutObservable",
    "StateVectorBackend",
    "TermMixture",
    "TrajectoryEngine",
    "build_executable",
    "engine_names",
    "estimate",
    "estimate_observables",
    "parse_pauli_term",
    "stack_observables",
    "sample_clbit_counts",
    "select_engine",
]
