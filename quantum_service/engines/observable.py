"""Observables as a device reads them out, and their estimation from an engine's state."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from quantum_service.calibration.mitigation import pauli_readout_factor
from quantum_service.engines.base import Engine
from quantum_service.simulator import PauliSum
from quantum_service.simulator.pauli import measurement_setting_count

__all__ = ["ReadoutObservable", "estimate", "estimate_observables", "parse_pauli_term",
           "stack_observables"]


def parse_pauli_term(pauli_string: str) -> dict[int, str]:
    """``"X0 Z3"`` → ``{0: "X", 3: "Z"}`` (qubit → Pauli letter; ``""`` is the identity)."""
    return {int(f[1:]): f[0] for f in pauli_string.split()}


def _format(term: dict[int, str]) -> str:
    return " ".join(f"{p}{q}" for q, p in sorted(term.items()))


def stack_observables(observables: Sequence[Sequence[tuple[str, float]]]
                      ) -> tuple[list[tuple[str, float]], np.ndarray]:
    """Several observables as one set of distinct Pauli terms and a coefficient matrix.

    A Pauli product that occurs in several observables (written with its factors in any order)
    becomes one term, so it is read out once for all of them.

    Args:
        observables: ``k >= 1`` observables, each ``(pauli_string, coefficient)`` terms with
            sparse strings like ``"Z0 X3"``.
    Returns:
        ``(terms, rows)``: the distinct Pauli strings in order of first appearance, each with
        coefficient 1.0, and float64 ``rows`` of shape ``(k, len(terms))``: observable ``i`` is
        ``Σ_j rows[i, j] · terms[j]``.
    """
    index: dict[str, int] = {}
    entries: list[tuple[int, int, float]] = []
    for i, observable in enumerate(observables):
        for pauli_string, coefficient in observable:
            key = _format(parse_pauli_term(pauli_string))
            entries.append((i, index.setdefault(key, len(index)), float(coefficient)))
    rows = np.zeros((len(observables), len(index)))
    for i, j, c in entries:
        rows[i, j] += c
    return [(key, 1.0) for key in index], rows


class ReadoutObservable:
    """An observable on an executable's simulated qubits, per term and as the device reads it
    out through its readout assignment errors.

    With independent assignment errors, ``E[z'|z] = a + b z`` (``a = p(0|1) - p(1|0)``,
    ``b = 1 - p(0|1) - p(1|0)``), so a Pauli product on support ``S`` reads out as
    ``Σ_{T⊆S} Π_{S∖T} a_i Π_T b_i P_T`` (e.g. Bravyi et al., "Mitigating measurement errors in
    multiqubit experiments", PRA 103, 042605 (2021)).

    Args:
        terms: ``(pauli string, coefficient)`` pairs on logical qubits.
        mapping: logical qubit → simulated qubit.
        qubit_count: simulated qubits.
        readout_errors: float64 ``(qubit_count, 2)``, true ``(p(1|0), p(0|1))`` per qubit.
        calibrated_readout: the calibrated estimates of the same (for mitigation); default
            ``readout_errors``.
        structure: an earlier instance for the same program, whose noise-independent parts
            are reused.
        rows: float64 ``(k, len(terms))``: ``k`` observables read from the same terms, row
            ``i`` holding observable ``i``'s coefficient of each term
            (:func:`stack_observables`); default one observable, the terms' own coefficients.

    The readout-expanded forms (``readout_strings``/``readout_weights``, ``total``) are built on
    first use: a rebuild
    after drift then costs nothing until the program is evaluated.
    """

    coefficients: np.ndarray
    rows: np.ndarray
    terms: list[dict[int, str]]

    def __init__(self, terms: Sequence[tuple[str, float]], mapping: dict[int, int],
                 qubit_count: int, readout_errors: np.ndarray,
                 calibrated_readout: np.ndarray | None = None, *,
                 structure: ReadoutObservable | None = None,
                 rows: np.ndarray | None = None) -> None:
        if structure is not None:  # same program, new noise: reuse what noise does not change
            self.coefficients, self.terms = structure.coefficients, structure.terms
            self.rows = structure.rows
            self.__dict__.update({k: structure.__dict__[k] for k in ("setting_count", "ideal")
                                  if k in structure.__dict__})
        else:
            self.coefficients = np.array([c for _, c in terms], dtype=np.float64)
            self.terms = [{mapping[q]: p for q, p in parse_pauli_term(s).items()} for s, _ in terms]
            self.rows = self.coefficients[None, :] if rows is None else np.asarray(rows,
                                                                                  np.float64)
        self._qubit_count = qubit_count
        self._readout_errors = readout_errors
        self._calibrated_readout = (readout_errors if calibrated_readout is None
                                    else calibrated_readout)

    @property
    def observable_count(self) -> int:
        """Observables read from the terms (``rows.shape[0]``)."""
        return int(self.rows.shape[0])

    @functools.cached_property
    def setting_count(self) -> int:
        """Measurement settings: qubit-wise commuting groups of the terms (of every
        observable together)."""
        return measurement_setting_count(self.terms)

    @functools.cached_property
    def ideal(self) -> PauliSum:
        """The observable itself (no readout errors)."""
        return PauliSum([(_format(t), float(c)) for t, c in zip(self.terms, self.coefficients)],
                        qubit_count=self._qubit_count)

    @functools.cached_property
    def mitigation(self) -> np.ndarray:
        """Per term, ``1/Π b_i`` with the calibrated readout contrasts (see mitigation.py)."""
        cal = self._calibrated_readout
        return np.array([1.0 / pauli_readout_factor([tuple(cal[q]) for q in term])
                         for term in self.terms])

    @functools.cached_property
    def readout_strings(self) -> PauliSum:
        """Every Pauli string the terms read out as (union of their subset expansions), each
        with coefficient 1; see :attr:`readout_weights`."""
        self._expand()
        return self.__dict__["readout_strings"]

    @functools.cached_property
    def readout_weights(self) -> np.ndarray:
        """float64 ``(terms, strings)``: term ``i`` as read out is
        ``Σ_j readout_weights[i, j] · readout_strings[j]``."""
        self._expand()
        return self.__dict__["readout_weights"]

    @functools.cached_property
    def total(self) -> PauliSum:
        """The whole observable as read out."""
        self._expand()
        return self.__dict__["total"]

    @functools.cached_property
    def totals(self) -> tuple[PauliSum, ...]:
        """Each observable of :attr:`rows` as read out, in order (``(total,)`` for one)."""
        if self.rows.shape[0] == 1 and np.array_equal(self.rows[0], self.coefficients):
            return (self.total,)
        labels = [label for label, _ in self.readout_strings.terms]
        return tuple(PauliSum(list(zip(labels, row)), qubit_count=self._qubit_count)
                     for row in self.rows @ self.readout_weights)

    def _expand(self) -> None:
        readout_errors = self._readout_errors
        a = readout_errors[:, 1] - readout_errors[:, 0]
        b = 1.0 - readout_errors[:, 0] - readout_errors[:, 1]
        index: dict[str, int] = {}
        entries: list[tuple[int, int, float]] = []
        for i, term in enumerate(self.terms):
            for kept, w in _readout_subsets(sorted(term), a, b):
                key = _format({q: term[q] for q in kept})
                entries.append((i, index.setdefault(key, len(index)), w))
        weights = np.zeros((len(self.terms), len(index)))
        for i, j, w in entries:
            weights[i, j] += w
        strings = list(index)
        self.__dict__["readout_strings"] = PauliSum([(k, 1.0) for k in strings],
                                                    qubit_count=self._qubit_count)
        self.__dict__["readout_weights"] = weights
        self.__dict__["total"] = PauliSum(list(zip(strings, self.coefficients @ weights)),
                                          qubit_count=self._qubit_count)


#: Readout-expansion entries whose weight ``Π_{S∖T} a_i Π_T b_i`` falls below this magnitude are
#: dropped (each is a product of assignment-error asymmetries, ``|a_i| < 1``); the error this
#: leaves in a term's read-out value is below ``2**|S| * READOUT_WEIGHT_ATOL``.
READOUT_WEIGHT_ATOL = 1e-14


def _readout_subsets(support: list[int], a: np.ndarray, b: np.ndarray
                     ) -> list[tuple[tuple[int, ...], float]]:
    """The kept subsets ``T ⊆ S`` of a Pauli product's support with their weights
    ``Π_{S∖T} a_i Π_T b_i``, enumerated depth first and pruned where the weight so far is below
    :data:`READOUT_WEIGHT_ATOL` (further factors have magnitude <= 1). A qubit with ``a_i = 0``
    (symmetric or no readout error) is always kept, so an ideal device yields only ``T = S``:
    the cost is linear, not exponential, in the weight of the term."""
    out: list[tuple[tuple[int, ...], float]] = []

    def visit(position: int, kept: tuple[int, ...], weight: float) -> None:
        if abs(weight) < READOUT_WEIGHT_ATOL:
            return
        if position == len(support):
            out.append((kept, weight))
            return
        q = support[position]
        visit(position + 1, kept + (q,), weight * float(b[q]))
        if a[q] != 0.0:
            visit(position + 1, kept, weight * float(a[q]))

    visit(0, (), 1.0)
    return out


def estimate_observables(engine: Engine, obs: ReadoutObservable, x: np.ndarray,
                         shot_count: int, rng: np.random.Generator, *, mitigate: bool = False,
                         shift: tuple[int, float] | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Values and standard errors of every observable of ``obs`` (its ``rows``) at parameters
    ``x`` as the device would estimate them: each term is read out once and serves every
    observable that contains it.

    The engine gives every read-out Pauli string's expectation value per state: one exact
    state, or branches of trajectories weighted by their shots (:class:`~.base.TermMixture`).
    Exact (``shot_count = 0``): ``<H>`` through the readout errors, or with ``mitigate`` each
    term divided by its calibrated readout contrast; from trajectories, their mean, with the
    standard error of that mean over trajectories. With shots, every term is measured with
    ``shot_count`` shots: per branch of ``n_b`` shots ``k_b ~ Binomial(n_b, (1 + e_b)/2)``,
    ``ê = 2 Σ k_b / shots - 1``, standard error ``sqrt(Σ c² (1 - ê²)/shots)``; identity terms
    are exact.

    Returns:
        ``(values, standard_errors)``, float64, each of shape ``(obs.observable_count,)``, in
        the units of the observables' coefficients.
    """
    mixture = engine.term_mixture(x, obs.readout_strings, shot_count, rng, shift)
    values = np.clip(mixture.values @ obs.readout_weights.T, -1.0, 1.0)  # (branches, terms)
    factor = obs.mitigation if mitigate else np.ones(len(obs.terms))
    weights = mixture.weights
    total = int(weights.sum())
    rows = obs.rows  # (observables, terms)
    if shot_count == 0:
        per_branch = values @ (rows * factor).T  # (branches, observables)
        mean = (weights @ per_branch) / total
        if mixture.exact:
            return mean, np.zeros_like(mean)
        variance = (weights @ (per_branch - mean) ** 2) / (total * max(total - 1, 1))
        return mean, np.sqrt(variance)
    identity = np.array([not term for term in obs.terms])
    shots = np.array([shot_count]) if mixture.exact else weights  # trajectories: one per shot
    k = rng.binomial(shots[:, None], (1.0 + values) / 2.0).sum(axis=0)
    exact = (weights @ values) / total
    estimates = np.where(identity, exact, 2.0 * k / shot_count - 1.0)  # identity: exact
    variances = np.where(identity, 0.0, (1.0 - estimates**2) / shot_count)
    estimates *= factor
    variances *= factor**2
    return rows @ estimates, np.sqrt(rows**2 @ variances)


def estimate(engine: Engine, obs: ReadoutObservable, x: np.ndarray, shot_count: int,
             rng: np.random.Generator, *, mitigate: bool = False,
             shift: tuple[int, float] | None = None) -> tuple[float, float]:
    """``(value, standard error)`` of the first (for a single observable: the) observable of
    ``obs`` at parameters ``x``, as :func:`estimate_observables` estimates it."""
    values, errors = estimate_observables(engine, obs, x, shot_count, rng, mitigate=mitigate,
                                          shift=shift)
    return float(values[0]), float(errors[0])
