"""qcore's simulator: numba state-vector and density-matrix engines.

Programs are numeric: sequences of ``(qubits, matrix)`` unitaries (matrices from
:func:`quantum_service.circuits.gates.gate_matrix`, first listed qubit = most significant bit)
and, for the density-matrix engine, :class:`Channel` noise. Qubit ``q`` is bit ``q`` of a
basis-state index. :mod:`.reference` holds plain-NumPy versions for tests.

Hot paths: :func:`fuse` plans a program once (gate fusion, diagonal batching; parametric gates
rebound per parameter set) and :class:`FusedProgram` runs it; :class:`AdjointProgram` adds
``<H>`` for many parameter sets and adjoint gradients (one forward, one backward sweep).
"""

from __future__ import annotations

from quantum_service.simulator.adjoint import (
    AdjointProgram,
    adjoint_gradient,
    check_generator,
    pauli_generator,
)
from quantum_service.simulator.channels import (
    amplitude_damping_kraus,
    average_gate_fidelity,
    depolarizing_kraus,
    depolarizing_p_from_fidelity,
    fidelity_from_depolarizing_p,
    phase_damping_kraus,
    reset_kraus,
    thermal_relaxation_kraus,
)
from quantum_service.simulator.density_matrix import (
    MAX_DENSITY_MATRIX_QUBITS,
    dm_apply_channel,
    dm_apply_unitary,
    dm_from_matrix,
    dm_from_state_vector,
    dm_probabilities,
    dm_to_matrix,
    dm_zero_state,
    simulate_density_matrix,
)
from quantum_service.simulator.dispatch import (
    PARALLEL_MIN_QUBITS,
    apply_diagonal,
    apply_matrix,
    select_kernel,
)
from quantum_service.simulator.expectation import (
    dm_expectation_value,
    dm_term_expectations,
    expectation_value,
    term_expectations,
)
from quantum_service.simulator.fusion import FusedProgram, FusionPlan, FusionStep, fuse
from quantum_service.simulator.measurement import (
    counts_from_bitstrings,
    marginal_probabilities,
    probabilities,
    sample_bitstrings,
    sample_counts,
)
from quantum_service.simulator.ops import (
    MAX_STATEVECTOR_QUBITS,
    Channel,
    DensityMatrixOp,
    UnitaryOp,
)
from quantum_service.simulator.pauli import PauliSum
from quantum_service.simulator.readout import apply_readout_error, confusion_matrix
from quantum_service.simulator.statevector import simulate_statevector, zero_state
from quantum_service.simulator.warmup import warm_up

__all__ = [
    "MAX_DENSITY_MATRIX_QUBITS",
    "MAX_STATEVECTOR_QUBITS",
    "PARALLEL_MIN_QUBITS",
    "AdjointProgram",
    "Channel",
    "DensityMatrixOp",
    "FusedProgram",
    "FusionPlan",
    "FusionStep",
    "PauliSum",
    "UnitaryOp",
    "adjoint_gradient",
    "amplitude_damping_kraus",
    "apply_diagonal",
    "apply_matrix",
    "apply_readout_error",
    "average_gate_fidelity",
    "check_generator",
    "confusion_matrix",
    "counts_from_bitstrings",
    "depolarizing_kraus",
    "depolarizing_p_from_fidelity",
    "dm_apply_channel",
    "dm_apply_unitary",
    "dm_expectation_value",
    "dm_from_matrix",
    "dm_from_state_vector",
    "dm_probabilities",
    "dm_term_expectations",
    "dm_to_matrix",
    "dm_zero_state",
    "expectation_value",
    "fidelity_from_depolarizing_p",
    "fuse",
    "marginal_probabilities",
    "pauli_generator",
    "phase_damping_kraus",
    "probabilities",
    "reset_kraus",
    "sample_bitstrings",
    "sample_counts",
    "select_kernel",
    "simulate_density_matrix",
    "simulate_statevector",
    "term_expectations",
    "thermal_relaxation_kraus",
    "warm_up",
    "zero_state",
]
