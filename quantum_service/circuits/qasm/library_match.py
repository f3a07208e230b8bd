"""Whether a ``gate`` definition named like a library gate is that gate.

A definition whose name is a gate of :mod:`~quantum_service.circuits.gates`, with the same
number of qubits and parameters, and whose body has the library matrix at two sample parameter
vectors (exactly in OpenQASM 3; up to a global phase in OpenQASM 2, which has no ``ctrl`` and so
cannot observe one) is recorded as the library gate instead of being expanded. Both OpenQASM
readers use these samples and this comparison, so they agree on every definition.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TRIAL_LIMIT", "same_unitary", "sample_arguments"]

#: Definitions expanding to more operations than this are never library gates (no library gate
#: needs more), so their bodies are not expanded to compare.
TRIAL_LIMIT = 2_000


def sample_arguments(param_count: int) -> list[list[float]]:
    """Two parameter vectors, length ``param_count``, at which the unitaries are compared:
    irrational-looking values that avoid the special angles (0, π/2, π) where distinct gates
    agree."""
    return [[0.5772 + 0.6180 * i + 1.1892 * k for i in range(param_count)] for k in range(2)]


def same_unitary(a: np.ndarray, b: np.ndarray, *, up_to_phase: bool) -> bool:
    """Whether the complex matrices ``a`` and ``b`` (same shape) agree to ``atol=1e-9``,
    optionally after rescaling ``a`` by the phase that matches ``b``'s largest entry."""
    if up_to_phase:
        i = int(np.argmax(np.abs(b)))
        if abs(a.flat[i]) < 1e-9:
            return False
        a = a * (b.flat[i] / a.flat[i])
    return bool(np.allclose(a, b, atol=1e-9))
