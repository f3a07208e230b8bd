"""The ``qcore.qpu`` PennyLane device against a real local stack, checked against
``default.qubit``: analytic expval/var and gradients, shot-mode measurements, an optimisation."""

from __future__ import annotations

import numpy as np
import pytest

qml = pytest.importorskip("pennylane")

from pennylane import numpy as pnp  # noqa: E402
from pennylane.exceptions import DeviceError  # noqa: E402

from qcore_client.client import QuantumClient  # noqa: E402
from qcore_client.pennylane import QcoreDevice  # noqa: E402

pytestmark = pytest.mark.integration

IDEAL = "ion-ideal-24"
H = qml.Hamiltonian([0.5, -1.2, 0.3], [qml.Z(0) @ qml.Z(1), qml.X(2), qml.Y(0) @ qml.X(1)])


@pytest.fixture(scope="module")
def client(local_stack):
    with QuantumClient(local_stack.quantum_address, token=local_stack.token) as qc:
        yield qc


def _circuit(x):
    qml.RX(x[0], 0)
    qml.Rot(x[1], x[2], 0.3, wires=1)  # not a qcore gate: decomposed by preprocessing
    qml.CNOT([0, 1])
    qml.Hadamard(2)
    qml.IsingZZ(x[0], wires=[1, 2])


def test_the_entry_point_names_the_device(local_stack):
    """pyproject.toml registers ``qcore.qpu``; where the installed metadata has it (after an
    install of this checkout) ``qml.device`` builds the device by name."""
    import importlib
    import tomllib
    from importlib.metadata import entry_points
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    target = pyproject["project"]["entry-points"]["pennylane.plugins"]["qcore.qpu"]
    module, _, name = target.partition(":")
    assert getattr(importlib.import_module(module), name) is QcoreDevice
    if not any(e.name == "qcore.qpu" for e in entry_points(group="pennylane.plugins")):
        pytest.skip("the installed qcore metadata predates the pennylane.plugins entry point")
    device = qml.device("qcore.qpu", wires=2, qpu_id=IDEAL, address=local_stack.quantum_address,
                        token=local_stack.token)
    assert isinstance(device, QcoreDevice)


def test_analytic_expval_var_and_gradient_match_default_qubit(client):
    def measured(x):
        _circuit(x)
        return qml.expval(H), qml.var(qml.Z(0) @ qml.X(2)), qml.expval(qml.X(2))

    x = pnp.array([0.4, 1.1, -0.7], requires_grad=True)
    ours = qml.QNode(measured, QcoreDevice(wires=3, qpu_id=IDEAL, client=client))
    reference = qml.QNode(measured, qml.device("default.qubit", wires=3))
    np.testing.assert_allclose(np.array(ours(x)), np.array(reference(x)), atol=1e-10)
    gradient = qml.grad(lambda v: ours(v)[0])(x)  # parameter shift, each shift a qcore job
    np.testing.assert_allclose(gradient, qml.grad(lambda v: reference(v)[0])(x), atol=1e-10)


def test_device_derivatives_from_qcore_sessions_match_default_qubit(client):
    def measured(x):
        _circuit(x)
        qml.PhaseShift(x[2], 0)
        qml.CRY(x[1], wires=[0, 2])
        return qml.expval(H), qml.expval(qml.Y(0) @ qml.Z(2))

    x = pnp.array([0.4, 1.1, -0.7], requires_grad=True)
    ours = qml.QNode(measured, QcoreDevice(wires=3, qpu_id=IDEAL, client=client),
                     diff_method="device")
    reference = qml.QNode(measured, qml.device("default.qubit", wires=3))
    jacobian = qml.jacobian(lambda v: qml.math.stack(ours(v)))(x)
    assert jacobian.shape == (2, 3)
    np.testing.assert_allclose(jacobian, qml.jacobian(lambda v: qml.math.stack(reference(v)))(x),
                               atol=1e-10)
    single = qml.grad(lambda v: ours(v)[0])(x)
    np.testing.assert_allclose(single, jacobian[0], atol=1e-12)


def test_shot_measurements_agree_with_default_qubit(client):
    def measured(x):
        _circuit(x)
        return (qml.expval(H), qml.probs(wires=[0, 1]), qml.counts(wires=[2]),
                qml.sample(qml.Z(0)))

    def exact(x):
        _circuit(x)
        return qml.expval(H), qml.probs(wires=[0, 1])

    x = np.array([0.4, 1.1, -0.7])
    shots = 4000
    energy, probs, counts, samples = qml.set_shots(
        qml.QNode(measured, QcoreDevice(wires=3, qpu_id=IDEAL, client=client, seed=7)),
        shots=shots)(x)
    exact_energy, exact_probs = qml.QNode(exact, qml.device("default.qubit", wires=3))(x)
    assert abs(energy - exact_energy) < 5 * 1.5 / np.sqrt(shots)  # |H| <= 2: sd < 1.5/sqrt(N)
    assert 0.5 * np.abs(probs - exact_probs).sum() < 0.03
    assert sum(counts.values()) == shots and set(counts) <= {"0", "1"}
    assert samples.shape == (shots,) and set(np.unique(samples)) <= {-1, 1}


def test_a_qnode_optimisation_reaches_the_minimum(client):
    device = QcoreDevice(wires=2, qpu_id=IDEAL, client=client)

    @qml.qnode(device)
    def energy(theta):
        qml.RY(theta[0], 0)
        qml.CNOT([0, 1])
        return qml.expval(qml.Z(0) + 0.5 * qml.X(0) @ qml.X(1))  # minimum -sqrt(5)/2

    theta = pnp.array([0.5], requires_grad=True)
    optimizer = qml.GradientDescentOptimizer(stepsize=0.4)
    for _ in range(40):
        theta = optimizer.step(energy, theta)
    assert float(energy(theta)) == pytest.approx(-np.sqrt(5) / 2, abs=1e-4)


def test_analytic_probs_are_refused_before_submitting(client):
    @qml.qnode(QcoreDevice(wires=1, qpu_id=IDEAL, client=client))
    def probabilities():
        qml.Hadamard(0)
        return qml.probs(wires=[0])

    with pytest.raises(DeviceError, match="not accepted for analytic"):
        probabilities()
