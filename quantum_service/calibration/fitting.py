"""Least-squares fits of calibration data with one-sigma uncertainties.

Every fit uses :func:`scipy.optimize.curve_fit` with the binomial standard error of each
measured probability as ``sigma`` (``sqrt(p (1 - p)/shots)``, floored at ``0.5/shots``) and
``absolute_sigma=True``, so the square roots of the covariance diagonal are one-sigma
uncertainties (Press et al., *Numerical Recipes*, 3rd ed., §15.5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

from quantum_service.errors import FailedPreconditionError

__all__ = ["FitResult", "fit", "binomial_sigma", "rabi_model", "ramsey_model",
           "exponential_model", "rb_model", "cosine_phase_model", "xeb_model"]


@dataclass(frozen=True, slots=True)
class FitResult:
    """Fitted parameters ``values`` and their one-sigma ``errors`` (same order as ``p0``)."""

    values: np.ndarray
    errors: np.ndarray


def binomial_sigma(p: np.ndarray, shots: int) -> np.ndarray:
    """Standard error of measured probabilities ``p`` from ``shots`` shots each."""
    p = np.asarray(p, dtype=np.float64)
    return np.maximum(np.sqrt(p * (1.0 - p) / shots), 0.5 / shots)


def fit(model: Callable[..., np.ndarray], x: np.ndarray, y: np.ndarray, *, shots: int,
        p0: Sequence[float], bounds: tuple[Sequence[float], Sequence[float]] | None = None,
        what: str = "calibration data", absolute: bool = True,
        sigma: np.ndarray | None = None) -> FitResult:
    """Fits ``y ≈ model(x, *params)``.

    ``absolute=False`` scales the covariance by the reduced χ² (for data whose scatter exceeds
    shot noise, e.g. RB over random sequences). ``sigma`` overrides the binomial errors (data
    that are not probabilities, e.g. XEB fidelities).

    Raises:
        FailedPreconditionError: the fit does not converge or its covariance is undefined
            (reason ``CALIBRATION_FIT_FAILED``; the data do not show the expected signal).
    """
    try:
        values, cov = curve_fit(model, np.asarray(x, float), np.asarray(y, float), p0=list(p0),
                                sigma=binomial_sigma(y, shots) if sigma is None else sigma,
                                absolute_sigma=absolute,
                                bounds=bounds if bounds is not None else (-np.inf, np.inf),
                                maxfev=20000)
    except (RuntimeError, ValueError) as exc:
        raise FailedPreconditionError(f"fit of {what} failed: {exc}",
                                      reason="CALIBRATION_FIT_FAILED") from None
    errors = np.sqrt(np.abs(np.diag(cov)))
    if not np.all(np.isfinite(errors)) or not np.all(np.isfinite(values)):
        raise FailedPreconditionError(f"fit of {what} has no finite uncertainty",
                                      reason="CALIBRATION_FIT_FAILED")
    return FitResult(values, errors)


def rabi_model(a: np.ndarray, offset: float, contrast: float, pi_amplitude: float) -> np.ndarray:
    """``P1(a) = offset - contrast/2 · cos(π a / A_π)`` (Rabi oscillation in amplitude)."""
    return offset - 0.5 * contrast * np.cos(np.pi * a / pi_amplitude)


def ramsey_model(t_ns: np.ndarray, offset: float, contrast: float, detuning_hz: float,
                 t2_ns: float, phase: float, *, artificial_hz: float) -> np.ndarray:
    """``P1(t) = offset + contrast/2 · e^{-t/T2*} cos(2π (Δ - f_art) t + ψ)``."""
    t = t_ns * 1e-9
    return offset + 0.5 * contrast * np.exp(-t_ns / t2_ns) * np.cos(
        2 * np.pi * (detuning_hz - artificial_hz) * t + phase)


def exponential_model(t: np.ndarray, amplitude: float, decay: float, offset: float
                      ) -> np.ndarray:
    """``amplitude · e^{-t/decay} + offset`` (T1 and Hahn-echo T2 decays)."""
    return amplitude * np.exp(-t / decay) + offset


def rb_model(m: np.ndarray, amplitude: float, p: float) -> np.ndarray:
    """``A p^m + 1/2``: single-qubit RB survival (Magesan et al., PRL 106, 180504 (2011))."""
    return amplitude * p**m + 0.5


def cosine_phase_model(phi: np.ndarray, offset: float, contrast: float, phase: float
                       ) -> np.ndarray:
    """``offset + contrast/2 · cos(φ - phase)`` (phase sweeps of Ramsey-type experiments)."""
    return offset + 0.5 * contrast * np.cos(phi - phase)


def xeb_model(m: np.ndarray, amplitude: float, f: float) -> np.ndarray:
    """``A f^m``: XEB fidelity after ``m`` cycles (Arute et al., Nature 574, 505 (2019))."""
    return amplitude * f**m
