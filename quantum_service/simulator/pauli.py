"""Observables as sums of Pauli products, in the symplectic (x, z) bit-mask form.

A Pauli product on ``n`` qubits is written ``P = i**popcount(x & z) * X**x * Z**z``, where bit
``q`` of ``x`` (``z``) says whether an X (Z) acts on qubit ``q`` (``Y = i X Z``; Aaronson &
Gottesman, "Improved simulation of stabilizer circuits", PRA 70, 052328 (2004), §3). On a basis
state, ``P |j> = i**popcount(x & z) * (-1)**popcount(j & z) |j ^ x>``, so expectation values need
no matrices: see :mod:`quantum_service.simulator.expectation`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from quantum_service.errors import InvalidProgramError, ResourceExhaustedError

__all__ = [
    "MAX_DENSE_MATRIX_QUBITS",
    "MAX_PAULI_QUBITS",
    "PauliGroups",
    "PauliSum",
    "measurement_setting_count",
]

#: Masks are int64: qubit indices go up to 62.
MAX_PAULI_QUBITS = 63

#: :meth:`PauliSum.matrix` refuses larger registers (a 2**14 square complex matrix is 4 GiB).
MAX_DENSE_MATRIX_QUBITS = 13

_FACTOR = re.compile(r"([A-Za-z])(\d+)")
_X_BIT = {"I": 0, "X": 1, "Y": 1, "Z": 0}
_Z_BIT = {"I": 0, "X": 0, "Y": 1, "Z": 1}


def _parse(pauli_string: str, qubit_count: int, index: int) -> dict[int, str]:
    """``"X0 Z3"`` → ``{0: "X", 3: "Z"}``; identity factors are dropped."""
    if not isinstance(pauli_string, str):
        raise InvalidProgramError(
            f"observable term {index}: the Pauli string must be a str like 'X0 Z3', "
            f"got {type(pauli_string).__name__}"
        )
    factors: dict[int, str] = {}
    for token in pauli_string.split():
        match = _FACTOR.fullmatch(token)
        if match is None:
            raise InvalidProgramError(
                f"observable term {index}: cannot read {token!r} in {pauli_string!r}; write "
                "factors as a Pauli letter and a qubit index separated by spaces, e.g. 'X0 Z3 Y4'"
            )
        letter, qubit = match.group(1), int(match.group(2))
        if letter not in _X_BIT:
            raise InvalidProgramError(
                f"observable term {index}: unknown Pauli {letter!r} in {pauli_string!r} "
                "(use I, X, Y or Z, upper case)"
            )
        if qubit >= qubit_count:
            raise InvalidProgramError(
                f"observable term {index}: qubit {qubit} in {pauli_string!r} is out of range "
                f"for {qubit_count} qubit(s) (valid: 0..{qubit_count - 1})"
            )
        if qubit in factors:
            raise InvalidProgramError(
                f"observable term {index}: qubit {qubit} appears twice in {pauli_string!r}"
            )
        factors[qubit] = letter
    return {q: p for q, p in factors.items() if p != "I"}


def _format(factors: Mapping[int, str]) -> str:
    return " ".join(f"{factors[q]}{q}" for q in sorted(factors))


def _coefficient(value: object, index: int) -> float:
    try:
        number = complex(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidProgramError(
            f"observable term {index}: the coefficient must be a real number, got {value!r}"
        ) from None
    if number.imag != 0.0:
        raise InvalidProgramError(
            f"observable term {index}: coefficient {value!r} is not real; an observable is "
            "Hermitian, so its Pauli coefficients are real"
        )
    if not math.isfinite(number.real):
        raise InvalidProgramError(f"observable term {index}: coefficient {value!r} is not finite")
    return number.real


class PauliGroups(NamedTuple):
    """Terms sorted by x mask: each group costs one pass over the state.

    Attributes:
        group_x: int64 ``(G,)``, the distinct x masks.
        group_offsets: int64 ``(G + 1,)``: group ``g`` holds sorted terms
            ``group_offsets[g]:group_offsets[g + 1]``.
        z_masks: int64 ``(T,)``, in sorted order.
        phases: complex128 ``(T,)``, ``i**popcount(x & z)``, in sorted order.
        fold_signs: float64 ``(T,)``, in sorted order: ``(-1)**popcount(x & z)`` where
            ``x != 0``, else 0 (see :mod:`quantum_service.simulator.pauli_kernels`).
        order: int64 ``(T,)``: sorted term ``s`` is input term ``order[s]``.
    """

    group_x: np.ndarray
    group_offsets: np.ndarray
    z_masks: np.ndarray
    phases: np.ndarray
    fold_signs: np.ndarray
    order: np.ndarray


def _group_by_x_mask(x_masks: np.ndarray, z_masks: np.ndarray, phases: np.ndarray,
                     y_counts: list[int]) -> PauliGroups:
    order = np.argsort(x_masks, kind="stable")
    group_x, starts = np.unique(x_masks[order], return_index=True)
    signs = 1.0 - 2.0 * (np.array(y_counts, dtype=np.int64) % 2)
    fold_signs = np.where(x_masks != 0, signs, 0.0)
    return PauliGroups(
        group_x=group_x.astype(np.int64),
        group_offsets=np.append(starts, len(order)).astype(np.int64),
        z_masks=z_masks[order],
        phases=phases[order],
        fold_signs=fold_signs[order].astype(np.float64),
        order=order.astype(np.int64),
    )


class PauliSum:
    """A Hermitian observable ``sum_t c_t P_t`` on ``qubit_count`` qubits.

    Terms keep their input order (per-term results follow it); they are not merged.

    Attributes:
        qubit_count: register width ``n``.
        terms: ``(pauli_string, coefficient)`` pairs, strings normalised to ascending qubits
            without identity factors (``""`` is the identity).
        coefficients: float64, shape ``(T,)``.
        x_masks, z_masks: int64, shape ``(T,)``: bit ``q`` set where the term has X or Y
            (``x``), Z or Y (``z``) on qubit ``q``.
        phases: complex128, shape ``(T,)``: ``i**popcount(x & z)`` (one ``i`` per Y).
    """

    __slots__ = (
        "_groups",
        "coefficients",
        "phases",
        "qubit_count",
        "terms",
        "x_masks",
        "z_masks",
    )

    def __init__(self, terms: Iterable[tuple[str, float]], *, qubit_count: int) -> None:
        """Parses and checks the terms.

        Args:
            terms: ``(pauli_string, coefficient)`` pairs; ``pauli_string`` is sparse, e.g.
                ``"X0 Z3 Y4"`` (``""`` is the identity); coefficients are real.
            qubit_count: ``n``, 1 <= n <= 63.
        Raises:
            InvalidProgramError: a malformed term (bad letter, qubit out of range or repeated,
                non-real or non-finite coefficient), with the term's index.
        """
        if isinstance(qubit_count, bool) or int(qubit_count) != qubit_count or not (
            1 <= qubit_count <= MAX_PAULI_QUBITS
        ):
            raise InvalidProgramError(
                f"qubit_count must be an integer in [1, {MAX_PAULI_QUBITS}], got {qubit_count!r}"
            )
        self.qubit_count = int(qubit_count)
        normalised: list[tuple[str, float]] = []
        x_masks, z_masks = [], []
        for index, term in enumerate(terms):
            try:
                pauli_string, value = term
            except (TypeError, ValueError):
                raise InvalidProgramError(
                    f"observable term {index}: expected (pauli_string, coefficient), got {term!r}"
                ) from None
            factors = _parse(pauli_string, self.qubit_count, index)
            normalised.append((_format(factors), _coefficient(value, index)))
            x_masks.append(sum(_X_BIT[p] << q for q, p in factors.items()))
            z_masks.append(sum(_Z_BIT[p] << q for q, p in factors.items()))
        self.terms: tuple[tuple[str, float], ...] = tuple(normalised)
        self.coefficients = np.array([c for _, c in normalised], dtype=np.float64)
        self.x_masks = np.array(x_masks, dtype=np.int64)
        self.z_masks = np.array(z_masks, dtype=np.int64)
        y_counts = [(x & z).bit_count() for x, z in zip(x_masks, z_masks, strict=True)]
        self.phases = np.array([1j**y for y in y_counts], dtype=np.complex128)
        for array in (self.coefficients, self.x_masks, self.z_masks, self.phases):
            array.setflags(write=False)
        self._groups = _group_by_x_mask(self.x_masks, self.z_masks, self.phases, y_counts)

    @property
    def term_count(self) -> int:
        return len(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def group_count(self) -> int:
        """Number of distinct x masks: the passes over the state an expectation value costs."""
        return int(self._groups.group_x.size)

    @property
    def is_diagonal(self) -> bool:
        """True when every term is a product of Z and I."""
        return not np.any(self.x_masks)

    def grouped(self) -> PauliGroups:
        """The terms grouped by x mask, for the expectation kernels (computed once)."""
        return self._groups

    def matrix(self) -> np.ndarray:
        """The dense matrix ``sum_t c_t P_t``, complex128, shape ``(2**n, 2**n)``.

        Raises:
            ResourceExhaustedError: ``n`` > :data:`MAX_DENSE_MATRIX_QUBITS`.
        """
        n = self.qubit_count
        if n > MAX_DENSE_MATRIX_QUBITS:
            raise ResourceExhaustedError(
                f"a dense {n}-qubit observable matrix is too large "
                f"(limit {MAX_DENSE_MATRIX_QUBITS} qubits)"
            )
        dim = 1 << n
        columns = np.arange(dim, dtype=np.int64)
        parity = np.zeros(dim, dtype=np.int64)
        out = np.zeros((dim, dim), dtype=np.complex128)
        terms = zip(self.coefficients, self.x_masks, self.z_masks, self.phases, strict=True)
        for c, x, z, phase in terms:
            parity[:] = 0
            masked = columns & z
            for q in range(n):
                parity ^= (masked >> q) & 1
            # P |j> = phase * (-1)**parity(j & z) |j ^ x>
            out[columns ^ x, columns] += c * phase * (1 - 2 * parity)
        return out

    def remap(self, mapping: Mapping[int, int] | Sequence[int], *,
              qubit_count: int | None = None) -> PauliSum:
        """The same observable with qubit ``q`` relabelled ``mapping[q]``.

        Args:
            mapping: old qubit → new qubit, for every qubit a term acts on; injective.
            qubit_count: width of the result (default: this one's).
        Raises:
            InvalidProgramError: a used qubit has no image, two qubits share one, or an image
                is out of range.
        """
        lookup = dict(mapping) if isinstance(mapping, Mapping) else dict(enumerate(mapping))
        used = {int(t[1:]) for s, _ in self.terms for t in s.split()}
        missing = sorted(used - set(lookup))
        if missing:
            raise InvalidProgramError(f"remap: no new index for qubit(s) {missing}")
        images = [lookup[q] for q in used]
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0
               for v in images):
            raise InvalidProgramError(
                f"remap: new qubit indices must be non-negative integers, got {sorted(images)}"
            )
        if len(set(images)) != len(images):
            raise InvalidProgramError("remap: two qubits map to the same new qubit")
        new_terms = []
        for pauli_string, coefficient in self.terms:
            factors = (f"{t[0]}{lookup[int(t[1:])]}" for t in pauli_string.split())
            new_terms.append((" ".join(factors), coefficient))
        return PauliSum(new_terms, qubit_count=self.qubit_count if qubit_count is None
                        else qubit_count)

    def __repr__(self) -> str:
        shown = ", ".join(f"({s!r}, {c:g})" for s, c in self.terms[:4])
        more = f", ... {len(self.terms) - 4} more" if len(self.terms) > 4 else ""
        return f"PauliSum([{shown}{more}], qubit_count={self.qubit_count})"


def measurement_setting_count(terms: Sequence[Mapping[int, str]]) -> int:
    """Measurement settings a device needs for these Pauli terms: a greedy cover by qubit-wise
    commuting groups, largest terms first (Kandala et al., Nature 549, 242 (2017), "TPB"
    grouping); identity terms need none; at least 1.

    Args:
        terms: each term as ``{qubit: "X" | "Y" | "Z"}``.
    """
    groups: list[dict[int, str]] = []
    for term in sorted(terms, key=len, reverse=True):
        if not term:
            continue
        for group in groups:
            if all(group.get(q, p) == p for q, p in term.items()):
                group.update(term)
                break
        else:
            groups.append(dict(term))
    return max(1, len(groups))
