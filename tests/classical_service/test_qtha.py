"""The QTHA core in NumPy: MPO layers against their dense contraction, the VQC layer evaluated
on a real in-process quantum service against a NumPy state-vector reference and finite
differences, and the adapter's backward pass against finite differences."""

from __future__ import annotations

import itertools

import grpc
import numpy as np
import pytest

from classical_service.inference.mpo import (
    MpoShape,
    balanced_factors,
    init_mpo_cores,
    mpo_apply,
    mpo_to_dense,
    mpo_vjp,
)
from classical_service.inference.qtha import QthaAdapter, QthaConfig
from classical_service.inference.quantum_layer import SessionVqcExecutor, VqcResult, vqc_vjp
from classical_service.inference.vqc import VqcSpec

# -- MPO --------------------------------------------------------------------------------------

def _dense_by_loops(cores: list[np.ndarray]) -> np.ndarray:
    """W[(i1..iK),(j1..jK)] = G1[:, i1, j1, :] @ ... @ GK[:, iK, jK, :], element by element."""
    ms = [c.shape[1] for c in cores]
    ns = [c.shape[2] for c in cores]
    w = np.zeros((int(np.prod(ms)), int(np.prod(ns))))
    for row, i in enumerate(itertools.product(*map(range, ms))):
        for col, j in enumerate(itertools.product(*map(range, ns))):
            m = np.eye(1)
            for k, core in enumerate(cores):
                m = m @ core[:, i[k], j[k], :]
            w[row, col] = m[0, 0]
    return w


def test_balanced_factors() -> None:
    assert balanced_factors(384, 3) == (8, 8, 6)
    assert balanced_factors(4, 3) == (2, 2, 1)
    assert balanced_factors(7, 2) == (7, 1)
    with pytest.raises(ValueError):
        balanced_factors(0, 2)


def test_mpo_ranks_are_capped() -> None:
    shape = MpoShape((4, 3), (2, 2), bond_dim=100)
    # the cut between the cores separates 4*2 = 8 from 3*2 = 6 entries: rank <= 6
    assert shape.ranks == (1, 6, 1)
    assert shape.core_shapes == ((1, 4, 2, 6), (6, 3, 2, 1))
    assert shape.parameter_count == 4 * 2 * 6 + 6 * 3 * 2


def test_mpo_equals_dense_contraction() -> None:
    rng = np.random.default_rng(1)
    shape = MpoShape((3, 2, 2), (2, 3, 1), bond_dim=3)
    cores = init_mpo_cores(shape, rng=rng, std=1.0)
    dense = mpo_to_dense(cores)
    np.testing.assert_allclose(dense, _dense_by_loops(cores), atol=1e-12)
    x = rng.normal(size=(5, 12))
    np.testing.assert_allclose(mpo_apply(x, cores), x @ dense, atol=1e-12)


def test_mpo_init_scale() -> None:
    rng = np.random.default_rng(2)
    shape = MpoShape.for_matrix(384, 4, bond_dim=4)
    dense = mpo_to_dense(init_mpo_cores(shape, rng=rng))
    assert dense.shape == (384, 4)
    assert 0.3 / np.sqrt(384) < dense.std() < 3.0 / np.sqrt(384)
    zero = mpo_to_dense(init_mpo_cores(shape, rng=rng, zero_last=True))
    assert not zero.any()


def test_mpo_vjp_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    cores = init_mpo_cores(MpoShape((2, 3, 2), (2, 1, 2), bond_dim=2), rng=rng, std=1.0)
    x = rng.normal(size=(4, 12))
    g = rng.normal(size=(4, 4))
    grad_x, grad_cores = mpo_vjp(x, cores, g)

    def loss(xx: np.ndarray, cc: list[np.ndarray]) -> float:
        return float((mpo_apply(xx, cc) * g).sum())

    eps = 1e-6
    for k, core in enumerate(cores):
        for idx in [tuple(rng.integers(0, s) for s in core.shape) for _ in range(4)]:
            plus = [c.copy() for c in cores]
            minus = [c.copy() for c in cores]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            fd = (loss(x, plus) - loss(x, minus)) / (2 * eps)
            assert grad_cores[k][idx] == pytest.approx(fd, abs=1e-7)
    np.testing.assert_allclose(grad_x, g @ mpo_to_dense(cores).T, atol=1e-12)


def test_mpo_rejects_bad_shapes() -> None:
    cores = init_mpo_cores(MpoShape((2, 2), (2, 2), bond_dim=2), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        mpo_apply(np.zeros((3, 5)), cores)
    with pytest.raises(ValueError, match="bond"):
        mpo_to_dense([cores[0], cores[0]])


# -- a NumPy state-vector reference for the VQC --------------------------------------------

def _apply_1q(state: np.ndarray, gate: np.ndarray, q: int, n: int) -> np.ndarray:
    psi = state.reshape((2,) * n)
    axis = n - 1 - q  # qubit q is bit q of the index (LSB = qubit 0)
    psi = np.moveaxis(np.tensordot(gate, psi, axes=([1], [axis])), 0, axis)
    return psi.reshape(-1)


def _reference_expectations(spec: VqcSpec, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """⟨Z_k⟩ of the circuit of :class:`VqcSpec`, simulated directly (independent of qcore)."""
    n = spec.qubits
    out = np.zeros((x.shape[0], n))
    for b in range(x.shape[0]):
        state = np.zeros(2 ** n, dtype=complex)
        state[0] = 1.0

        def ry(t: float) -> np.ndarray:
            return np.array([[np.cos(t / 2), -np.sin(t / 2)], [np.sin(t / 2), np.cos(t / 2)]])

        def rz(t: float) -> np.ndarray:
            return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])

        for i in range(n):
            state = _apply_1q(state, ry(x[b, i]), i, n)
        j = 0
        for _ in range(spec.layers):
            for i in range(n):
                state = _apply_1q(state, rz(w[j]), i, n)
                state = _apply_1q(state, ry(w[j + 1]), i, n)
                j += 2
            pairs = [(i, (i + 1) % n) for i in range(n)] if n > 2 else [(0, 1)]
            for c, t in pairs:
                idx = np.arange(2 ** n)
                flip = ((idx >> c) & 1) == 1
                new = state.copy()
                new[idx[flip]] = state[idx[flip] ^ (1 << t)]
                state = new
        probs = np.abs(state) ** 2
        for k in range(n):
            sign = 1 - 2 * ((np.arange(2 ** n) >> k) & 1)
            out[b, k] = float(probs @ sign)
    return out


def test_reference_simulator_sanity() -> None:
    spec = VqcSpec(qubits=2, layers=1)
    # all angles zero: |00>, CX leaves it, <Z> = +1 on both qubits
    np.testing.assert_allclose(_reference_expectations(spec, np.zeros((1, 2)), np.zeros(4)),
                               [[1.0, 1.0]])
    # RY(pi) on qubit 0 -> |01>, CX(0,1) -> |11>: <Z0> = <Z1> = -1
    np.testing.assert_allclose(
        _reference_expectations(spec, np.array([[np.pi, 0.0]]), np.zeros(4)), [[-1, -1]],
        atol=1e-12)


# -- the VQC layer on a real quantum service ------------------------------------------------



def test_vqc_values_match_reference(quantum_channel: grpc.Channel) -> None:
    spec = VqcSpec(qubits=3, layers=2)
    rng = np.random.default_rng(4)
    x = rng.uniform(-np.pi, np.pi, size=(5, 3))
    w = rng.uniform(0, 2 * np.pi, size=spec.weight_count)
    with SessionVqcExecutor(quantum_channel, spec, qpu_id="ion-ideal-24") as executor:
        result = executor.evaluate(x, w)
        assert executor.qpu_id == "ion-ideal-24"
    np.testing.assert_allclose(result.values, _reference_expectations(spec, x, w), atol=1e-9)
    assert result.jac_inputs is None
    # one session measures the 3 observables together: one batch of 5 circuits serves them all
    assert result.task_count == 5


def test_vqc_gradients_match_finite_differences(quantum_channel: grpc.Channel) -> None:
    spec = VqcSpec(qubits=2, layers=1)
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, size=(3, 2))
    w = rng.uniform(0, 2 * np.pi, size=spec.weight_count)
    eps = 1e-5
    with SessionVqcExecutor(quantum_channel, spec, qpu_id="ion-ideal-24") as executor:
        result = executor.evaluate(x, w, gradient=True)
        assert result.jac_inputs.shape == (3, 2, 2)
        assert result.jac_weights.shape == (3, 2, 4)
        # finite differences of the service's own values, one column at a time
        for i in range(2):
            dx = np.zeros_like(x)
            dx[:, i] = eps
            fd = (executor.evaluate(x + dx, w).values
                  - executor.evaluate(x - dx, w).values) / (2 * eps)
            np.testing.assert_allclose(result.jac_inputs[:, :, i], fd, atol=1e-6)
        for j in range(spec.weight_count):
            dw = np.zeros_like(w)
            dw[j] = eps
            fd = (executor.evaluate(x, w + dw).values
                  - executor.evaluate(x, w - dw).values) / (2 * eps)
            np.testing.assert_allclose(result.jac_weights[:, :, j], fd, atol=1e-6)
    # and against the independent reference
    ref = lambda xx, ww: _reference_expectations(spec, xx, ww)
    fd_ref = (ref(x, w + np.eye(4)[0] * eps) - ref(x, w - np.eye(4)[0] * eps)) / (2 * eps)
    np.testing.assert_allclose(result.jac_weights[:, :, 0], fd_ref, atol=1e-6)


def test_vqc_vjp_contracts_jacobians() -> None:
    jx = np.arange(2 * 2 * 2, dtype=float).reshape(2, 2, 2)
    jw = np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3)
    result = VqcResult(np.zeros((2, 2)), jx, jw, 0, 0.0)
    g = np.array([[1.0, -1.0], [0.5, 2.0]])
    gx, gw = vqc_vjp(result, g)
    np.testing.assert_allclose(gx[1], 0.5 * jx[1, 0] + 2.0 * jx[1, 1])
    np.testing.assert_allclose(gw, sum(g[b, k] * jw[b, k] for b in range(2) for k in range(2)))
    with pytest.raises(ValueError):
        vqc_vjp(VqcResult(np.zeros((2, 2)), None, None, 0, 0.0), g)


class _ReferenceExecutor:
    """VQC executor on the NumPy reference; Jacobians by central differences."""

    def __init__(self, spec: VqcSpec) -> None:
        self.spec = spec

    def evaluate(self, inputs: np.ndarray, weights: np.ndarray, *,
                 gradient: bool = False) -> VqcResult:
        values = _reference_expectations(self.spec, inputs, weights)
        if not gradient:
            return VqcResult(values, None, None, 0, 0.0)
        eps = 1e-6
        jx = np.stack([(_reference_expectations(self.spec, inputs + eps * e, weights)
                        - _reference_expectations(self.spec, inputs - eps * e, weights))
                       / (2 * eps) for e in np.eye(self.spec.qubits)], axis=2)
        jw = np.stack([(_reference_expectations(self.spec, inputs, weights + eps * e)
                        - _reference_expectations(self.spec, inputs, weights - eps * e))
                       / (2 * eps) for e in np.eye(self.spec.weight_count)], axis=2)
        return VqcResult(values, jx, jw, 0, 0.0)


def test_qtha_adapter_backward_matches_finite_differences(
        quantum_channel: grpc.Channel) -> None:
    config = QthaConfig(in_features=8, out_features=6, qubits=2, layers=1, bond_dim=2,
                        cores=2, scale=0.7)
    rng = np.random.default_rng(6)
    adapter = QthaAdapter.initialise(config, rng=rng)
    for name in adapter.parameter_names():  # non-zero everywhere, so every path is tested
        adapter.params[name] = rng.normal(size=adapter.params[name].shape)
    x = rng.normal(size=(3, 8))
    g = rng.normal(size=(3, 6))
    with SessionVqcExecutor(quantum_channel, config.vqc, qpu_id="ion-ideal-24") as executor:
        out, cache = adapter.forward(x, executor, gradient=True)
        grad_x, grads = adapter.backward(cache, g)
    reference = _ReferenceExecutor(config.vqc)
    out_ref, _ = adapter.forward(x, reference)
    np.testing.assert_allclose(out, out_ref, atol=1e-9)

    def loss(xx: np.ndarray) -> float:
        return float((adapter.forward(xx, reference)[0] * g).sum())

    eps = 1e-5
    for name in adapter.parameter_names():
        p = adapter.params[name]
        idx = tuple(rng.integers(0, s) for s in p.shape)
        saved = p[idx]
        p[idx] = saved + eps
        up = loss(x)
        p[idx] = saved - eps
        down = loss(x)
        p[idx] = saved
        assert grads[name][idx] == pytest.approx((up - down) / (2 * eps), abs=1e-5), name
    e = np.zeros_like(x)
    e[1, 3] = eps
    assert grad_x[1, 3] == pytest.approx((loss(x + e) - loss(x - e)) / (2 * eps), abs=1e-5)
    assert config.parameter_count == sum(v.size for v in adapter.params.values())
