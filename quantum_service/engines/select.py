"""The one place that decides which engine runs an executable."""

from __future__ import annotations

from quantum_service.engines.base import Engine, EngineChoice
from quantum_service.engines.density_matrix import FusedDensityMatrixEngine
from quantum_service.engines.executable import Executable
from quantum_service.engines.statevector import FusedStateVectorEngine

__all__ = ["ENGINE_NAMES", "engine_names", "select_engine"]

#: Engine names as recorded on results (``ExperimentResult.engine``).
ENGINE_NAMES = ("statevector", "density_matrix")


def engine_names(*, noisy: bool) -> tuple[str, ...]:
    """The engines :func:`select_engine` may choose for a noisy or a noiseless device."""
    return ("density_matrix",) if noisy else ("statevector",)


def select_engine(exe: Executable) -> Engine:
    """The engine for ``exe``, planned (fused) once; callers cache it with the executable.

    Rule: a noiseless executable runs on the fused state vector; a noisy one (its steps hold
    noise channels) on the exact fused density matrix, which the device's
    ``max_simulated_qubits`` bounds (checked when the program is prepared).
    """
    if exe.noisy:
        return FusedDensityMatrixEngine(exe, EngineChoice(
            "density_matrix", f"noisy device: exact density matrix of {exe.qubit_count} "
                              f"active qubit(s)"))
    return FusedStateVectorEngine(exe, EngineChoice(
        "statevector", f"noiseless device: fused state vector of {exe.qubit_count} active "
                       f"qubit(s)"))
