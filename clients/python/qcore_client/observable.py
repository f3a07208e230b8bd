"""Observables: real linear combinations of Pauli products, as ``qcore.v1.Observable``.

A Pauli string is sparse, as in ``protos/qcore/v1/common.proto``: ``"X0 Z3 Y4"`` is
``X`` on qubit 0, ``Z`` on qubit 3, ``Y`` on qubit 4 and the identity elsewhere; ``""`` is the
identity. Strings are canonicalised (factors sorted by qubit, ``I`` factors dropped), so
``"Z3 X0"`` and ``"X0 I1 Z3"`` name the same term.

Dense matrices use qcore's basis convention: qubit ``q`` is bit ``q`` of the basis-state index
(qubit 0 is the least-significant bit).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from numbers import Complex, Real
from typing import Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from qcore.v1 import common_pb2

__all__ = ["Observable", "SparsePauliSource", "canonical_pauli_string"]

#: One factor: a Pauli letter, then a qubit index in ASCII digits (``\d`` would also accept
#: digits such as ``"١"``, which ``int`` reads as 1). At most 9 digits, as the service accepts.
_FACTOR = re.compile(r"([IXYZ])([0-9]{1,9})", re.ASCII)
#: Largest imaginary part (relative to 1 + |real part|) a coefficient of a sparse Pauli list may
#: have and still be read as real: round-off of Qiskit's Pauli algebra, not a non-Hermitian term.
_IMAG_TOLERANCE = 1e-10
#: Above this many qubits, matrices are built sparse and diagonalised with Lanczos (eigsh).
_DENSE_LIMIT = 10


def canonical_pauli_string(pauli_string: str) -> str:
    """Canonical form of a sparse Pauli string: factors sorted by qubit, identities dropped.

    Factors are separated by ASCII whitespace; each is ``I``, ``X``, ``Y`` or ``Z`` followed by
    a qubit index of 1 to 9 ASCII digits (``"Z²"`` and ``"Z١"`` are rejected, not read as
    qubit indices).

    Raises:
        TypeError: ``pauli_string`` is not a ``str``.
        ValueError: a non-ASCII character, a malformed factor, or a qubit named twice.
    """
    if not isinstance(pauli_string, str):
        raise TypeError(f"a Pauli string must be a str, not {type(pauli_string).__name__}")
    if not pauli_string.isascii():
        raise ValueError(
            f"Pauli string {pauli_string[:40]!r} has non-ASCII characters; write factors like "
            "'X0 Z3' (a letter I, X, Y or Z, then a qubit index in digits 0-9)")
    factors: dict[int, str] = {}
    for token in pauli_string.split():
        match = _FACTOR.fullmatch(token)
        if match is None:
            raise ValueError(
                f"bad Pauli factor {token[:40]!r} in {pauli_string[:80]!r}; write factors like "
                "'X0 Z3' (a letter I, X, Y or Z, then a qubit index of at most 9 digits)")
        letter, qubit = match.group(1), int(match.group(2))
        if qubit in factors:
            raise ValueError(f"qubit {qubit} appears twice in Pauli string {pauli_string!r}")
        factors[qubit] = letter
    return " ".join(f"{factors[q]}{q}" for q in sorted(factors) if factors[q] != "I")


@runtime_checkable
class SparsePauliSource(Protocol):
    """A Pauli sum that lists itself sparsely, as Qiskit's ``SparsePauliOp`` and
    ``SparseObservable`` do (``to_sparse_list``, ``num_qubits``).

    ``to_sparse_list()`` returns ``(letters, qubits, coefficient)`` triples: ``letters[i]``
    acts on qubit ``qubits[i]``; ``SparsePauliOp.from_list([("XZI", 1.0)])`` (Qiskit's
    little-endian label: the rightmost letter is qubit 0) lists ``("ZX", [1, 2], 1+0j)``, which is
    qcore's ``"Z1 X2"``.
    """

    @property
    def num_qubits(self) -> int: ...

    def to_sparse_list(self) -> Sequence[tuple[str, Sequence[int], complex]]: ...


def _masks(pauli_string: str) -> tuple[int, int, int]:
    """(flip mask, sign mask, Y count) of a canonical Pauli string.

    ``P|b> = i^{n_Y} (-1)^{popcount(b & sign_mask)} |b XOR flip_mask>``, since ``Y = i X Z``.
    """
    flip = sign = y_count = 0
    for token in pauli_string.split():
        letter, qubit = token[0], int(token[1:])
        if letter in "XY":
            flip |= 1 << qubit
        if letter in "YZ":
            sign |= 1 << qubit
        y_count += letter == "Y"
    return flip, sign, y_count


def _parity(values: np.ndarray) -> np.ndarray:
    """Bit parity of each non-negative int64 entry, as 0/1 int64."""
    values = values.copy()
    parity = np.zeros_like(values)
    while np.any(values):
        parity ^= values & 1
        values >>= 1
    return parity


class Observable:
    """A Hermitian observable ``Σ_k c_k P_k`` with real coefficients ``c_k``.

    Args:
        terms: ``(pauli_string, coefficient)`` pairs; equal strings are *not* combined until
            :meth:`simplify` (constructors :meth:`from_terms` and :meth:`from_dict` do combine).
        qubit_count: width of the register the observable acts on; defaults to one more than
            the highest qubit named (at least 1).

    Raises:
        ValueError: a malformed Pauli string, a non-finite coefficient, or a ``qubit_count``
            smaller than a named qubit requires.
        TypeError: a coefficient is not a real number.
    """

    __slots__ = ("_terms", "_qubit_count")

    def __init__(self, terms: Iterable[tuple[str, float]] = (), *,
                 qubit_count: int | None = None) -> None:
        cleaned: list[tuple[str, float]] = []
        for pauli_string, coefficient in terms:
            if isinstance(coefficient, bool) or not isinstance(coefficient, Real):
                raise TypeError(f"coefficient of {pauli_string!r} must be a real number, "
                                f"not {type(coefficient).__name__}")
            value = float(coefficient)
            if not math.isfinite(value):
                raise ValueError(f"coefficient of {pauli_string!r} is not finite: {value}")
            cleaned.append((canonical_pauli_string(pauli_string), value))
        needed = 1 + max((int(t[1:]) for s, _ in cleaned for t in s.split()), default=0)
        if qubit_count is None:
            qubit_count = needed
        elif qubit_count < needed:
            raise ValueError(f"qubit_count={qubit_count} is too small: a term acts on qubit "
                             f"{needed - 1}")
        self._terms = tuple(cleaned)
        self._qubit_count = int(qubit_count)

    # -- constructors ----------------------------------------------------------------------

    @classmethod
    def from_terms(cls, terms: Iterable[tuple[str, float]], *,
                   qubit_count: int | None = None) -> Observable:
        """From ``(pauli_string, coefficient)`` pairs, combining equal strings."""
        return cls(terms, qubit_count=qubit_count).simplify()

    @classmethod
    def from_dict(cls, terms: Mapping[str, float], *, qubit_count: int | None = None
                  ) -> Observable:
        """From a mapping ``{"X0 Z3": 0.5, "": -1.0}``, combining equivalent strings."""
        return cls(terms.items(), qubit_count=qubit_count).simplify()

    @classmethod
    def from_sparse_list(cls, items: Iterable[tuple[str, Sequence[int], complex]], *,
                         qubit_count: int | None = None) -> Observable:
        """From ``(letters, qubits, coefficient)`` triples (Qiskit's ``to_sparse_list`` form),
        combining equal strings: ``("ZX", [1, 2], 0.5)`` is ``0.5 * "Z1 X2"``.

        Raises:
            ValueError: a letter other than ``I``, ``X``, ``Y``, ``Z`` (e.g. a projector of a
                Qiskit ``SparseObservable``), letters and qubits of different lengths, a
                coefficient with an imaginary part (the sum would not be Hermitian), or a qubit
                named twice.
            TypeError: a coefficient is not a number.
        """
        terms: list[tuple[str, float]] = []
        for letters, qubits, coefficient in items:
            qubits = [int(q) for q in qubits]
            if len(letters) != len(qubits):
                raise ValueError(f"sparse Pauli term {letters!r} names {len(qubits)} qubits")
            if bad := set(letters) - set("IXYZ"):
                raise ValueError(
                    f"sparse Pauli term {letters!r} has {''.join(sorted(bad))!r}: an observable "
                    "is a sum of Pauli products (letters I, X, Y, Z)")
            if isinstance(coefficient, bool) or not isinstance(coefficient, Complex):
                raise TypeError(f"coefficient of {letters!r} must be a number, not "
                                f"{type(coefficient).__name__}")
            value = complex(coefficient)
            if abs(value.imag) > _IMAG_TOLERANCE * (1.0 + abs(value.real)):
                raise ValueError(
                    f"coefficient {value} of {letters!r} {qubits} is not real: qcore observables "
                    "are Hermitian (real coefficients); simplify() the operator or take its "
                    "Hermitian part")
            terms.append((" ".join(f"{p}{q}" for p, q in zip(letters, qubits)), value.real))
        return cls(terms, qubit_count=qubit_count).simplify()

    @classmethod
    def from_sparse_source(cls, source: SparsePauliSource) -> Observable:
        """From a Qiskit ``SparsePauliOp`` (or anything listing itself as
        :class:`SparsePauliSource` does), on ``source.num_qubits`` qubits; see
        :meth:`from_sparse_list` for the errors."""
        return cls.from_sparse_list(source.to_sparse_list(),
                                    qubit_count=max(1, int(source.num_qubits)))

    @classmethod
    def from_proto(cls, message: common_pb2.Observable, *, qubit_count: int | None = None
                   ) -> Observable:
        return cls(((t.pauli_string, t.coefficient) for t in message.terms),
                   qubit_count=qubit_count)

    # -- inspection ------------------------------------------------------------------------

    @property
    def terms(self) -> tuple[tuple[str, float], ...]:
        """``(canonical pauli_string, coefficient)`` pairs."""
        return self._terms

    @property
    def qubit_count(self) -> int:
        return self._qubit_count

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return iter(self._terms)

    def __repr__(self) -> str:
        return f"Observable({list(self._terms)!r}, qubit_count={self._qubit_count})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Observable):
            return NotImplemented
        return (self._qubit_count == other._qubit_count
                and dict(self.simplify().terms) == dict(other.simplify().terms))

    __hash__ = None  # type: ignore[assignment]

    # -- algebra ---------------------------------------------------------------------------

    def simplify(self, *, atol: float = 0.0) -> Observable:
        """Combines equal Pauli strings and drops terms with ``|coefficient| <= atol``.

        Term order is first appearance; an all-zero observable keeps no terms.
        """
        combined: dict[str, float] = {}
        for pauli_string, coefficient in self._terms:
            combined[pauli_string] = combined.get(pauli_string, 0.0) + coefficient
        kept = [(s, c) for s, c in combined.items() if abs(c) > atol and c != 0.0]
        return Observable(kept, qubit_count=self._qubit_count)

    def __add__(self, other: Observable | float) -> Observable:
        if isinstance(other, Observable):
            width = max(self._qubit_count, other._qubit_count)
            return Observable(self._terms + other._terms, qubit_count=width).simplify()
        if isinstance(other, Real) and not isinstance(other, bool):
            return Observable(self._terms + (("", float(other)),),
                              qubit_count=self._qubit_count).simplify()
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: Observable | float) -> Observable:
        return self + (-1.0) * other

    def __rsub__(self, other: float) -> Observable:
        return (-1.0) * self + other

    def __mul__(self, factor: float) -> Observable:
        if isinstance(factor, bool) or not isinstance(factor, Real):
            return NotImplemented
        return Observable(((s, c * float(factor)) for s, c in self._terms),
                          qubit_count=self._qubit_count)

    __rmul__ = __mul__

    def __neg__(self) -> Observable:
        return self * -1.0

    def __truediv__(self, divisor: float) -> Observable:
        return self * (1.0 / float(divisor))

    # -- conversion ------------------------------------------------------------------------

    def to_proto(self) -> common_pb2.Observable:
        """The ``qcore.v1.Observable`` message (terms as given; call :meth:`simplify` first to
        send each Pauli string once)."""
        return common_pb2.Observable(
            terms=[common_pb2.PauliTerm(pauli_string=s, coefficient=c) for s, c in self._terms])

    def to_dict(self) -> dict[str, float]:
        return dict(self.simplify().terms)

    # -- numerics --------------------------------------------------------------------------

    def sparse_matrix(self, *, qubit_count: int | None = None) -> sp.csr_matrix:
        """The observable as a sparse matrix.

        Returns:
            complex128 CSR matrix, shape ``(2**n, 2**n)`` with ``n = qubit_count`` (default
            :attr:`qubit_count`); qubit 0 is the least-significant bit of the index.
        Raises:
            ValueError: ``qubit_count`` is smaller than the observable's width, or above 24.
        """
        n = self._width(qubit_count)
        dim = 1 << n
        basis = np.arange(dim, dtype=np.int64)
        grouped: dict[int, np.ndarray] = {}
        for pauli_string, coefficient in self.simplify().terms:
            flip, sign, y_count = _masks(pauli_string)
            values = coefficient * (1j ** y_count) * (1 - 2 * _parity(basis & sign))
            grouped[flip] = grouped.get(flip, 0) + values
        rows = np.concatenate([basis ^ flip for flip in grouped] or [basis[:0]])
        data = np.concatenate([np.asarray(v, dtype=np.complex128) for v in grouped.values()]
                              or [np.zeros(0, np.complex128)])
        cols = np.tile(basis, len(grouped))
        return sp.csr_matrix((data, (rows, cols)), shape=(dim, dim), dtype=np.complex128)

    def matrix(self, *, qubit_count: int | None = None) -> np.ndarray:
        """The observable as a dense matrix (for small registers: exact diagonalisation).

        Returns:
            complex128 array, shape ``(2**n, 2**n)``; qubit 0 is the least-significant bit.
        Raises:
            ValueError: as :meth:`sparse_matrix`, or ``n > 14`` (use :meth:`sparse_matrix`).
        """
        n = self._width(qubit_count)
        if n > 14:
            raise ValueError(f"a dense {n}-qubit matrix is too large; use sparse_matrix()")
        return np.asarray(self.sparse_matrix(qubit_count=n).toarray(), dtype=np.complex128)

    def diagonal(self, *, qubit_count: int | None = None) -> np.ndarray:
        """Diagonal of the matrix, float64 shape ``(2**n,)`` (the full matrix for Z-only sums)."""
        n = self._width(qubit_count)
        basis = np.arange(1 << n, dtype=np.int64)
        out = np.zeros(1 << n, dtype=np.float64)
        for pauli_string, coefficient in self._terms:
            flip, sign, _ = _masks(pauli_string)
            if flip == 0:
                out += coefficient * (1 - 2 * _parity(basis & sign))
        return out

    def expectation_value(self, state_vector: np.ndarray) -> float:
        """``<ψ|O|ψ>`` for a normalised state vector.

        Args:
            state_vector: complex amplitudes, shape ``(2**n,)`` with ``n >= qubit_count``.
        Raises:
            ValueError: the length is not a power of two or is too short for the observable.
        """
        psi = np.asarray(state_vector, dtype=np.complex128).reshape(-1)
        n = psi.size.bit_length() - 1
        if psi.size != 1 << n:
            raise ValueError(f"state_vector length {psi.size} is not a power of two")
        self._width(n)
        basis = np.arange(psi.size, dtype=np.int64)
        total = 0.0
        for pauli_string, coefficient in self._terms:
            flip, sign, y_count = _masks(pauli_string)
            phase = (1j ** y_count) * (1 - 2 * _parity(basis & sign))
            total += coefficient * float(np.real(np.vdot(psi[basis ^ flip], phase * psi)))
        return total

    def ground_state_energy(self, *, qubit_count: int | None = None) -> float:
        """Lowest eigenvalue by exact diagonalisation.

        Dense ``numpy.linalg.eigvalsh`` up to 10 qubits, sparse Lanczos
        (``scipy.sparse.linalg.eigsh``, ``which="SA"``) above.
        """
        n = self._width(qubit_count)
        if n <= _DENSE_LIMIT:
            return float(np.linalg.eigvalsh(self.matrix(qubit_count=n))[0])
        matrix = self.sparse_matrix(qubit_count=n)
        if all(s.count("Y") % 2 == 0 for s, _ in self._terms):
            matrix = matrix.real.tocsr()  # a real symmetric matrix: much faster Lanczos
        start = np.random.default_rng(0).normal(size=matrix.shape[0])  # reproducible
        values = spla.eigsh(matrix, k=1, which="SA", v0=start, return_eigenvectors=False)
        return float(values[0])

    def _width(self, qubit_count: int | None) -> int:
        n = self._qubit_count if qubit_count is None else int(qubit_count)
        if n < self._qubit_count:
            raise ValueError(f"qubit_count={n} is smaller than the observable's "
                             f"{self._qubit_count} qubits")
        if n > 24:
            raise ValueError(f"{n} qubits is too many for an explicit matrix (limit 24)")
        return n
