"""The one place that decides which engine runs an executable."""

from __future__ import annotations

from quantum_service.engines.base import Engine, EngineChoice
from quantum_service.engines.density_matrix import FusedDensityMatrixEngine
from quantum_service.engines.executable import Executable
from quantum_service.engines.statevector import FusedStateVectorEngine
from quantum_service.errors import InvalidProgramError

__all__ = ["DENSITY_MATRIX_MAX_QUBITS", "ENGINE_NAMES", "check_engine_width", "engine_names",
           "select_engine"]

#: Most active qubits a noisy executable may have: the exact density matrix of ``k`` qubits
#: holds ``4**k`` complex128 entries (``k = 12``: 268 MB). Devices that declare a larger
#: ``max_simulated_qubits`` (``sc-wukong-72``, ``sc-eagle-127``) compile and route wide
#: circuits, but their wide noisy programs need an engine for wide noisy circuits.
DENSITY_MATRIX_MAX_QUBITS = 12

#: Engine names as recorded on results (``ExperimentResult.engine``).
ENGINE_NAMES = ("statevector", "density_matrix")


def engine_names(*, noisy: bool) -> tuple[str, ...]:
    """The engines :func:`select_engine` may choose for a noisy or a noiseless device."""
    return ("density_matrix",) if noisy else ("statevector",)


def check_engine_width(exe: Executable) -> None:
    """Raises InvalidProgramError (reason ``TOO_MANY_QUBITS``) when no engine can run ``exe``:
    a noisy executable on more than :data:`DENSITY_MATRIX_MAX_QUBITS` active qubits."""
    if exe.noisy and exe.qubit_count > DENSITY_MATRIX_MAX_QUBITS:
        raise InvalidProgramError(
            f"the noisy program is active on {exe.qubit_count} qubits; the exact density "
            f"matrix simulates at most {DENSITY_MATRIX_MAX_QUBITS} (use fewer qubits or a "
            f"noiseless QPU)", reason="TOO_MANY_QUBITS")


def select_engine(exe: Executable) -> Engine:
    """The engine for ``exe``, planned (fused) once; callers cache it with the executable.

    Rule: a noiseless executable runs on the fused state vector; a noisy one (its steps hold
    noise channels) on the exact fused density matrix, which the device's
    ``max_simulated_qubits`` and :data:`DENSITY_MATRIX_MAX_QUBITS` bound (checked when the
    program is prepared).

    Raises:
        InvalidProgramError: as :func:`check_engine_width`.
    """
    check_engine_width(exe)
    if exe.noisy:
        return FusedDensityMatrixEngine(exe, EngineChoice(
            "density_matrix", f"noisy device: exact density matrix of {exe.qubit_count} "
                              f"active qubit(s)"))
    return FusedStateVectorEngine(exe, EngineChoice(
        "statevector", f"noiseless device: fused state vector of {exe.qubit_count} active "
                       f"qubit(s)"))
