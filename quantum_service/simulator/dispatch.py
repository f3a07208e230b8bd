"""Chooses and calls the kernel that applies a matrix: by arity, diagonality and state size.

A matrix is first turned into a *kernel call* (the kernel and its arguments after the state),
so a program can be checked and prepared once and then run with no per-gate analysis; see
:func:`prepare_matrix`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TypeAlias

import numba
import numpy as np

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator.kernels import KERNELS, PARALLEL_LOCK
from quantum_service.simulator.ops import check_qubits, state_qubit_count

__all__ = [
    "PARALLEL_MIN_QUBITS",
    "SPARSE_MAX_DENSITY",
    "KernelCall",
    "apply_diagonal",
    "apply_matrix",
    "index_offsets",
    "insertion_masks",
    "prepare_diagonal",
    "prepare_diagonal_batch",
    "prepare_matrix",
    "run_locked",
    "select_kernel",
    "use_parallel",
]

#: States with at least this many qubits use the parallel kernels. One gate on 2**14 amplitudes
#: is some tens of µs of work, above a thread team's start-up cost; the best value depends on
#: the machine (read at every call, so it can be set at run time).
PARALLEL_MIN_QUBITS = 14

#: Matrices on 3+ qubits with at most this fraction of nonzero entries use the sparse kernel
#: (multi-controlled gates, most channel superoperators).
SPARSE_MAX_DENSITY = 0.25

#: ``(kernel, arguments after the state)``: run as ``kernel(state, *arguments)``.
KernelCall: TypeAlias = tuple[Callable[..., None], tuple[object, ...]]

_SUFFIX = {2: "1", 4: "2"}


def use_parallel(qubit_count: int, parallel: bool | None = None) -> bool:
    """``parallel`` if given, else whether ``qubit_count`` >= :data:`PARALLEL_MIN_QUBITS`."""
    return qubit_count >= PARALLEL_MIN_QUBITS if parallel is None else parallel


@functools.cache
def _off_diagonal(dim: int) -> np.ndarray:
    """Flat indices of the off-diagonal entries of a ``(dim, dim)`` matrix."""
    return np.flatnonzero(~np.eye(dim, dtype=bool))


def _is_diagonal(matrix: np.ndarray) -> bool:
    if matrix.shape[0] == 2:
        return bool(matrix[0, 1] == 0 and matrix[1, 0] == 0)
    return np.count_nonzero(matrix.ravel()[_off_diagonal(matrix.shape[0])]) == 0


def _diagonal_kind(diagonal: np.ndarray) -> str:
    if np.all(diagonal[:-1] == 1.0):
        return "identity" if diagonal[-1] == 1.0 else "phase"
    return "diag" + _SUFFIX.get(diagonal.shape[0], "k")


def select_kernel(matrix: np.ndarray) -> str:
    """The kernel kind for ``matrix`` (the first part of a :data:`~.kernels.KERNELS` key).

    Args:
        matrix: shape ``(2**k, 2**k)``, k >= 1.
    Returns:
        ``"identity"`` (nothing to do); ``"phase"`` for a diagonal matrix whose only entry other
        than 1 is the last (``z``, ``t``, ``p``, ``cz``, ``cp``, ``ccz``); ``"diag1"``, ``"diag2"``
        or ``"diagk"`` for other diagonal matrices; ``"sparsek"`` for other matrices on 3+ qubits
        with at most :data:`SPARSE_MAX_DENSITY` nonzero entries; else ``"dense1"``,
        ``"dense2"``, ``"densek"``; before those, ``"ctrlx"`` (x, cx, ccx), ``"swap"`` (swap,
        cswap) and ``"ctrlu"`` (a 2x2 matrix under controls) for matrices of that structure.
    """
    if _is_diagonal(matrix):
        return _diagonal_kind(np.diagonal(matrix))
    special = _special_kind(matrix)
    if special is not None:
        return special[0]
    return _dense_kind(matrix)


def _dense_kind(matrix: np.ndarray) -> str:
    dim = matrix.shape[0]
    if dim <= 4:
        return "dense" + _SUFFIX[dim]
    if np.count_nonzero(matrix) <= SPARSE_MAX_DENSITY * dim * dim:
        return "sparsek"
    return "densek"


_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
_SWAP = np.eye(4, dtype=np.complex128)[[0, 2, 1, 3]]


def _controlled_form(matrix: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...], np.ndarray
                                                   ] | None:
    """``(control positions, target positions, target matrix)`` or None.

    Positions index the matrix's qubits (0 = most significant bit). A position is a control
    when the matrix is the identity on, and does not couple into, every basis state with that
    bit 0; the target matrix acts on the remaining positions where all controls are 1.
    """
    dim = matrix.shape[0]
    k = dim.bit_length() - 1
    if np.count_nonzero(matrix) == dim * dim:
        return None
    rows = np.arange(dim)
    eye = np.eye(dim, dtype=bool)
    nonzero = matrix != 0
    controls = []
    for j in range(k):
        zero_rows = ((rows >> (k - 1 - j)) & 1) == 0
        block_rows = nonzero[zero_rows]
        block_cols = nonzero[:, zero_rows]
        if (np.array_equal(block_rows, eye[zero_rows]) and np.array_equal(block_cols, eye[:, zero_rows])
                and np.all(matrix[zero_rows, zero_rows] == 1.0)):
            controls.append(j)
    targets = tuple(j for j in range(k) if j not in controls)
    if not targets:
        return None
    on = np.full(dim, True)
    for j in controls:
        on &= ((rows >> (k - 1 - j)) & 1) == 1
    sub = matrix[np.ix_(on, on)]
    return tuple(controls), targets, sub


def _special_kind(matrix: np.ndarray) -> tuple[str, tuple[int, ...], tuple[int, ...],
                                               np.ndarray] | None:
    """``(kind, control positions, target positions, target matrix)`` for ``ctrlx``,
    ``swap`` and ``ctrlu`` matrices (see :data:`~.kernels.KERNELS`), else None."""
    form = _controlled_form(matrix)
    if form is None:
        return None
    controls, targets, sub = form
    if len(targets) == 1:
        if np.array_equal(sub, _X):
            return "ctrlx", controls, targets, sub
        if controls:
            return "ctrlu", controls, targets, sub
        return None
    if len(targets) == 2 and np.array_equal(sub, _SWAP):
        return "swap", controls, targets, sub
    return None


def index_offsets(qubits: tuple[int, ...]) -> np.ndarray:
    """Index bits of matrix row ``r`` (bit ``k-1-j`` of ``r`` is qubit ``qubits[j]``), uint64."""
    k = len(qubits)
    rows = np.arange(1 << k, dtype=np.uint64)
    offsets = np.zeros(1 << k, dtype=np.uint64)
    for j, q in enumerate(qubits):
        offsets |= ((rows >> np.uint64(k - 1 - j)) & np.uint64(1)) << np.uint64(q)
    return offsets


def insertion_masks(qubits: tuple[int, ...]) -> np.ndarray:
    """``2**p - 1`` for each qubit ``p``, ascending, uint64."""
    return np.array([(1 << q) - 1 for q in sorted(qubits)], dtype=np.uint64)


def run_locked(kernel: Callable[..., None], *arguments: object) -> None:
    """Runs a parallel kernel while holding :data:`~.kernels.PARALLEL_LOCK`."""
    with PARALLEL_LOCK:
        kernel(*arguments)


def _call(kind: str, parallel: bool, *arguments: object) -> KernelCall:
    if parallel:
        # Kernel calls run as call[0](state, *call[1]): the kernel goes first in the partial.
        locked = functools.partial(run_locked, KERNELS[kind, True])
        return locked, (*arguments, numba.get_num_threads())
    return KERNELS[kind, False], arguments


def prepare_diagonal(qubits: tuple[int, ...], diagonal: np.ndarray, *, dtype: np.dtype,
                     parallel: bool) -> KernelCall | None:
    """The kernel call for ``diag(diagonal)`` on checked ``qubits``; None for the identity."""
    kind = _diagonal_kind(diagonal)
    if kind == "identity":
        return None
    d = np.array(diagonal, dtype=dtype)
    if kind == "diag1":
        return _call(kind, parallel, qubits[0], d)
    if kind == "diag2":
        return _call(kind, parallel, qubits[0], qubits[1], d)
    if kind == "phase":
        ones = np.uint64(sum(1 << q for q in qubits))
        return _call(kind, parallel, insertion_masks(qubits), ones, d[-1:])
    return _call(kind, parallel, insertion_masks(qubits), index_offsets(qubits), d)


def prepare_matrix(qubits: tuple[int, ...], matrix: np.ndarray, *, dtype: np.dtype,
                   parallel: bool) -> KernelCall | None:
    """The kernel call for ``matrix`` on checked ``qubits``; None for the identity.

    Args:
        qubits: distinct, in range (unchecked), first = most significant bit of the matrix.
        matrix: ``(2**k, 2**k)`` (unchecked); copied as ``dtype``.
        dtype: the state's dtype.
        parallel: prepare the multi-threaded kernel.
    """
    if _is_diagonal(matrix):
        return prepare_diagonal(qubits, np.diagonal(matrix), dtype=dtype, parallel=parallel)
    special = _special_kind(matrix)
    if special is not None:
        kind, controls, targets, sub = special
        control_bits = np.uint64(sum(1 << qubits[j] for j in controls))
        bits = [np.uint64(1 << qubits[j]) for j in targets]
        if kind == "ctrlx":
            return _call(kind, parallel, insertion_masks(qubits), control_bits, bits[0])
        if kind == "swap":
            return _call(kind, parallel, insertion_masks(qubits), control_bits, bits[0], bits[1])
        return _call(kind, parallel, insertion_masks(qubits), control_bits, bits[0],
                     np.array(sub, dtype=dtype, order="C"))
    m = np.array(matrix, dtype=dtype, order="C")
    kind = _dense_kind(m)
    if kind == "dense1":
        return _call(kind, parallel, qubits[0], m)
    if kind == "dense2":
        return _call(kind, parallel, qubits[0], qubits[1], m)
    if kind == "sparsek":
        rows, columns = np.nonzero(m)  # row-major order
        row_starts = np.searchsorted(rows, np.arange(m.shape[0] + 1)).astype(np.int64)
        return _call(kind, parallel, insertion_masks(qubits), index_offsets(qubits), row_starts,
                     columns.astype(np.int64), m[rows, columns])
    return _call(kind, parallel, insertion_masks(qubits), index_offsets(qubits), m)


def prepare_diagonal_batch(qubit_count: int, pivot: int,
                           gates: Sequence[tuple[tuple[int, ...], np.ndarray]], *,
                           dtype: np.dtype, parallel: bool) -> KernelCall:
    """The ``diagbatch`` kernel call for the product of diagonal ``gates`` (1 or 2 qubits each,
    every 2-qubit one on ``pivot``); see :mod:`~.diagonal_batch`."""
    from quantum_service.simulator.diagonal_batch import batch_tables

    shifts, tables = batch_tables(qubit_count, pivot, gates, dtype=np.dtype(dtype))
    return _call("diagbatch", parallel, pivot, shifts, tables)


def _check_state(state: np.ndarray) -> int:
    if not isinstance(state, np.ndarray) or state.dtype.char not in "DF":
        raise InvalidProgramError("the state must be a complex128 or complex64 numpy array")
    if not (state.flags.c_contiguous and state.flags.writeable):
        raise InvalidProgramError("the state must be a C-contiguous, writeable array")
    return state_qubit_count(state)


def _check_operand(qubit_count: int, qubits: Sequence[int], dim: int) -> tuple[int, ...]:
    if dim < 2 or dim & (dim - 1) or dim != 1 << len(qubits):
        raise InvalidProgramError(
            f"a matrix of dimension {dim} cannot act on {len(qubits)} qubit(s) {tuple(qubits)}"
        )
    return check_qubits(qubit_count, qubits, what="gate")


def apply_matrix(state: np.ndarray, qubits: Sequence[int], matrix: np.ndarray, *,
                 parallel: bool | None = None) -> None:
    """Applies ``matrix`` to ``qubits`` of ``state``, in place.

    Args:
        state: amplitudes, shape ``(2**n,)``, complex128 or complex64, C-contiguous, writeable;
            qubit ``q`` is bit ``q`` of the index.
        qubits: the ``k`` distinct qubits the matrix acts on, first = most significant bit of
            the matrix index.
        matrix: shape ``(2**k, 2**k)``, any complex matrix (unitarity is not checked), cast to
            ``state.dtype``.
        parallel: force the parallel (True) or serial (False) kernel; by default parallel from
            :data:`PARALLEL_MIN_QUBITS` qubits up.
    Raises:
        InvalidProgramError: a bad state, matrix shape, or qubits (repeated, out of range).
    """
    qubit_count = _check_state(state)
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InvalidProgramError(f"a gate matrix must be square, got shape {matrix.shape}")
    checked = _check_operand(qubit_count, qubits, matrix.shape[0])
    call = prepare_matrix(checked, matrix, dtype=state.dtype,
                          parallel=use_parallel(qubit_count, parallel))
    if call is not None:
        call[0](state, *call[1])


def apply_diagonal(state: np.ndarray, qubits: Sequence[int], diagonal: np.ndarray, *,
                   parallel: bool | None = None) -> None:
    """Applies ``diag(diagonal)`` to ``qubits`` of ``state``, in place.

    Args:
        state: as in :func:`apply_matrix`.
        qubits: the ``k`` distinct qubits, first = most significant bit of the diagonal's index.
        diagonal: shape ``(2**k,)``, complex.
        parallel: as in :func:`apply_matrix`.
    Raises:
        InvalidProgramError: a bad state, diagonal length, or qubits.
    """
    qubit_count = _check_state(state)
    diagonal = np.asarray(diagonal)
    if diagonal.ndim != 1:
        raise InvalidProgramError(f"a diagonal must be 1-D, got shape {diagonal.shape}")
    checked = _check_operand(qubit_count, qubits, diagonal.shape[0])
    call = prepare_diagonal(checked, diagonal, dtype=state.dtype,
                            parallel=use_parallel(qubit_count, parallel))
    if call is not None:
        call[0](state, *call[1])
