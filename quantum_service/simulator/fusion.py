"""Gate fusion: merges runs of constant gates into fewer, cheaper passes over the state.

A :class:`FusionPlan` is built once per program (e.g. per session) from the program's
*structure*: the qubits of every operation, the matrices of the constant ones, and which
positions are *parametric* (rebound for every parameter set). Running the plan then costs one
kernel call per fused step, with no analysis per gate.

The pass is greedy over *open blocks*: disjoint qubit sets, each holding the product of the
constant gates seen on them since they were opened. A new constant gate either joins the open
blocks it touches (when their union has at most ``max_fused_qubits`` qubits and the merged
matrix is estimated to be no dearer than the separate passes) or closes them and opens its own.
A parametric gate joins the blocks it touches only within ``max_parametric_fused_qubits``
(default 1: runs of 1-qubit gates on one qubit, e.g. ``ry`` then ``rz``); such a *parametric
block* keeps its members and multiplies their bound matrices per parameter set (2x2 products,
no pass over the state). Otherwise it closes the blocks it touches and stays alone. Blocks on disjoint qubits
commute, so emitting a block when it is closed keeps the program's order on every qubit (the
same scheme as qsim's gate fusion: Quantum AI team, qsim, ``docs/fusion`` and
``lib/fuser_basic.h``). The estimate of a pass's cost is :data:`PASS_COST`, in nanoseconds per
amplitude of the kernel the merged matrix would use (see :func:`~.dispatch.select_kernel`), as
measured by ``python -m benchmarks.run`` on the 2-core reference machine; only their ratios
matter.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator.diagonal_batch import MIN_BATCH_QUBITS, common_pivots
from quantum_service.simulator.dispatch import (
    KernelCall,
    prepare_diagonal_batch,
    prepare_matrix,
    select_kernel,
    use_parallel,
)
from quantum_service.simulator.ops import (
    UnitaryOp,
    check_qubit_count,
    check_qubits,
    check_unitary_op,
)

__all__ = [
    "DEFAULT_MAX_FUSED_QUBITS",
    "DEFAULT_MAX_PARAMETRIC_FUSED_QUBITS",
    "PASS_COST",
    "SNAP_ATOL",
    "FusedProgram",
    "FusionPlan",
    "FusionStep",
    "Member",
    "embed_matrix",
    "fuse",
    "prepare_step",
]

#: Fused blocks act on at most this many qubits by default. A dense 3-qubit pass costs about
#: six 1-qubit passes on a compute-bound CPU, so larger blocks rarely pay there; the cost
#: model decides within this limit.
DEFAULT_MAX_FUSED_QUBITS = 3

#: Blocks holding parametric operations act on at most this many qubits by default: 1 merges
#: runs of 1-qubit gates (``ry`` then ``rz``) per parameter set with 2x2 products.
DEFAULT_MAX_PARAMETRIC_FUSED_QUBITS = 1

#: Estimated cost of one pass, ns per amplitude, per kernel kind (2 threads, 2**20 complex128
#: amplitudes; ``benchmarks/REPORT.md``). ``densek`` is per ``2**k``.
PASS_COST: dict[str, float] = {
    "identity": 0.0,
    "phase": 0.5,
    "ctrlx": 0.55,
    "swap": 0.55,
    "diag1": 0.95,
    "ctrlu": 1.0,
    "diag2": 1.2,
    "diagk": 1.6,
    "dense1": 1.4,
    "dense2": 2.6,
    "densek": 1.05,
    "diagbatch": 1.3,
    "sparsek": 3.0,
}


#: Entries of a fused block's matrix below this magnitude are set to zero (an error of at most
#: ``2**k * SNAP_ATOL`` in operator norm per block, below complex128 round-off of the gates).
SNAP_ATOL = 1e-14


def _pass_cost(matrix: np.ndarray) -> float:
    return _pass_cost_of(matrix.shape[0], matrix.astype(np.complex128, copy=False).tobytes())


@functools.lru_cache(maxsize=4096)
def _pass_cost_of(dim: int, data: bytes) -> float:
    """:func:`_pass_cost` by value (planning meets the same gate matrices many times)."""
    kind = select_kernel(np.frombuffer(data, dtype=np.complex128).reshape(dim, dim))
    return PASS_COST[kind] * (dim if kind == "densek" else 1)


@functools.cache
def _embedding(qubits: tuple[int, ...], block: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Index maps embedding a matrix on ``qubits`` into one on ``block``: ``(sub, same)`` with
    ``embedded[i, j] = matrix[sub[i], sub[j]]`` where ``same[i, j]`` (the other qubits' bits
    of ``i`` and ``j`` agree), else 0."""
    k, m = len(block), len(qubits)
    index = np.arange(1 << k)
    sub = np.zeros(1 << k, dtype=np.int64)
    rest_mask = (1 << k) - 1
    for t, q in enumerate(qubits):
        shift = k - 1 - block.index(q)
        sub |= ((index >> shift) & 1) << (m - 1 - t)
        rest_mask &= ~(1 << shift)
    rest = index & rest_mask
    return sub, rest[:, None] == rest[None, :]


def embed_matrix(matrix: np.ndarray, qubits: tuple[int, ...], block: tuple[int, ...]) -> np.ndarray:
    """``matrix`` on ``qubits`` as a matrix on ``block`` (a superset), first = most significant."""
    if qubits == block:
        return matrix
    sub, same = _embedding(tuple(qubits), tuple(block))
    return np.where(same, matrix[sub[:, None], sub[None, :]], 0.0).astype(np.complex128)


#: A member of a parametric step: ``(position, qubits, matrix)``; ``matrix`` is None for a
#: parametric operation (bound per parameter set), else the constant matrix.
Member = tuple[int, tuple[int, ...], np.ndarray | None]


@dataclass(frozen=True, slots=True)
class FusionStep:
    """One pass of a fused program.

    Attributes:
        qubits: the qubits it acts on, first = most significant bit of its matrix.
        matrix: complex128 ``(2**k, 2**k)`` for a constant step; None for a parametric step,
            whose matrix is the product of its members' bound matrices (built per parameter
            set: a few small matrix products, no pass over the state).
        positions: the parametric operations in it (original positions, program order).
        members: for a parametric step, its operations in program order; else empty.
        sources: positions of the original operations it stands for, in program order.
        diagonals: for a *diagonal batch* (see :mod:`~.diagonal_batch`): its gates as
            ``(qubits, diagonal)``, every 2-qubit one on ``pivot``; else empty.
        pivot: the batch's pivot qubit, else -1.
    """

    qubits: tuple[int, ...]
    matrix: np.ndarray | None
    positions: tuple[int, ...]
    members: tuple[Member, ...]
    sources: tuple[int, ...]
    diagonals: tuple[tuple[tuple[int, ...], np.ndarray], ...] = ()
    pivot: int = -1

    @property
    def is_parametric(self) -> bool:
        return bool(self.positions)

    @property
    def is_batch(self) -> bool:
        return bool(self.diagonals)

    def bind(self, lookup: Mapping[int, np.ndarray]) -> np.ndarray:
        """The step's matrix with parametric members taken from ``lookup`` (position → matrix)."""
        if self.matrix is not None:
            return self.matrix
        product: np.ndarray | None = None
        for position, qubits, constant in self.members:
            m = np.asarray(lookup[position] if constant is None else constant)
            if qubits != self.qubits:
                m = embed_matrix(m, qubits, self.qubits)
            product = m if product is None else m @ product
        assert product is not None
        return product


def _merge(blocks: list[_Block], qubits: tuple[int, ...], matrix: np.ndarray,
           source: int) -> _Block:
    """A constant block: the product ``matrix @ (blocks as a tensor product)`` on the union."""
    union = tuple(sorted(set(qubits).union(*(b.qubits for b in blocks))))
    product = np.eye(1 << len(union), dtype=np.complex128)
    for b in blocks:
        assert b.matrix is not None
        product = embed_matrix(b.matrix, b.qubits, union) @ product
    product = embed_matrix(matrix, qubits, union) @ product
    # Round-off of products that are exactly sparse (e.g. a compiled controlled phase: its
    # native gates multiply to a diagonal up to ~1e-16) would hide the structure the cheaper
    # kernels need (diagonal, controlled, permutation); entries below SNAP_ATOL are zeroed.
    product[np.abs(product) < SNAP_ATOL] = 0.0
    merged = _Block(union, product, source)
    merged.pending = blocks  # sources are joined once the block is kept (:meth:`_Block.settle`)
    return merged


def _merge_parametric(blocks: list[_Block], qubits: tuple[int, ...], matrix: np.ndarray | None,
                      source: int) -> _Block:
    """A parametric block: ``blocks`` (either kind, disjoint) then the new operation."""
    union = tuple(sorted(set(qubits).union(*(b.qubits for b in blocks))))
    merged = _Block(union, None, source)
    merged.members = []
    merged.sources = []
    for b in sorted(blocks, key=lambda b: b.sources[0]):
        if b.matrix is not None:
            merged.members.append((b.sources[0], b.qubits, b.matrix))
        else:
            merged.members.extend(b.members)
        merged.sources.extend(b.sources)
    merged.members.append((source, qubits, matrix))
    merged.sources.append(source)
    return merged


class _Block:
    __slots__ = ("matrix", "members", "pending", "qubits", "sources")

    def __init__(self, qubits: tuple[int, ...], matrix: np.ndarray | None, source: int) -> None:
        self.qubits = qubits
        self.matrix = matrix  # None: a parametric block
        self.sources = [source]
        self.members: list[Member] = [(source, qubits, matrix)] if matrix is None else []
        self.pending: list[_Block] = []  # constant blocks merged into this one, not yet joined

    def settle(self) -> None:
        """Joins the sources of the blocks :func:`_merge` absorbed, once this block is kept:
        theirs come first (each list ascending). The list of a single absorbed block is
        extended in place — it is discarded — so a long chain fused into one block (a 1-qubit
        RB sequence) costs linear, not quadratic, time."""
        if not self.pending:
            return
        own = self.sources
        if len(self.pending) == 1:
            self.sources = self.pending[0].sources
        else:
            self.sources = sorted(s for b in self.pending for s in b.sources)
        self.sources.extend(own)
        self.pending = []

    def step(self) -> FusionStep:
        if self.matrix is not None:
            return FusionStep(self.qubits, self.matrix, (), (), tuple(self.sources))
        positions = tuple(p for p, _, m in self.members if m is None)
        return FusionStep(self.qubits, None, positions, tuple(self.members),
                          tuple(self.sources))


@dataclass(frozen=True, slots=True)
class FusionPlan:
    """A program after fusion: its steps and where its parametric operations went.

    Attributes:
        qubit_count: register width ``n``.
        steps: the passes, in order.
        parametric_positions: positions (in the original program) of the parametric
            operations, ascending; :meth:`ops` and :meth:`prepare` take their matrices in
            this order.
        source_count: operations in the original program.
    """

    qubit_count: int
    steps: tuple[FusionStep, ...]
    parametric_positions: tuple[int, ...]
    source_count: int

    def ops(self, matrices: Sequence[np.ndarray] | Mapping[int, np.ndarray] = ()
            ) -> list[UnitaryOp]:
        """The fused program as ``(qubits, matrix)`` pairs, with parametric matrices bound.

        Args:
            matrices: one matrix per parametric operation, in :attr:`parametric_positions`
                order (a sequence) or by original position (a mapping).
        Raises:
            InvalidProgramError: a parametric matrix is missing.
        """
        lookup = self.lookup(matrices)
        out: list[UnitaryOp] = []
        for s in self.steps:
            if s.is_batch:
                out.extend((q, np.diag(d)) for q, d in s.diagonals)
            else:
                out.append((s.qubits, s.bind(lookup)))
        return out

    def lookup(self, matrices: Sequence[np.ndarray] | Mapping[int, np.ndarray]
               ) -> Mapping[int, np.ndarray]:
        """``matrices`` as a mapping position → matrix, checked for completeness.

        Raises:
            InvalidProgramError: a parametric matrix is missing or the count is wrong.
        """
        if isinstance(matrices, Mapping):
            lookup = matrices
        else:
            if len(matrices) != len(self.parametric_positions):
                raise InvalidProgramError(
                    f"expected {len(self.parametric_positions)} parametric matrices, "
                    f"got {len(matrices)}")
            lookup = dict(zip(self.parametric_positions, matrices, strict=True))
        missing = [p for p in self.parametric_positions if p not in lookup]
        if missing:
            raise InvalidProgramError(f"no matrix for parametric operation(s) {missing}")
        return lookup

    def prepare(self, *, dtype: npt.DTypeLike = np.complex128,
                parallel: bool | None = None) -> FusedProgram:
        """Kernel calls for the constant steps, made once; see :class:`FusedProgram`."""
        return FusedProgram(self, dtype=np.dtype(dtype), parallel=parallel)


class FusedProgram:
    """A :class:`FusionPlan` with its constant kernel calls prepared for one dtype.

    ``run(state, matrices)`` binds the parametric steps (a few small matrix products and one
    kernel selection each) and applies every step in place: the per-evaluation cost of a
    session.

    Attributes:
        plan: the plan.
        dtype: the state dtype, complex128 or complex64.
        parallel: whether the multi-threaded kernels run.
    """

    __slots__ = ("_calls", "dtype", "parallel", "plan")

    def __init__(self, plan: FusionPlan, *, dtype: np.dtype, parallel: bool | None) -> None:
        if dtype not in (np.complex128, np.complex64):
            raise InvalidProgramError(f"dtype must be complex128 or complex64, got {dtype}")
        self.plan = plan
        self.dtype = dtype
        self.parallel = use_parallel(plan.qubit_count, parallel)
        self._calls: list[KernelCall | None] = [
            prepare_step(plan.qubit_count, step, dtype=dtype, parallel=self.parallel)
            for step in plan.steps
        ]

    def step_call(self, index: int, lookup: Mapping[int, np.ndarray]) -> KernelCall | None:
        """The kernel call of step ``index`` (bound from ``lookup`` if parametric)."""
        step = self.plan.steps[index]
        if not step.is_parametric:
            return self._calls[index]
        return prepare_matrix(step.qubits, step.bind(lookup), dtype=self.dtype,
                              parallel=self.parallel)

    def run(self, state: np.ndarray,
            matrices: Sequence[np.ndarray] | Mapping[int, np.ndarray] = ()) -> np.ndarray:
        """Applies the program to ``state`` in place and returns it.

        Args:
            state: shape ``(2**n,)``, :attr:`dtype`, C-contiguous (unchecked: hot path).
            matrices: as in :meth:`FusionPlan.ops`.
        Raises:
            InvalidProgramError: a parametric matrix is missing.
        """
        lookup = self.plan.lookup(matrices) if self.plan.parametric_positions else {}
        for index in range(len(self._calls)):
            call = self.step_call(index, lookup)
            if call is not None:
                call[0](state, *call[1])
        return state


def prepare_step(qubit_count: int, step: FusionStep, *, dtype: np.dtype, parallel: bool,
                 inverse: bool = False) -> KernelCall | None:
    """The kernel call of a constant step (or of its inverse); None for a parametric step or
    the identity."""
    if step.is_batch:
        diagonals = [(q, np.conj(d) if inverse else d) for q, d in step.diagonals]
        return prepare_diagonal_batch(qubit_count, step.pivot, diagonals, dtype=dtype,
                                      parallel=parallel)
    if step.matrix is None:
        return None
    matrix = step.matrix.conj().T if inverse else step.matrix
    return prepare_matrix(step.qubits, matrix, dtype=dtype, parallel=parallel)


def _is_small_diagonal(step: FusionStep) -> bool:
    return (step.matrix is not None and len(step.qubits) <= 2
            and select_kernel(step.matrix) in ("phase", "diag1", "diag2"))


def _batch_diagonals(steps: list[FusionStep]) -> list[FusionStep]:
    """Merges small diagonal steps that share a pivot qubit into diagonal batches, where the
    estimate says one batch pass is cheaper than their passes.

    Diagonal steps commute with each other and with any step on other qubits, so a diagonal
    step may join the latest group it can reach going back over steps that do not touch its
    qubits (the fusion pass emits blocks late, which splits runs of diagonals).
    """
    entries: list[FusionStep | list[FusionStep]] = []
    for step in steps:
        if not _is_small_diagonal(step):
            entries.append(step)
            continue
        target: list[FusionStep] | None = None
        for entry in reversed(entries):
            if isinstance(entry, list):
                pivots = common_pivots([g.qubits for g in entry] + [step.qubits])
                if pivots is None or pivots:
                    target = entry
                    break
                if any(q in g.qubits for g in entry for q in step.qubits):
                    break
            elif set(entry.qubits) & set(step.qubits):
                break
        if target is None:
            entries.append([step])
        else:
            target.append(step)
    out: list[FusionStep] = []
    for entry in entries:
        if not isinstance(entry, list):
            out.append(entry)
            continue
        separate = sum(_pass_cost(g.matrix) for g in entry if g.matrix is not None)
        if len(entry) < 2 or separate <= PASS_COST["diagbatch"]:
            out.extend(entry)
            continue
        pivots = common_pivots([g.qubits for g in entry])
        pivot = min(pivots) if pivots else entry[0].qubits[0]
        out.append(FusionStep(
            tuple(sorted({q for g in entry for q in g.qubits})), None, (), (),
            tuple(sorted(p for g in entry for p in g.sources)),
            tuple((g.qubits, np.diagonal(g.matrix).copy()) for g in entry
                  if g.matrix is not None), pivot))
    return out


def _touching(open_blocks: dict[int, _Block], qubits: tuple[int, ...]) -> list[_Block]:
    return list({id(open_blocks[q]): open_blocks[q] for q in qubits if q in open_blocks}.values())


def fuse(qubit_count: int, ops: Sequence[UnitaryOp | tuple[Sequence[int], None]], *,
         max_fused_qubits: int = DEFAULT_MAX_FUSED_QUBITS,
         parametric_positions: Sequence[int] = (),
         max_parametric_fused_qubits: int = DEFAULT_MAX_PARAMETRIC_FUSED_QUBITS,
         batch_diagonals: bool = True) -> FusionPlan:
    """Plans the fusion of a program's gates (see the module docstring).

    Args:
        qubit_count: ``n``.
        ops: ``(qubits, matrix)`` pairs as for :func:`~.statevector.simulate_statevector`; at a
            parametric position the matrix may be None (only the qubits are read).
        max_fused_qubits: the largest constant block, >= 1 (a wider gate stays alone).
        parametric_positions: indices into ``ops`` that are rebound per evaluation.
        max_parametric_fused_qubits: the largest block holding parametric operations, whose
            matrix is multiplied out per parameter set; 0 keeps every parametric operation a
            step of its own.
        batch_diagonals: merge runs of 1- and 2-qubit diagonal steps sharing a pivot qubit
            into one pass each (:mod:`~.diagonal_batch`).
    Returns:
        the plan; ``simulate_statevector(n, plan.ops(matrices))`` equals the unfused program
        up to rounding (~1e-15 per fused gate in complex128).
    Raises:
        InvalidProgramError: a bad operation, position or limit.
    """
    qubit_count = check_qubit_count(qubit_count)
    for label, value, least in (("max_fused_qubits", max_fused_qubits, 1),
                                ("max_parametric_fused_qubits", max_parametric_fused_qubits, 0)):
        if isinstance(value, bool) or int(value) != value or value < least:
            raise InvalidProgramError(f"{label} must be an integer >= {least}, got {value!r}")
    parametric = sorted({int(p) for p in parametric_positions})
    if parametric and (parametric[0] < 0 or parametric[-1] >= len(ops)):
        raise InvalidProgramError(f"parametric positions {parametric} out of range for "
                                  f"{len(ops)} operation(s)")
    parametric_set = set(parametric)
    steps: list[FusionStep] = []
    open_blocks: dict[int, _Block] = {}  # qubit -> its open block

    def close(blocks: list[_Block]) -> None:
        for b in sorted(blocks, key=lambda b: b.sources[0]):
            steps.append(b.step())
            for q in b.qubits:
                del open_blocks[q]

    def open_block(block: _Block, absorbed: list[_Block]) -> None:
        block.settle()
        for b in absorbed:
            for q in b.qubits:
                del open_blocks[q]
        for q in block.qubits:
            open_blocks[q] = block

    for index, op in enumerate(ops):
        if index in parametric_set:
            qubits = check_qubits(qubit_count, op[0], what=f"operation {index}")
            touching = _touching(open_blocks, qubits)
            union = set(qubits).union(*(b.qubits for b in touching))
            if len(union) <= max_parametric_fused_qubits:
                open_block(_merge_parametric(touching, qubits, None, index), touching)
            else:
                close(touching)
                if len(qubits) <= max_parametric_fused_qubits:
                    open_block(_Block(qubits, None, index), [])
                else:
                    steps.append(_Block(qubits, None, index).step())
            continue
        qubits, matrix = check_unitary_op(qubit_count, op, what=f"operation {index}")
        touching = _touching(open_blocks, qubits)
        union = set(qubits).union(*(b.qubits for b in touching))
        if any(b.matrix is None for b in touching):
            if len(union) <= max_parametric_fused_qubits:
                open_block(_merge_parametric(touching, qubits, matrix, index), touching)
                continue
            close(touching)
            touching = []
            union = set(qubits)
        if len(union) <= max_fused_qubits:
            merged = _merge(touching, qubits, matrix, index)
            separate = sum(_pass_cost(b.matrix) for b in touching) + _pass_cost(matrix)
            if not touching or _pass_cost(merged.matrix) <= separate + 1e-9:
                open_block(merged, touching)
                continue
        # The union is too wide or dearer: blocks within the gate's own qubits still join it
        # (a k-qubit pass costs the same with them), the others are emitted first (open
        # blocks are disjoint, so they commute with the absorbed ones).
        inside = [b for b in touching if set(b.qubits) <= set(qubits)]
        close([b for b in touching if not set(b.qubits) <= set(qubits)])
        if len(qubits) <= max_fused_qubits:
            merged = _merge(inside, qubits, matrix, index)
            separate = sum(_pass_cost(b.matrix) for b in inside) + _pass_cost(matrix)
            if inside and _pass_cost(merged.matrix) > separate + 1e-9:
                close(inside)
                merged = _Block(qubits, matrix, index)
                inside = []
            open_block(merged, inside)
        else:  # wider than any block: a pass of its own
            close(inside)
            steps.append(_Block(qubits, matrix, index).step())
    close(list({id(b): b for b in open_blocks.values()}.values()))
    if batch_diagonals and qubit_count >= MIN_BATCH_QUBITS:
        steps = _batch_diagonals(steps)
    return FusionPlan(qubit_count, tuple(steps), tuple(parametric), len(ops))
