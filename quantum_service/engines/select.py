"""The one place that decides which engine runs an executable."""

from __future__ import annotations

from quantum_service.engines.backend import StateVectorBackend
from quantum_service.engines.base import Engine, EngineChoice
from quantum_service.engines.density_matrix import FusedDensityMatrixEngine
from quantum_service.engines.executable import Executable
from quantum_service.engines.statevector import FusedStateVectorEngine
from quantum_service.engines.trajectory import TrajectoryEngine

__all__ = ["DENSITY_MATRIX_MAX_QUBITS", "ENGINE_NAMES", "engine_names", "select_engine"]

#: Engine names as recorded on results (``ExperimentResult.engine``).
ENGINE_NAMES = ("statevector", "density_matrix", "trajectories")

#: Widest noisy executable simulated exactly as a density matrix (``16**k`` bytes: 16 MiB at
#: 10 qubits); wider noisy executables run as trajectories.
DENSITY_MATRIX_MAX_QUBITS = 10


def engine_names(*, noisy: bool) -> tuple[str, ...]:
    """The engines :func:`select_engine` may choose for a noisy or a noiseless device."""
    return ("density_matrix", "trajectories") if noisy else ("statevector", "trajectories")


def select_engine(exe: Executable) -> Engine:
    """The engine for ``exe``, planned (fused) once; callers cache it with the executable.

    Rule, in order:

    1. mid-circuit measurement, reset or feed-forward → shot-branching trajectories (each shot
       follows its own measurement record);
    2. noisy, at most :data:`DENSITY_MATRIX_MAX_QUBITS` active qubits → the exact fused density
       matrix;
    3. noisy and wider → shot-branching trajectories of the same noise model;
    4. noiseless → the fused state vector.
    """
    k = exe.qubit_count
    if exe.dynamic:
        noise = "noisy" if exe.noisy else "noiseless"
        return TrajectoryEngine(exe, StateVectorBackend(k), EngineChoice(
            "trajectories", f"dynamic circuit on a {noise} device: shot-branching "
                            f"trajectories on a state vector of {k} active qubit(s)"))
    if exe.noisy and k <= DENSITY_MATRIX_MAX_QUBITS:
        return FusedDensityMatrixEngine(exe, EngineChoice(
            "density_matrix", f"noisy device: exact density matrix of {k} active qubit(s)"))
    if exe.noisy:
        return TrajectoryEngine(exe, StateVectorBackend(k), EngineChoice(
            "trajectories", f"noisy device, {k} active qubits (> {DENSITY_MATRIX_MAX_QUBITS} "
                            f"for an exact density matrix): shot-branching trajectories on a "
                            f"state vector"))
    return FusedStateVectorEngine(exe, EngineChoice(
        "statevector", f"noiseless device: fused state vector of {k} active qubit(s)"))
