"""Matrix-product states (MPS): the pure-state form for wide circuits (tens to hundreds of qubits).

A state of ``n`` qubits is a chain of tensors ``A[k]``, complex128 ``(D_k, 2, D_{k+1})`` with
``D_0 = D_n = 1``; site ``k`` is qubit ``k`` and ``ψ(s_0..s_{n-1}) = A[0][:, s_0, :] ...
A[n-1][:, s_{n-1}, :]``. The chain is kept in *mixed-canonical* form around an orthogonality
centre ``c``: sites left of ``c`` are left-isometric (``Σ_s A_s† A_s = 1``), sites right of it
right-isometric (``Σ_s A_s A_s† = 1``), so the whole norm sits in ``A[c]`` and the singular
values of a two-site block at the centre are the state's Schmidt coefficients (Vidal, PRL 91,
147902 (2003); Schollwöck, Ann. Phys. 326, 96 (2011), §4.4).

Why it is the form for width: the cost is set by the bond dimension ``χ`` (the Schmidt rank
across each cut), not by ``2**n``. A 2-qubit gate across a cut multiplies that rank by at most
its operator-Schmidt rank (≤ 4; 2 for CZ/CNOT), so shallow circuits and low-entanglement
(area-law) states stay small exactly, and deep ones are approximated by capping ``χ``
(Vidal 2003; Schollwöck 2011, §4.5 and §7). :func:`mps_suitable` turns this bound into the
selection heuristic.

Operations (:class:`MatrixProductStateBackend`):

* 1-qubit unitary: contracted into its site wherever the centre is (a unitary on the physical
  leg keeps an isometry an isometry). A non-unitary 1-qubit matrix (a Kraus no-jump operator)
  first moves the centre to its site (QR steps), so the norm change lands in the centre.
* ``m``-qubit ops (``m >= 2``) on contiguous sites: the centre moves into the window, the ``m``
  sites are contracted, the matrix applied, and the block split back by ``m - 1`` truncated
  SVDs (SciPy ``gesdd``, ``gesvd`` when ``gesdd`` does not converge).
* Non-contiguous qubits: a *swap network with return*. The op's qubits are moved next to its
  right-most qubit by nearest-neighbour SWAPs (each one two-site SVD, truncated like any other
  gate), the op is applied, and the SWAPs are undone in reverse order, so the chain keeps its
  site order; the cost is ``2 (distance - 1)`` extra two-site steps per gate. Which site holds
  which qubit is fixed per backend (``site_of``); :func:`site_order` chooses it so that the
  program's 2-qubit gates act on nearby sites (on a grid device, qubit order puts vertical
  neighbours a row apart).
* Truncation: after each SVD the smallest singular values are discarded while their squares
  sum to less than ``truncation_threshold`` times the block's total weight (the current
  ``<ψ|ψ>``), and beyond ``max_bond_dimension`` (the same rule as Qiskit Aer's MPS method,
  ``matrix_product_state_truncation_threshold`` / ``..._max_bond_dimension``). The relative
  discarded weight ``ε`` of each step is accumulated
  (:meth:`~MatrixProductStateBackend.truncation_error`) and the kept singular values are
  rescaled so that truncation never changes ``<ψ|ψ>``: the trajectory engine reads norms of
  unnormalised states as jump probabilities, which truncation must not disturb. Nothing
  renormalises the state otherwise. Fidelity bound (circuits of unitaries): the truncated
  state ``φ`` obeys ``|<ψ|φ>|² / (<ψ|ψ><φ|φ>) >= cos²(Σ_i arcsin sqrt(ε_i))`` while the sum is
  below π/2 (each truncation turns the state by the angle ``arcsin sqrt(ε_i)``, unitaries
  preserve angles, and the Fubini-Study angle obeys the triangle inequality); the usual
  estimate is ``Π (1 - ε_i)`` (Zhou,
  Stoudenmire & Waintal, PRX 10, 041038 (2020)). :func:`fidelity_lower_bound` gives the bound.

Reads never change the state: reduced density matrices and Pauli expectations contract
environments from the centre outwards (identity beyond the isometric sides); sampling uses
Ferris & Vidal's sequential conditional sampling (PRB 85, 165146 (2012)) along the chain, with
all shots at once: shots that share a prefix of outcomes share one left vector, and each group
splits by a binomial draw, so a GHZ state costs two vectors however many shots are drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from quantum_service.simulator import PauliSum
from quantum_service.simulator.fusion import FusionStep, embed_matrix

__all__ = [
    "DEFAULT_MAX_BOND_DIMENSION",
    "DEFAULT_TRUNCATION_THRESHOLD",
    "MPS_MIN_QUBITS",
    "MatrixProductState",
    "MatrixProductStateBackend",
    "MpsSegment",
    "bond_dimension_bound",
    "fidelity_lower_bound",
    "mps_suitable",
    "site_order",
    "swap_cost",
]

#: Default cap on every bond dimension ``χ``. At ``χ = 256`` one site holds
#: ``256 * 2 * 256 * 16 B = 2 MiB`` (a 127-qubit state at most ~250 MiB) and one two-site SVD of
#: a 512x512 complex matrix takes tens of milliseconds on one core.
DEFAULT_MAX_BOND_DIMENSION = 256

#: Default relative discarded weight per SVD (Qiskit Aer's MPS default, 1e-16): only singular
#: values at round-off level are dropped, so circuits within the cap stay exact to ~1e-12.
DEFAULT_TRUNCATION_THRESHOLD = 1e-16

#: :func:`mps_suitable` prefers the dense state vector up to this width when it fits.
MPS_MIN_QUBITS = 25

_UNITARY_ATOL = 1e-12
_SWAP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.complex128)
_PAULI = {
    "X": np.array([[0, 1], [1, 0]], dtype=np.complex128),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    "Z": np.array([[1, 0], [0, -1]], dtype=np.complex128),
}


@dataclass(slots=True)
class MatrixProductState:
    """One MPS in mixed-canonical form (see the module docstring).

    Attributes:
        tensors: ``tensors[k]`` is site ``k`` (= qubit ``k``), complex128 ``(D_k, 2, D_{k+1})``.
        centre: the orthogonality centre's site; ``<ψ|ψ> = ||tensors[centre]||²``.
        discarded_weight: ``Σ ε_i``, the relative discarded weights of every truncation so far.
        discarded_angle: ``Σ arcsin sqrt(ε_i)``, a bound on the Fubini-Study angle between
            the state and the untruncated one (for circuits of unitaries).
    """

    tensors: list[np.ndarray]
    centre: int = 0
    discarded_weight: float = 0.0
    discarded_angle: float = 0.0

    @property
    def bond_dimensions(self) -> tuple[int, ...]:
        """``(D_1, ..., D_{n-1})``, the inner bonds."""
        return tuple(t.shape[2] for t in self.tensors[:-1])


@dataclass(frozen=True, slots=True)
class MpsSegment:
    """A prepared list of ops: consecutive ops on the same 1-2 qubits merged into one step
    (1-qubit runs into a 2x2, 1-qubit ops into an adjacent 2-qubit block), each a
    :class:`~quantum_service.simulator.fusion.FusionStep` bound per parameter set."""

    steps: tuple[FusionStep, ...]


def fidelity_lower_bound(state: MatrixProductState) -> float:
    """``cos²(min(π/2, Σ_i arcsin sqrt ε_i))``: a lower bound on the fidelity of ``state`` with
    the untruncated state, for circuits of unitaries (see the module docstring)."""
    return math.cos(min(math.pi / 2, state.discarded_angle)) ** 2


def bond_dimension_bound(two_qubit_gates: Sequence[tuple[int, int]], qubit_count: int, *,
                         gate_schmidt_rank: int = 4) -> int:
    """An upper bound on the largest bond dimension an exact MPS of the circuit needs.

    Across the cut between sites ``k-1`` and ``k`` the Schmidt rank is at most
    ``min(2**k, 2**(n-k), r**g_k)``, where ``g_k`` counts the 2-qubit gates with one qubit on
    each side and ``r`` is their operator-Schmidt rank (4 for a general gate, 2 for CZ/CNOT):
    Vidal, PRL 91, 147902 (2003). SWAPs of the swap network do not cross new cuts beyond the
    gate's own span.

    Args:
        two_qubit_gates: ``(q0, q1)`` pairs in ``[0, qubit_count)``.
        qubit_count: ``n >= 1``.
        gate_schmidt_rank: ``r``.
    Returns:
        the bound, an int >= 1 (capped at ``2**(n // 2)``).
    """
    crossings = np.zeros(qubit_count + 1, dtype=np.int64)
    for a, b in two_qubit_gates:
        lo, hi = min(a, b), max(a, b)
        crossings[lo + 1:hi + 1] += 1  # cuts k with lo < k <= hi
    best = 1
    log_r = math.log2(gate_schmidt_rank)
    for k in range(1, qubit_count):
        bits = min(k, qubit_count - k, crossings[k] * log_r)
        best = max(best, int(round(2.0 ** min(bits, 62))))
    return best


def mps_suitable(exe_two_qubit_gates: Sequence[tuple[int, int]], qubit_count: int, *,
                 memory_budget_bytes: int = 16 << 30,
                 max_bond_dimension: int = DEFAULT_MAX_BOND_DIMENSION,
                 gate_schmidt_rank: int = 4) -> tuple[bool, str]:
    """Whether a circuit should run as an MPS rather than a dense state vector, and why.

    Rule: the dense state vector is preferred while ``qubit_count < MPS_MIN_QUBITS`` and its
    ``16 * 2**n`` bytes fit ``memory_budget_bytes``; beyond, the MPS runs (it is the only form
    that fits), exactly when :func:`bond_dimension_bound` is within ``max_bond_dimension``,
    else with truncation (the reason says so).

    Args:
        exe_two_qubit_gates: the executable's 2-qubit gates as ``(q0, q1)`` pairs.
        qubit_count: active qubits ``n``.
        memory_budget_bytes: memory one state vector may take.
        max_bond_dimension: the MPS cap that would be used.
        gate_schmidt_rank: see :func:`bond_dimension_bound`.
    Returns:
        ``(use_mps, reason)``; the reason is a sentence for the result's engine record.
    """
    dense_bytes = 16 * (1 << qubit_count) if qubit_count < 64 else math.inf
    bound = bond_dimension_bound(exe_two_qubit_gates, qubit_count,
                                 gate_schmidt_rank=gate_schmidt_rank)
    if qubit_count < MPS_MIN_QUBITS and dense_bytes <= memory_budget_bytes:
        return False, (f"{qubit_count} qubit(s): the dense state vector "
                       f"({dense_bytes / 2**20:.3g} MiB) fits and is exact")
    why = (f"{qubit_count} qubits" if dense_bytes <= memory_budget_bytes else
           f"{qubit_count} qubits: a state vector would need {dense_bytes / 2**30:.3g} GiB, over "
           f"the {memory_budget_bytes / 2**30:.3g} GiB budget")
    if bound <= max_bond_dimension:
        return True, (f"{why}; matrix-product state, exact: bond dimension <= {bound} "
                      f"from {len(exe_two_qubit_gates)} two-qubit gate(s)")
    return True, (f"{why}; matrix-product state truncated at bond dimension "
                  f"{max_bond_dimension} (exact would need up to {bound}); the result "
                  f"records the discarded weight")


def swap_cost(pairs: Mapping[tuple[int, int], int], site_of: Sequence[int]) -> int:
    """Nearest-neighbour SWAPs the 2-qubit gates ``pairs`` (``(a, b) -> count``) cost on a
    chain whose site of qubit ``q`` is ``site_of[q]``: ``Σ count (|site a - site b| - 1)``
    (each way; the swap network returns)."""
    return sum(w * (abs(site_of[a] - site_of[b]) - 1) for (a, b), w in pairs.items())


def site_order(two_qubit_gates: Sequence[tuple[int, int]], qubit_count: int) -> list[int]:
    """``site_of`` (qubit -> chain site) placing the qubits of frequent 2-qubit gates close.

    Spectral ordering: the qubits of each connected component of the gate graph (edge
    weights: gate counts) sorted by the Fiedler vector of its Laplacian, the ordering heuristic
    of DMRG orbital ordering (Barcza, Legeza, Marti & Reiher, PRA 83, 012508 (2011)), then
    improved by adjacent transpositions while :func:`swap_cost` falls. The qubit order is kept
    when it costs no more. Deterministic; ``O(n^3)`` for the eigenvectors (n <= a few hundred).
    """
    n = int(qubit_count)
    pairs: dict[tuple[int, int], int] = {}
    for a, b in two_qubit_gates:
        if a != b:
            key = (min(a, b), max(a, b))
            pairs[key] = pairs.get(key, 0) + 1
    identity = list(range(n))
    if not pairs or n < 3:
        return identity
    neighbours: dict[int, list[tuple[int, int]]] = {q: [] for q in range(n)}
    for (a, b), w in pairs.items():
        neighbours[a].append((b, w))
        neighbours[b].append((a, w))
    seen: set[int] = set()
    order: list[int] = []
    for root in range(n):  # components in order of their smallest qubit
        if root in seen:
            continue
        component, frontier = [], [root]
        seen.add(root)
        while frontier:
            q = frontier.pop()
            component.append(q)
            for r, _ in neighbours[q]:
                if r not in seen:
                    seen.add(r)
                    frontier.append(r)
        component.sort()
        if len(component) > 2:
            local = {q: i for i, q in enumerate(component)}
            laplacian = np.zeros((len(component), len(component)))
            for q in component:
                for r, w in neighbours[q]:
                    laplacian[local[q], local[r]] -= w
                    laplacian[local[q], local[q]] += w
            fiedler = np.linalg.eigh(laplacian)[1][:, 1]
            if fiedler[0] > 0:
                fiedler = -fiedler  # a fixed sign: the smallest qubit towards the start
            component = [component[i] for i in np.lexsort((np.arange(len(component)),
                                                           np.round(fiedler, 12)))]
        order.extend(component)
    site_of = [0] * n
    for k, q in enumerate(order):
        site_of[q] = k

    def local_cost(q: int) -> int:
        return sum(w * (abs(site_of[q] - site_of[r]) - 1) for r, w in neighbours[q])

    for _ in range(4 * n):  # passes of adjacent transpositions
        improved = False
        for k in range(n - 1):
            a, b = order[k], order[k + 1]
            before = local_cost(a) + local_cost(b)
            site_of[a], site_of[b] = k + 1, k
            after = local_cost(a) + local_cost(b)
            if after < before:
                order[k], order[k + 1] = b, a
                improved = True
            else:
                site_of[a], site_of[b] = k, k + 1
        if not improved:
            break
    return site_of if swap_cost(pairs, site_of) < swap_cost(pairs, identity) else identity


def _svd(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        return scipy.linalg.svd(matrix, full_matrices=False, check_finite=False,
                                lapack_driver="gesdd")
    except np.linalg.LinAlgError:
        return scipy.linalg.svd(matrix, full_matrices=False, check_finite=False,
                                lapack_driver="gesvd")


def _is_unitary(matrix: np.ndarray) -> bool:
    product = matrix.conj().T @ matrix
    return bool(np.allclose(product, np.eye(matrix.shape[0]), rtol=0.0, atol=_UNITARY_ATOL))


class MatrixProductStateBackend:
    """:class:`~quantum_service.engines.backend.PureStateBackend` over matrix-product states.

    Args:
        qubit_count: ``n >= 1``.
        site_of: ``site_of[q]`` is the chain site of qubit ``q`` (a permutation of
            ``range(n)``; default: site ``k`` is qubit ``k``). Every public method takes qubit
            indices; ordering the sites so that the program's 2-qubit gates act on nearby
            sites saves SWAPs (:func:`site_order`).
        max_bond_dimension: cap ``χ`` on every bond (default
            :data:`DEFAULT_MAX_BOND_DIMENSION`), >= 1.
        truncation_threshold: relative discarded weight allowed per SVD (default
            :data:`DEFAULT_TRUNCATION_THRESHOLD`), in ``[0, 1)``; 0 keeps every nonzero
            singular value up to the cap.
    Raises:
        ValueError: an argument out of range.
    """

    name = "mps"

    def __init__(self, qubit_count: int, *, max_bond_dimension: int = DEFAULT_MAX_BOND_DIMENSION,
                 truncation_threshold: float = DEFAULT_TRUNCATION_THRESHOLD,
                 site_of: Sequence[int] | None = None) -> None:
        if int(qubit_count) != qubit_count or qubit_count < 1:
            raise ValueError(f"qubit_count must be an integer >= 1, got {qubit_count!r}")
        if int(max_bond_dimension) != max_bond_dimension or max_bond_dimension < 1:
            raise ValueError(f"max_bond_dimension must be an integer >= 1, got "
                             f"{max_bond_dimension!r}")
        if not 0.0 <= truncation_threshold < 1.0:
            raise ValueError(f"truncation_threshold must be in [0, 1), got "
                             f"{truncation_threshold!r}")
        self._n = int(qubit_count)
        if site_of is None:
            site_of = range(self._n)
        self._site = [int(k) for k in site_of]
        if sorted(self._site) != list(range(self._n)):
            raise ValueError(f"site_of must be a permutation of range({self._n})")
        self.max_bond_dimension = int(max_bond_dimension)
        self.truncation_threshold = float(truncation_threshold)

    @property
    def qubit_count(self) -> int:
        return self._n

    # -- states ---------------------------------------------------------------------------

    def zero_state(self) -> MatrixProductState:
        tensors = []
        for _ in range(self._n):
            site = np.zeros((1, 2, 1), dtype=np.complex128)
            site[0, 0, 0] = 1.0
            tensors.append(site)
        return MatrixProductState(tensors)

    def copy(self, state: MatrixProductState) -> MatrixProductState:
        return MatrixProductState([t.copy() for t in state.tensors], state.centre,
                                  state.discarded_weight, state.discarded_angle)

    def norm_squared(self, state: MatrixProductState) -> float:
        centre = state.tensors[state.centre]
        return float(np.vdot(centre, centre).real)

    def scale(self, state: MatrixProductState, factor: float) -> MatrixProductState:
        state.tensors[state.centre] = state.tensors[state.centre] * factor
        return state

    def truncation_error(self, state: MatrixProductState) -> float:
        """``Σ ε_i``: each truncation's discarded weight relative to ``<ψ|ψ>`` at that time."""
        return state.discarded_weight

    # -- programs -------------------------------------------------------------------------

    def prepare(self, ops: Sequence[tuple[tuple[int, ...], np.ndarray | None]],
                parametric_positions: Sequence[int]) -> MpsSegment:
        """Merges ops into steps of at most 2 qubits (3 for a 3-qubit op with the 1-qubit ops
        around it): an op joins the *open* steps on its qubits (steps no later op has touched on
        any of their qubits, which therefore commute with everything after them) when their
        union is no wider than the op's own width, or 2."""
        parametric = set(parametric_positions)
        steps: list[_OpenStep | None] = []
        last: dict[int, int] = {}
        for position, (qubits, matrix) in enumerate(ops):
            qubits = tuple(self._site[int(q)] for q in qubits)
            member = (position, qubits, None if position in parametric else
                      np.asarray(matrix, dtype=np.complex128))
            touched = sorted({last[q] for q in qubits if q in last})
            limit = max(2, len(qubits))
            merged = _OpenStep(qubits)
            union = set(qubits)
            for i in touched:
                block = steps[i]
                assert block is not None
                is_open = all(last[q] == i for q in block.qubits)
                if is_open and len(union | set(block.qubits)) <= limit:
                    union |= set(block.qubits)
                    merged.members.extend(block.members)
                    steps[i] = None
            if len(union) > len(qubits):
                merged.qubits = tuple(sorted(union))
            merged.members.append(member)
            steps.append(merged)
            for q in merged.qubits:
                last[q] = len(steps) - 1
        return MpsSegment(tuple(s.step() for s in steps if s is not None))

    def run(self, segment: MpsSegment, state: MatrixProductState,
            bound: Mapping[int, np.ndarray]) -> MatrixProductState:
        for step in segment.steps:
            self._apply_sites(state, step.qubits, step.bind(bound))
        return state

    def apply(self, state: MatrixProductState, qubits: tuple[int, ...], matrix: np.ndarray
              ) -> MatrixProductState:
        """Applies ``matrix`` (complex128 ``(2**m, 2**m)``, first listed qubit = most
        significant, not necessarily unitary) to ``qubits``, without renormalising."""
        return self._apply_sites(state, tuple(self._site[int(q)] for q in qubits), matrix)

    def _apply_sites(self, state: MatrixProductState, qubits: tuple[int, ...],
                     matrix: np.ndarray) -> MatrixProductState:
        matrix = np.asarray(matrix, dtype=np.complex128)
        if len(qubits) == 1:
            self._apply_one(state, qubits[0], matrix)
            return state
        order = np.argsort(qubits)
        sites = [qubits[i] for i in order]
        # Move every qubit next to the right-most one, keeping their order.
        swaps: list[int] = []
        for j in range(len(sites) - 2, -1, -1):
            target = sites[j + 1] - 1
            for k in range(sites[j], target):
                self._apply_window(state, k, _SWAP, centre_left=False)
                swaps.append(k)
            sites[j] = target
        m = len(sites)
        perm = list(order) + [m + int(i) for i in order]
        window = matrix.reshape((2,) * (2 * m)).transpose(perm).reshape(1 << m, 1 << m)
        self._apply_window(state, sites[0], window, centre_left=bool(swaps))
        for k in reversed(swaps):
            self._apply_window(state, k, _SWAP, centre_left=True)
        return state

    # -- reads ----------------------------------------------------------------------------

    def reduced_density_matrix(self, state: MatrixProductState, qubits: tuple[int, ...]
                               ) -> np.ndarray:
        qubits = tuple(self._site[int(q)] for q in qubits)
        m = len(qubits)
        sites = sorted(qubits)
        c = state.centre
        lo, hi = min(sites[0], c), max(sites[-1], c)
        tensors = state.tensors
        dim = tensors[lo].shape[0]
        env = np.eye(dim, dtype=np.complex128).reshape(dim, dim)  # (a, a', open...)
        opened = 0
        for k in range(lo, hi + 1):
            a = tensors[k]
            if k in sites:
                # env (a, a', P) x A (a, s, b) -> (a', P, s, b); x conj A (a', s', b') ->
                # (P, s, b, s', b') ; keep (b, b', P, s, s')
                t = np.tensordot(env, a, axes=([0], [0]))
                t = np.tensordot(t, a.conj(), axes=([0], [0]))
                # t axes: P (opened pairs), s, b, s', b'
                t = np.moveaxis(t, [2 * opened + 1, 2 * opened + 3], [0, 1])
                # now (b, b', P..., s, s')
                env = t
                opened += 1
            else:
                t = np.tensordot(env, a, axes=([0], [0]))  # (a', P, s, b)
                env = np.tensordot(t, a.conj(), axes=([0, 2 * opened + 1], [0, 1]))
                # (P, b, b') -> (b, b', P)
                env = np.moveaxis(env, [2 * opened, 2 * opened + 1], [0, 1])
        rho = np.trace(env, axis1=0, axis2=1)  # (s_0, s_0', s_1, s_1', ...) in site order
        # to (s_0.., s_0'..) in the requested order
        rank = [sites.index(q) for q in qubits]
        rho = rho.transpose([2 * r for r in rank] + [2 * r + 1 for r in rank])
        return np.ascontiguousarray(rho.reshape(1 << m, 1 << m))

    def pauli_expectations(self, state: MatrixProductState,
                           terms: Sequence[Mapping[int, str]]) -> np.ndarray:
        """float64 ``(len(terms),)``: ``<ψ|P|ψ> / <ψ|ψ>`` for each Pauli product, given as
        ``{qubit: "X" | "Y" | "Z"}`` (empty: the identity); any width.

        Environments of the identity are built once from the centre outwards (left of the
        centre and right of it the chain is isometric), then each term costs its own span.
        """
        norm = self.norm_squared(state)
        tensors = state.tensors
        c, n = state.centre, self._n
        terms = [{self._site[int(q)]: letter for q, letter in factors.items()}
                 for factors in terms]
        # left[k]: contraction of sites < k for k > c (identity for k <= c); right[k]: of
        # sites > k for k < c (identity for k >= c).
        left: dict[int, np.ndarray] = {}
        env = np.eye(tensors[c].shape[0], dtype=np.complex128)
        for k in range(c, n):
            left[k] = env
            env = _transfer(env, tensors[k], None)
        right: dict[int, np.ndarray] = {}
        env = np.eye(tensors[c].shape[2], dtype=np.complex128)
        for k in range(c, -1, -1):
            right[k] = env
            env = _transfer_left(env, tensors[k])
        out = np.empty(len(terms), dtype=np.float64)
        for t, factors in enumerate(terms):
            if not factors:
                out[t] = 1.0
                continue
            lo, hi = min(factors), max(factors)
            env = (left[lo] if lo >= c else
                   np.eye(tensors[lo].shape[0], dtype=np.complex128))
            for k in range(lo, hi + 1):
                letter = factors.get(k)
                env = _transfer(env, tensors[k], None if letter is None else _PAULI[letter])
            value = np.sum(env * right[hi]) if hi < c else np.trace(env)
            out[t] = float(np.real(value)) / norm
        return out

    def term_expectations(self, state: MatrixProductState, pauli_sum: PauliSum) -> np.ndarray:
        """:meth:`pauli_expectations` of ``pauli_sum``'s terms (a :class:`PauliSum` holds at
        most :data:`~quantum_service.simulator.pauli.MAX_PAULI_QUBITS` qubits; wider
        observables go through :meth:`pauli_expectations`)."""
        terms = [{int(f[1:]): f[0] for f in s.split()} for s, _ in pauli_sum.terms]
        return self.pauli_expectations(state, terms)

    def sample(self, state: MatrixProductState, qubits: Sequence[int], shot_count: int,
               rng: np.random.Generator) -> np.ndarray:
        """Sequential conditional sampling (Ferris & Vidal 2012) over the sites from the first
        to the last measured qubit (unmeasured ones between are sampled and dropped: the
        marginal of a joint sample), shots grouped by shared outcome prefix."""
        qubits = [self._site[int(q)] for q in qubits]
        if not qubits or shot_count == 0:
            return np.zeros((shot_count, len(qubits)), dtype=np.uint8)
        first, final = min(qubits), max(qubits)
        tensors = _centred(state, first)
        head = tensors[first]
        # Schmidt decomposition on the bond left of `first`: the right part is the mixture
        # Σ_α S_α² |R_α><R_α|; draw α first, then the rows of Vh start right-isometric.
        _, s, vh = _svd(head.reshape(head.shape[0], -1))
        weights = s**2 / np.sum(s**2)
        counts = rng.multinomial(shot_count, weights)
        keep = np.flatnonzero(counts)
        vectors = np.eye(len(s), dtype=np.complex128)[keep]  # (classes, r)
        counts = counts[keep]
        chain = [vh.reshape(len(s), 2, -1)] + tensors[first + 1:final + 1]
        bits = np.zeros((len(keep), 0), dtype=np.uint8)
        for a in chain:
            w = np.einsum("ca,asb->csb", vectors, a, optimize=True)
            p = np.einsum("csb,csb->cs", w, w.conj()).real
            total = p.sum(axis=1)
            p0 = np.clip(p[:, 0] / total, 0.0, 1.0)
            zeros = rng.binomial(counts, p0)
            child_counts = np.stack([zeros, counts - zeros], axis=1).reshape(-1)
            child_vectors = w.reshape(-1, w.shape[2]) / np.sqrt(
                np.maximum(p.reshape(-1), np.finfo(float).tiny))[:, None]
            parent = np.repeat(np.arange(len(counts)), 2)
            outcome = np.tile(np.array([0, 1], dtype=np.uint8), len(counts))
            alive = child_counts > 0
            vectors = child_vectors[alive]
            counts = child_counts[alive]
            bits = np.concatenate([bits[parent[alive]], outcome[alive][:, None]], axis=1)
        columns = bits[:, [q - first for q in qubits]]
        shots = np.repeat(columns, counts, axis=0)
        return shots[rng.permutation(shot_count)]

    # -- kernels --------------------------------------------------------------------------

    def _move_centre(self, state: MatrixProductState, site: int) -> None:
        _move_centre_in(state.tensors, state.centre, site)
        state.centre = site

    def _apply_one(self, state: MatrixProductState, site: int, matrix: np.ndarray) -> None:
        if site != state.centre and not _is_unitary(matrix):
            self._move_centre(state, site)
        a = state.tensors[site]
        state.tensors[site] = np.einsum("ij,ajb->aib", matrix, a)

    def _apply_window(self, state: MatrixProductState, start: int, matrix: np.ndarray, *,
                      centre_left: bool) -> None:
        """``matrix`` (``2**m`` square, first = site ``start``) on sites ``start..start+m-1``;
        the centre ends at ``start`` (``centre_left``) or at the window's last site."""
        m = matrix.shape[0].bit_length() - 1
        end = start + m - 1
        if state.centre < start:
            self._move_centre(state, start)
        elif state.centre > end:
            self._move_centre(state, end)
        tensors = state.tensors
        theta = tensors[start]
        for k in range(start + 1, end + 1):
            theta = np.tensordot(theta, tensors[k], axes=([theta.ndim - 1], [0]))
        dl, dr = theta.shape[0], theta.shape[-1]
        theta = theta.reshape(dl, 1 << m, dr)
        theta = np.einsum("ij,ajb->aib", matrix, theta, optimize=True)
        theta = theta.reshape((dl,) + (2,) * m + (dr,))
        if centre_left:
            for k in range(end, start, -1):
                rows = theta.reshape(-1, 2 * theta.shape[-1])
                u, s, vh = self._truncated_svd(state, rows)
                tensors[k] = np.ascontiguousarray(vh).reshape(len(s), 2, -1)
                theta = (u * s).reshape(theta.shape[:-2] + (len(s),))
            tensors[start] = np.ascontiguousarray(theta).reshape(theta.shape[0], 2, -1)
            state.centre = start
        else:
            for k in range(start, end):
                rows = theta.reshape(theta.shape[0] * 2, -1)
                u, s, vh = self._truncated_svd(state, rows)
                tensors[k] = np.ascontiguousarray(u).reshape(theta.shape[0], 2, len(s))
                theta = (s[:, None] * vh).reshape((len(s),) + theta.shape[2:])
            tensors[end] = np.ascontiguousarray(theta).reshape(theta.shape[0], 2, -1)
            state.centre = end

    def _truncated_svd(self, state: MatrixProductState, matrix: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u, s, vh = _svd(matrix)
        weight = s**2
        total = float(weight.sum())
        if total == 0.0:
            return u[:, :1], s[:1], vh[:1]
        # tail[k] = relative weight of s[k:]
        tail = np.concatenate([np.cumsum(weight[::-1])[::-1], [0.0]]) / total
        keep = int(np.count_nonzero(s))
        if self.truncation_threshold > 0.0:
            keep = min(keep, int(np.argmax(tail < self.truncation_threshold)))
        keep = max(1, min(keep, self.max_bond_dimension))
        discarded = float(tail[keep])
        if discarded > 0.0:
            state.discarded_weight += discarded
            state.discarded_angle += math.asin(math.sqrt(min(discarded, 1.0)))
            s = s[:keep] * math.sqrt(1.0 / (1.0 - discarded))
        else:
            s = s[:keep]
        return u[:, :keep], s, vh[:keep]


@dataclass(slots=True)
class _OpenStep:
    qubits: tuple[int, ...]
    members: list[tuple[int, tuple[int, ...], np.ndarray | None]] = field(default_factory=list)

    def step(self) -> FusionStep:
        sources = tuple(p for p, _, _ in self.members)
        positions = tuple(p for p, _, m in self.members if m is None)
        if positions:
            return FusionStep(self.qubits, None, positions, tuple(self.members), sources)
        product = np.eye(1 << len(self.qubits), dtype=np.complex128)
        for _, qubits, matrix in self.members:
            assert matrix is not None
            product = embed_matrix(matrix, qubits, self.qubits) @ product
        return FusionStep(self.qubits, product, (), (), sources)


def _transfer(env: np.ndarray, a: np.ndarray, op: np.ndarray | None) -> np.ndarray:
    """``E'[b, b'] = Σ E[a, a'] (op A)[a, s, b] conj(A[a', s, b'])``."""
    t = np.tensordot(env, a, axes=([0], [0]))  # (a', s, b)
    if op is not None:
        t = np.einsum("ij,ajb->aib", op, t)
    return np.tensordot(t, a.conj(), axes=([0, 1], [0, 1]))


def _transfer_left(env: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``E'[a, a'] = Σ A[a, s, b] E[b, b'] conj(A[a', s, b'])``."""
    t = np.tensordot(a, env, axes=([2], [0]))  # (a, s, b')
    return np.tensordot(t, a.conj(), axes=([1, 2], [1, 2]))


def _move_centre_in(tensors: list[np.ndarray], centre: int, site: int) -> None:
    """QR steps moving the orthogonality centre from ``centre`` to ``site`` in place."""
    for k in range(centre, site):
        a = tensors[k]
        q, r = np.linalg.qr(a.reshape(a.shape[0] * 2, a.shape[2]))
        tensors[k] = np.ascontiguousarray(q).reshape(a.shape[0], 2, q.shape[1])
        tensors[k + 1] = np.tensordot(r, tensors[k + 1], axes=([1], [0]))
    for k in range(centre, site, -1):
        a = tensors[k]
        q, r = np.linalg.qr(a.reshape(a.shape[0], 2 * a.shape[2]).conj().T)
        tensors[k] = np.ascontiguousarray(q.conj().T).reshape(q.shape[1], 2, a.shape[2])
        tensors[k - 1] = np.tensordot(tensors[k - 1], r.conj().T, axes=([2], [0]))


def _centred(state: MatrixProductState, site: int) -> list[np.ndarray]:
    """The state's tensors with the centre at ``site``, without changing ``state`` (a shallow
    copy of the list; only the sites between the two centres are new arrays)."""
    tensors = list(state.tensors)
    _move_centre_in(tensors, state.centre, site)
    return tensors
