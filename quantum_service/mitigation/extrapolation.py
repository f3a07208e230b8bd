"""Zero-noise fits: the expectation value at noise scale ``λ = 0`` from values at ``λ_i >= 1``.

* **Richardson** (Temme, Bravyi & Gambetta, "Error mitigation for short-depth quantum
  circuits", PRL 119, 180509 (2017), eq. (3)): the polynomial of degree ``n - 1`` through the
  ``n`` points, evaluated at 0, ``E_0 = Σ_i w_i E(λ_i)`` with the Lagrange weights
  ``w_i = Π_{j≠i} λ_j / (λ_j - λ_i)``; exact for a polynomial of degree ``< n``.
* **Linear**: the ordinary least-squares line's intercept, ``w = e_0ᵀ (XᵀX)^{-1} Xᵀ`` with
  ``X = [1, λ]``.
* **Exponential** (Endo, Benjamin & Li, "Practical quantum error mitigation for near-future
  applications", PRX 8, 031027 (2018)): ``E(λ) = a + b e^{-cλ}`` with the asymptote ``a`` given
  (qcore uses the observable's maximally mixed value, its identity coefficient, where
  depolarizing noise drives every expectation value); a least-squares line through
  ``ln|E(λ_i) - a|`` gives ``E_0 = a + sign(b) e^{intercept}``.

Standard errors are propagated from the per-scale standard errors ``σ_i`` of independent
estimates: ``σ_0² = Σ_i w_i² σ_i²`` for the linear fits; for the exponential one, to first order
(delta method), ``σ_0 = e^{intercept} sqrt(Σ_i w_i² σ_i² / (E(λ_i) - a)²)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantum_service.contract.mitigation import Extrapolation
from quantum_service.errors import InvalidProgramError

__all__ = ["extrapolate", "extrapolation_weights"]


def extrapolation_weights(scale_factors: Sequence[float], method: Extrapolation) -> np.ndarray:
    """Weights ``w`` with ``E_0 = w · E(λ)`` for the linear fits.

    Args:
        scale_factors: ``n >= 2`` distinct values ``λ_i``.
        method: :attr:`Extrapolation.LINEAR` or :attr:`Extrapolation.RICHARDSON`.
    Returns:
        float64 ``(n,)``; the weights sum to 1.
    Raises:
        InvalidProgramError: fewer than two distinct scale factors, or ``method`` is the
            exponential fit (not linear in the data) (reason ``INVALID_MITIGATION``).
    """
    lam = np.asarray(scale_factors, dtype=np.float64)
    if lam.size < 2 or np.unique(lam).size != lam.size:
        raise InvalidProgramError(
            f"zero-noise extrapolation needs at least two distinct scale factors, got "
            f"{list(lam)}", reason="INVALID_MITIGATION")
    if method is Extrapolation.RICHARDSON:
        weights = np.ones(lam.size)
        for i in range(lam.size):
            for j in range(lam.size):
                if j != i:
                    weights[i] *= lam[j] / (lam[j] - lam[i])
        return weights
    if method is Extrapolation.LINEAR:
        design = np.stack([np.ones_like(lam), lam], axis=1)
        return np.linalg.pinv(design)[0]
    raise InvalidProgramError("the exponential fit has no fixed weights",
                              reason="INVALID_MITIGATION")


def extrapolate(scale_factors: Sequence[float], values: Sequence[float],
                standard_errors: Sequence[float], *, method: Extrapolation,
                asymptote: float = 0.0) -> tuple[float, float, Extrapolation]:
    """The zero-noise value, its standard error, and the fit used.

    Args:
        scale_factors: ``n >= 2`` distinct ``λ_i``.
        values: ``E(λ_i)``, same length.
        standard_errors: ``σ_i >= 0``, same length (zeros for exact values).
        method: the fit.
        asymptote: ``a`` of the exponential fit (the large-noise limit).
    Returns:
        ``(E_0, σ_0, fit)``; ``fit`` is ``method``, except that an exponential fit whose points
        are not all strictly on one side of ``asymptote`` falls back to the linear fit.
    Raises:
        InvalidProgramError: as :func:`extrapolation_weights`, or lengths differ.
    """
    lam = np.asarray(scale_factors, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    sigma = np.asarray(standard_errors, dtype=np.float64)
    if y.shape != lam.shape or sigma.shape != lam.shape:
        raise InvalidProgramError("scale factors, values and standard errors differ in length",
                                  reason="INVALID_MITIGATION")
    if method is Extrapolation.EXPONENTIAL:
        offset = y - asymptote
        if np.all(offset > 1e-12) or np.all(offset < -1e-12):
            w = extrapolation_weights(lam, Extrapolation.LINEAR)
            intercept = float(w @ np.log(np.abs(offset)))
            amplitude = float(np.exp(intercept))
            value = asymptote + float(np.sign(offset[0])) * amplitude
            error = amplitude * float(np.sqrt(np.sum((w * sigma / offset) ** 2)))
            return value, error, Extrapolation.EXPONENTIAL
        method = Extrapolation.LINEAR
    w = extrapolation_weights(lam, method)
    return float(w @ y), float(np.sqrt(np.sum((w * sigma) ** 2))), method
