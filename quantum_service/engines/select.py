"""The one place that decides which engine runs an executable."""

from __future__ import annotations

from quantum_service.engines.backend import PureStateBackend, StateVectorBackend
from quantum_service.engines.base import Engine, EngineChoice
from quantum_service.engines.density_matrix import FusedDensityMatrixEngine
from quantum_service.engines.executable import ConditionalStep, Executable
from quantum_service.engines.mps import (
    DEFAULT_MAX_BOND_DIMENSION,
    MatrixProductStateBackend,
    mps_suitable,
    site_order,
)
from quantum_service.engines.statevector import FusedStateVectorEngine
from quantum_service.engines.trajectory import TrajectoryEngine

__all__ = ["DENSITY_MATRIX_MAX_QUBITS", "ENGINE_NAMES", "engine_names", "select_engine"]

#: Engine names as recorded on results (``ExperimentResult.engine``).
ENGINE_NAMES = ("statevector", "density_matrix", "trajectories", "mps")

#: Widest noisy executable simulated exactly as a density matrix (``16**k`` bytes: 16 MiB at
#: 10 qubits); wider noisy executables run as trajectories.
DENSITY_MATRIX_MAX_QUBITS = 10


def engine_names(*, noisy: bool) -> tuple[str, ...]:
    """The engines :func:`select_engine` may choose for a noisy or a noiseless device."""
    exact = "density_matrix" if noisy else "statevector"
    return (exact, "trajectories", "mps")


def _two_qubit_pairs(steps: list[object]) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    for step in steps:
        if isinstance(step, ConditionalStep):
            pairs += _two_qubit_pairs(list(step.steps))
        elif isinstance(step, tuple) and len(step[0]) == 2:
            pairs.append((step[0][0], step[0][1]))
    return pairs


def _pure_backend(exe: Executable, max_bond_dimension: int
                  ) -> tuple[PureStateBackend, str, str]:
    """The pure-state form for trajectories: ``(backend, engine name, reason)``."""
    pairs = _two_qubit_pairs(exe.steps)
    use_mps, why = mps_suitable(pairs, exe.qubit_count, max_bond_dimension=max_bond_dimension)
    if use_mps:
        site_of: list[int] | None = site_order(pairs, exe.qubit_count)
        if site_of != list(range(exe.qubit_count)):
            sited_ok, sited_why = mps_suitable([(site_of[a], site_of[b]) for a, b in pairs],
                                               exe.qubit_count,
                                               max_bond_dimension=max_bond_dimension)
            if sited_ok:
                why = f"{sited_why}; chain sites ordered along the 2-qubit gates"
            else:
                site_of = None
        return MatrixProductStateBackend(exe.qubit_count, site_of=site_of,
                                         max_bond_dimension=max_bond_dimension), "mps", why
    return StateVectorBackend(exe.qubit_count), "trajectories", why


def select_engine(exe: Executable, *, max_bond_dimension: int = DEFAULT_MAX_BOND_DIMENSION
                  ) -> Engine:
    """The engine for ``exe``, planned (fused) once; callers cache it with the executable.

    ``max_bond_dimension`` caps a matrix-product state's bonds (>= 1; what is cut off is
    reported as the truncation error).

    Rule, in order:

    1. mid-circuit measurement, reset or feed-forward → shot-branching trajectories (each shot
       follows its own measurement record);
    2. noisy, at most :data:`DENSITY_MATRIX_MAX_QUBITS` active qubits → the exact fused density
       matrix;
    3. noisy and wider → shot-branching trajectories of the same noise model;
    4. noiseless → the fused state vector.

    Trajectories (1, 3) and wide noiseless executables run on a dense state vector while it is
    preferred by :func:`~.mps.mps_suitable` (below 25 qubits, within the memory budget), else
    on a matrix-product state (engine name ``mps``; its truncation error is recorded).
    """
    k = exe.qubit_count
    noise = "noisy" if exe.noisy else "noiseless"
    if exe.dynamic or (exe.noisy and k > DENSITY_MATRIX_MAX_QUBITS):
        backend, name, why = _pure_backend(exe, max_bond_dimension)
        what = "dynamic circuit" if exe.dynamic else (
            f"noisy device, {k} active qubits (> {DENSITY_MATRIX_MAX_QUBITS} for an exact "
            f"density matrix)")
        return TrajectoryEngine(exe, backend, EngineChoice(
            name, f"{what}: shot-branching trajectories; {why}"))
    if exe.noisy:
        return FusedDensityMatrixEngine(exe, EngineChoice(
            "density_matrix", f"noisy device: exact density matrix of {k} active qubit(s)"))
    backend, name, why = _pure_backend(exe, max_bond_dimension)
    if name == "mps":
        return TrajectoryEngine(exe, backend, EngineChoice(
            name, f"{noise} device: one trajectory; {why}"))
    return FusedStateVectorEngine(exe, EngineChoice(
        "statevector", f"{noise} device: fused state vector of {k} active qubit(s)"))
