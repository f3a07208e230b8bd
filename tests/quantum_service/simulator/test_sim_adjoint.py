"""Adjoint gradients against central finite differences and the parameter-shift rule, on the
dense NumPy reference; batched energies and gradients; complex64 tolerances; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from quantum_service.circuits.gates import gate_matrix
from quantum_service.errors import InvalidProgramError
from quantum_service.simulator import (
    AdjointProgram,
    PauliSum,
    adjoint_gradient,
    check_generator,
    pauli_generator,
)
from quantum_service.simulator.reference import (
    pauli_string_matrix,
    reference_expectation,
    reference_statevector,
)

N = 5


def _terms(rng: np.random.Generator, count: int = 12) -> list[tuple[str, float]]:
    terms = []
    for _ in range(count):
        letters = rng.choice(list("IXYZ"), size=N)
        terms.append((" ".join(f"{p}{q}" for q, p in enumerate(letters) if p != "I"),
                      float(rng.normal())))
    return terms + [("", 0.7), ("Z0 Z1", -0.4)]


def _circuit(rng: np.random.Generator):
    """Rotations with every supported generator kind, constant gates between them."""
    phi = 0.37
    generators = {
        "rx": pauli_generator("X"), "ry": pauli_generator("Y"), "rz": pauli_generator("Z"),
        "rxx": pauli_generator("XX"), "rzz": pauli_generator("ZZ"),
        "r": math.cos(phi) * pauli_generator("X") + math.sin(phi) * pauli_generator("Y"),
    }
    layout = []  # (qubits, generator) or (qubits, constant matrix, None)
    for layer in range(2):
        for q in range(N):
            layout.append(((q,), generators["ry"]))
            layout.append(((q,), generators["rz"]))
        layout.append(((1,), gate_matrix("h"), None))
        layout.append(((0, 3), generators["rxx"]))
        layout.append(((2, 4), generators["rzz"]))
        layout.append(((3,), generators["r"]))
        layout.append(((4,), generators["rx"]))
        layout.extend(((q, q + 1), gate_matrix("cx"), None) for q in range(N - 1))
    thetas = rng.uniform(-math.pi, math.pi, sum(len(e) == 2 for e in layout))
    return layout, thetas


def _ops(layout, thetas):
    ops, positions, gens = [], [], []
    k = 0
    for entry in layout:
        if len(entry) == 3:
            ops.append((entry[0], entry[1]))
            continue
        qubits, g = entry
        positions.append(len(ops))
        gens.append(g)
        ops.append((qubits, expm(-0.5j * thetas[k] * g)))
        k += 1
    return ops, positions, gens


_H_CACHE: dict[tuple, np.ndarray] = {}


def _reference_energy(layout, thetas, terms) -> float:
    """``<psi|H|psi>`` with dense matrices (``H`` by Kronecker products, built once)."""
    key = tuple(terms)
    if key not in _H_CACHE:
        _H_CACHE[key] = sum(c * pauli_string_matrix(s, N) for s, c in terms)
    psi = reference_statevector(N, _ops(layout, thetas)[0])
    return float(np.vdot(psi, np.einsum("ij,j->i", _H_CACHE[key], psi)).real)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(2009)
    layout, thetas = _circuit(rng)
    terms = _terms(rng)
    energy, grads = adjoint_gradient(N, *_ops(layout, thetas),
                                     PauliSum(terms, qubit_count=N))
    return layout, thetas, terms, energy, grads


def test_energy_matches_reference(problem) -> None:
    layout, thetas, terms, energy, _ = problem
    assert energy == pytest.approx(_reference_energy(layout, thetas, terms), abs=1e-12)


def test_gradient_matches_central_finite_differences(problem) -> None:
    layout, thetas, terms, _, grads = problem
    eps = 1e-5
    for k in range(0, thetas.size, 3):
        step = np.zeros_like(thetas)
        step[k] = eps
        fd = (_reference_energy(layout, thetas + step, terms)
              - _reference_energy(layout, thetas - step, terms)) / (2 * eps)
        assert grads[k] == pytest.approx(fd, abs=1e-8)


def test_gradient_matches_parameter_shift(problem) -> None:
    # exp(-i θ G / 2) with G² = I: dE/dθ = [E(θ + π/2) - E(θ - π/2)] / 2 exactly
    # (Mitarai et al., PRA 98, 032309 (2018)).
    layout, thetas, terms, _, grads = problem
    shift = np.zeros_like(thetas)
    for k in range(1, thetas.size, 4):
        shift[:] = 0.0
        shift[k] = math.pi / 2
        exact = 0.5 * (_reference_energy(layout, thetas + shift, terms)
                       - _reference_energy(layout, thetas - shift, terms))
        assert grads[k] == pytest.approx(exact, abs=1e-12)


def test_unfused_parametric_gates_give_the_same_gradient(problem) -> None:
    layout, thetas, terms, energy, grads = problem
    ops, positions, gens = _ops(layout, thetas)
    program = AdjointProgram(N, ops, positions, gens, PauliSum(terms, qubit_count=N),
                             max_fused_qubits=1)
    e, g = program.gradient([ops[p][1] for p in positions])
    assert e == pytest.approx(energy, abs=1e-12)
    np.testing.assert_allclose(g, grads, atol=1e-12)


def test_batched_energies_and_gradients(problem) -> None:
    layout, thetas, terms, _, _ = problem
    ops, positions, gens = _ops(layout, thetas)
    program = AdjointProgram(N, [(q, None) if i in positions else (q, m)
                                 for i, (q, m) in enumerate(ops)],
                             positions, gens, PauliSum(terms, qubit_count=N))
    sets = thetas + 0.3 * np.random.default_rng(1).normal(size=(3, thetas.size))
    energies = program.energies(sets)
    batch_e, batch_g = program.gradients(sets)
    for row, angles in enumerate(sets):
        assert energies[row] == pytest.approx(_reference_energy(layout, angles, terms),
                                              abs=1e-12)
        e, g = adjoint_gradient(N, *_ops(layout, angles), PauliSum(terms, qubit_count=N))
        assert batch_e[row] == pytest.approx(e, abs=1e-12)
        np.testing.assert_allclose(batch_g[row], g, atol=1e-12)


def test_complex64_gradient(problem) -> None:
    layout, thetas, terms, energy, grads = problem
    e, g = adjoint_gradient(N, *_ops(layout, thetas), PauliSum(terms, qubit_count=N),
                            dtype=np.complex64)
    assert e == pytest.approx(energy, abs=1e-5)
    np.testing.assert_allclose(g, grads, atol=1e-5)


def test_parallel_kernels_agree() -> None:
    rng = np.random.default_rng(8)
    n = 9
    ops, positions, gens = [], [], []
    for q in range(n):
        positions.append(len(ops))
        gens.append(pauli_generator("Y"))
        ops.append(((q,), expm(-0.5j * rng.uniform(-3, 3) * pauli_generator("Y"))))
    ops.extend(((q, q + 1), gate_matrix("cx")) for q in range(n - 1))
    terms = [("X0 Y4 Z8", 0.5), ("Z3", -1.0), ("X7 X8", 0.25)]
    h = PauliSum(terms, qubit_count=n)
    serial = AdjointProgram(n, ops, positions, gens, h, parallel=False)
    parallel = AdjointProgram(n, ops, positions, gens, h, parallel=True)
    bound = [ops[p][1] for p in positions]
    e0, g0 = serial.gradient(bound)
    e1, g1 = parallel.gradient(bound)
    assert e0 == pytest.approx(e1, abs=1e-12)
    np.testing.assert_allclose(g0, g1, atol=1e-12)
    assert e0 == pytest.approx(reference_expectation(reference_statevector(n, ops), terms, n),
                               abs=1e-12)


def test_generators_are_checked() -> None:
    with pytest.raises(InvalidProgramError, match="square to the identity"):
        check_generator(2 * pauli_generator("X"), 1, what="op")
    with pytest.raises(InvalidProgramError, match="Hermitian"):
        check_generator(np.array([[0, 1], [0, 0]]), 1, what="op")
    with pytest.raises(InvalidProgramError, match="shape"):
        check_generator(pauli_generator("XX"), 1, what="op")
    with pytest.raises(InvalidProgramError, match="IXYZ"):
        pauli_generator("XQ")
    h = PauliSum([("Z0", 1.0)], qubit_count=1)
    with pytest.raises(InvalidProgramError, match="expected 1 generators"):
        adjoint_gradient(1, [((0,), np.eye(2))], [0], [], h)
    with pytest.raises(InvalidProgramError, match="ascending"):
        AdjointProgram(1, [((0,), None), ((0,), None)], [1, 0], [pauli_generator("X")] * 2, h)
