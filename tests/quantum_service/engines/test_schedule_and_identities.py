"""The executable's schedule (leading single-qubit gates as late as possible) and the steps it
leaves out because they act as the identity on qubits still in |0>: leaving them out changes
no expectation value of the exact noisy density matrix."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.drivers.fleet import superconducting_grid
from quantum_service.engines import select_engine
from quantum_service.engines.executable import build_executable
from quantum_service.simulator import Channel, PauliSum

PAULIS = "XYZ"


def _native_circuit(rng: np.random.Generator, qubits: int, coupling, depth: int) -> Circuit:
    """Random native-gate circuit (rz, sx, x, cz) on physical qubits; some qubits start late."""
    ops: list[Operation] = []
    for _ in range(depth):
        for q in range(qubits):
            r = rng.random()
            if r < 0.3:
                ops.append(Operation("sx", (q,)))
            elif r < 0.45:
                ops.append(Operation("rz", (q,), (ParameterExpression(float(rng.uniform(-3, 3))),)))
            elif r < 0.5:
                ops.append(Operation("x", (q,)))
        a, b = coupling[int(rng.integers(len(coupling)))]
        ops.append(Operation("cz", (a, b)))
    return Circuit(qubits, tuple(ops))


def _expectations(exe) -> np.ndarray:
    n = exe.qubit_count
    terms = []
    for k in (1, 2):
        for support in itertools.combinations(range(n), k):
            for letters in itertools.product(PAULIS, repeat=k):
                terms.append((" ".join(f"{p}{q}" for p, q in zip(letters, support)), 1.0))
    mixture = select_engine(exe).term_mixture(np.zeros(0), PauliSum(terms, qubit_count=n), 0,
                                              np.random.default_rng(0))
    return mixture.mean


@pytest.mark.parametrize("seed", range(6))
def test_left_out_identities_change_no_expectation_value(seed):
    """Noisy 2x2 grid with ZZ coupling, spectator errors and coherent errors (calibrated
    estimates off the truth): every 1- and 2-qubit Pauli expectation of the exact density
    matrix is the same with and without the left-out steps, and some steps were left out."""
    caps, truth = superconducting_grid("sc-grid-4", rows=2, cols=2)
    calibrated = dataclasses.replace(truth, qubits=tuple(
        dataclasses.replace(q, frequency_hz=q.frequency_hz + 2e5,
                            pi_pulse_amplitude=q.pi_pulse_amplitude * 1.01)
        for q in truth.qubits))
    rng = np.random.default_rng(seed)
    circuit = _native_circuit(rng, 4, caps.coupling_map, depth=6)
    kwargs = dict(caps=caps, device=truth, calibrated=calibrated, extra_qubits=range(4),
                  parameters=())
    lean = build_executable(circuit, **kwargs)
    full = build_executable(circuit, drop_identities=False, **kwargs)
    assert lean.noisy and select_engine(lean).choice.name == "density_matrix"
    assert len(lean.steps) < len(full.steps)
    np.testing.assert_allclose(_expectations(lean), _expectations(full), atol=1e-12)


def test_a_waiting_qubit_gets_its_leading_gates_just_before_its_first_two_qubit_gate():
    """q0: sx, then cz with q1 after q1's 20 sx: q0's sx is emitted after q1's 20th sx (it
    waits in |0>, so no relaxation step of q0 precedes it), and q0 keeps more coherence than
    when the sx is pinned to the start."""
    caps, truth = superconducting_grid("sc-grid-4", rows=2, cols=2)
    ops = [Operation("sx", (0,))] + [Operation("sx", (1,))] * 20 + [Operation("cz", (0, 1))]
    exe = build_executable(Circuit(2, tuple(ops)), caps=caps, device=truth, parameters=())
    first_on_q0 = next(i for i, s in enumerate(exe.steps)
                       if isinstance(s, (tuple, Channel)) and 0 in _qubits(s))
    q1_gates = [i for i, s in enumerate(exe.steps)
                if isinstance(s, tuple) and _qubits(s) == (1,)]
    assert isinstance(exe.steps[first_on_q0], tuple)  # the sx itself, no idle channel first
    assert first_on_q0 > q1_gates[19 - 1]
    # the same program with q0's sx pinned early (a zero delay after it is not a two-qubit
    # gate): q0 idles through q1's 20 gates in a superposition and loses coherence
    pinned_ops = ops[:1] + [Operation("delay", (0,), (ParameterExpression(0.0),))] + ops[1:]
    pinned = build_executable(Circuit(2, tuple(pinned_ops)), caps=caps, device=truth,
                              parameters=())
    y0 = PauliSum([("Y0", 1.0)], qubit_count=2)  # sx|0>: <Y> = -1 before any noise
    late = select_engine(exe).term_mixture(np.zeros(0), y0, 0, np.random.default_rng(0)).mean
    early = select_engine(pinned).term_mixture(np.zeros(0), y0, 0,
                                               np.random.default_rng(0)).mean
    assert late[0] < early[0] < 0


def _qubits(step) -> tuple[int, ...]:
    return step.qubits if isinstance(step, Channel) else tuple(step[0])
