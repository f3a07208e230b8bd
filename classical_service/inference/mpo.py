"""Matrix product operators (tensor-train matrices) as linear layers, in NumPy.

A weight matrix ``W`` of shape ``(M, N)`` with ``M = m_1···m_K`` and ``N = n_1···n_K`` is stored
as ``K`` cores ``G_k`` of shape ``(r_{k-1}, m_k, n_k, r_k)`` with ``r_0 = r_K = 1``:

    W[(i_1…i_K), (j_1…j_K)]
        = Σ_a G_1[1, i_1, j_1, a_1] G_2[a_1, i_2, j_2, a_2] ··· G_K[a_{K-1}, i_K, j_K, 1]

with row-major multi-indices (``i_1`` most significant). This is the TT-matrix format of
Oseledets, "Tensor-Train Decomposition", SIAM J. Sci. Comput. 33, 2295 (2011), used as a neural
network layer by Novikov et al., "Tensorizing Neural Networks", NeurIPS 2015, and as the
projection of the QTHA adapter (arXiv:2503.12790). A layer maps ``x`` (``(B, M)``) to ``x @ W``.

Arrays are float64 unless stated; ``B`` is the batch size.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MpoShape",
    "balanced_factors",
    "init_mpo_cores",
    "mpo_apply",
    "mpo_to_dense",
    "mpo_vjp",
]


def balanced_factors(n: int, parts: int) -> tuple[int, ...]:
    """Splits ``n`` into ``parts`` integer factors as equal as the prime factors allow.

    Prime factors are placed largest first into the currently smallest factor (a greedy
    number-partitioning heuristic). Returns factors sorted in decreasing order, padded with 1s.
    ``balanced_factors(384, 3) == (8, 8, 6)``; ``balanced_factors(4, 3) == (2, 2, 1)``.

    Raises:
        ValueError: ``n < 1`` or ``parts < 1``.
    """
    if n < 1 or parts < 1:
        raise ValueError(f"cannot factor n={n} into parts={parts}")
    primes: list[int] = []
    rest, p = n, 2
    while p * p <= rest:
        while rest % p == 0:
            primes.append(p)
            rest //= p
        p += 1
    if rest > 1:
        primes.append(rest)
    buckets = [1] * parts
    for prime in sorted(primes, reverse=True):
        buckets[int(np.argmin(buckets))] *= prime
    return tuple(sorted(buckets, reverse=True))


@dataclass(frozen=True, slots=True)
class MpoShape:
    """Factorisation of an ``(M, N)`` matrix into ``K`` cores with bond dimension ``bond_dim``.

    Bonds are capped at the largest rank the cut allows (``min`` of the row and column sizes on
    either side), so no core is larger than it needs to be.
    """

    in_factors: tuple[int, ...]
    out_factors: tuple[int, ...]
    bond_dim: int

    def __post_init__(self) -> None:
        if len(self.in_factors) != len(self.out_factors) or not self.in_factors:
            raise ValueError("in_factors and out_factors must be non-empty and of equal length")
        if min(self.in_factors + self.out_factors) < 1 or self.bond_dim < 1:
            raise ValueError("factors and bond_dim must be >= 1")

    @classmethod
    def for_matrix(cls, in_features: int, out_features: int, *, cores: int = 3,
                   bond_dim: int = 4) -> MpoShape:
        """A balanced ``cores``-core factorisation of an ``(in_features, out_features)`` matrix."""
        return cls(balanced_factors(in_features, cores), balanced_factors(out_features, cores),
                   bond_dim)

    @property
    def in_features(self) -> int:
        return math.prod(self.in_factors)

    @property
    def out_features(self) -> int:
        return math.prod(self.out_factors)

    @property
    def ranks(self) -> tuple[int, ...]:
        """``(r_0, …, r_K)`` with ``r_0 = r_K = 1``."""
        k = len(self.in_factors)
        sizes = [m * n for m, n in zip(self.in_factors, self.out_factors)]
        ranks = [1]
        for cut in range(1, k):
            cap = min(math.prod(sizes[:cut]), math.prod(sizes[cut:]))
            ranks.append(min(self.bond_dim, cap))
        ranks.append(1)
        return tuple(ranks)

    @property
    def core_shapes(self) -> tuple[tuple[int, int, int, int], ...]:
        r = self.ranks
        return tuple((r[k], m, n, r[k + 1]) for k, (m, n) in
                     enumerate(zip(self.in_factors, self.out_factors)))

    @property
    def parameter_count(self) -> int:
        return sum(math.prod(s) for s in self.core_shapes)


def init_mpo_cores(shape: MpoShape, *, rng: np.random.Generator, std: float | None = None,
                   zero_last: bool = False) -> list[np.ndarray]:
    """Random cores whose dense matrix has entries of standard deviation about ``std``.

    Each core is i.i.d. normal with standard deviation ``s`` such that the product of the
    ``K`` cores' variances times the summed bond sizes gives ``std**2`` per dense entry
    (``Var W = Π_k (r_k s_k²)``); ``std`` defaults to ``1/sqrt(M)`` (LeCun normal, LeCun et al.,
    "Efficient BackProp", 1998). ``zero_last`` zeroes the last core so that the layer starts as
    the zero map (as LoRA initialises its up-projection, Hu et al., arXiv:2106.09685).
    """
    std = 1.0 / math.sqrt(shape.in_features) if std is None else std
    k = len(shape.core_shapes)
    bond_product = math.prod(shape.ranks[1:-1])
    per_core = (std ** 2 / bond_product) ** (1.0 / (2 * k))
    cores = [rng.normal(0.0, per_core, size=s) for s in shape.core_shapes]
    if zero_last:
        cores[-1][...] = 0.0
    return cores


def _check(cores: Sequence[np.ndarray]) -> None:
    if not cores:
        raise ValueError("an MPO needs at least one core")
    if cores[0].shape[0] != 1 or cores[-1].shape[-1] != 1:
        raise ValueError("the first core's left bond and the last core's right bond must be 1")
    for a, b in itertools.pairwise(cores):
        if a.shape[-1] != b.shape[0]:
            raise ValueError(f"bond mismatch between cores of shapes {a.shape} and {b.shape}")


def mpo_to_dense(cores: Sequence[np.ndarray]) -> np.ndarray:
    """The dense ``(M, N)`` matrix of an MPO (see the module docstring for the index order)."""
    _check(cores)
    dense = cores[0][0]  # (m1, n1, r1)
    for core in cores[1:]:
        i, j, _ = dense.shape
        _, m, n, s = core.shape
        dense = np.einsum("IJr,rmns->ImJns", dense, core).reshape(i * m, j * n, s)
    return dense[..., 0]


def mpo_apply(x: np.ndarray, cores: Sequence[np.ndarray]) -> np.ndarray:
    """``x @ W`` contracted core by core, never forming ``W``.

    Args:
        x: ``(B, M)``.
        cores: the MPO's cores.
    Returns:
        ``(B, N)``, the dtype of ``x`` promoted with the cores'.
    Raises:
        ValueError: ``x.shape[1] != M`` or the cores do not chain.
    """
    _check(cores)
    in_factors = [c.shape[1] for c in cores]
    if x.ndim != 2 or x.shape[1] != math.prod(in_factors):
        raise ValueError(f"x must have shape (B, {math.prod(in_factors)}), got {x.shape}")
    b = x.shape[0]
    state = x.reshape(b, x.shape[1], 1, 1)  # (B, M_rest, N_done, r)
    for core in cores:
        _, m, _, s = core.shape
        m_rest = state.shape[1] // m
        state = state.reshape(b, m, m_rest, state.shape[2], state.shape[3])
        state = np.einsum("bmRnr,rmjs->bRnjs", state, core)
        state = state.reshape(b, m_rest, -1, s)
    return state.reshape(b, -1)


def mpo_vjp(x: np.ndarray, cores: Sequence[np.ndarray], grad_out: np.ndarray
            ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Vector–Jacobian product of ``y = x @ W``.

    Args:
        x: ``(B, M)``, the layer's input.
        cores: the MPO's cores.
        grad_out: ``(B, N)``, ``∂L/∂y``.
    Returns:
        ``(∂L/∂x`` of shape ``(B, M)``, ``[∂L/∂G_k]`` with each core's shape``)``.
        Core gradients contract ``∂L/∂W = xᵀ ∂L/∂y`` with the left and right partial
        products of the other cores (the chain rule on the multilinear map of the cores).
    """
    dense = mpo_to_dense(cores)
    grad_x = grad_out @ dense.T
    grad_w = x.T @ grad_out  # (M, N)
    k = len(cores)
    lefts: list[np.ndarray] = [np.ones((1, 1, 1))]  # (I, J, r)
    for core in cores[:-1]:
        i, j, _ = lefts[-1].shape
        _, m, n, s = core.shape
        lefts.append(np.einsum("IJr,rmns->ImJns", lefts[-1], core).reshape(i * m, j * n, s))
    rights: list[np.ndarray] = [np.ones((1, 1, 1))]  # (s, I', J')
    for core in reversed(cores[1:]):
        _, i, j = rights[-1].shape
        r, m, n, _ = core.shape
        rights.append(np.einsum("rmns,sIJ->rmInJ", core, rights[-1]).reshape(r, m * i, n * j))
    rights.reverse()
    grads = []
    for idx, core in enumerate(cores):
        left, right = lefts[idx], rights[idx]
        _, m, n, _ = core.shape
        gw = grad_w.reshape(left.shape[0], m, right.shape[1], left.shape[1], n, right.shape[2])
        grads.append(np.einsum("imxjny,ijr,sxy->rmns", gw, left, right))
    assert len(grads) == k
    return grad_x, grads
