"""The Qiskit adapter against a real local stack: BackendV2 counts, Estimator V2 values against
Qiskit's exact Statevector, Sampler V2 PUB broadcasting, and the Target built from a QPU."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("qiskit")

from qiskit import QuantumCircuit, transpile  # noqa: E402
from qiskit.circuit import ClassicalRegister, Parameter, QuantumRegister  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402
from scipy import stats  # noqa: E402

from qcore_client.client import QuantumClient, mitigation_options, to_observable  # noqa: E402
from qcore_client.qiskit import (  # noqa: E402
    QcoreBackend,
    QcoreEstimatorV2,
    QcoreSamplerV2,
    to_qcore_observable,
)

pytestmark = pytest.mark.integration

IDEAL = "ion-ideal-24"
NOISY = "sc-grid-16"


@pytest.fixture(scope="module")
def client(local_stack):
    with QuantumClient(local_stack.quantum_address, token=local_stack.token) as qc:
        yield qc


def _ghz(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n, name=f"ghz{n}")
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    return circuit


def _tvd(counts: dict[str, int], ideal: dict[str, float]) -> float:
    total = sum(counts.values())
    keys = set(counts) | set(ideal)
    return 0.5 * sum(abs(counts.get(k, 0) / total - ideal.get(k, 0.0)) for k in keys)


# -- observables (no server) ----------------------------------------------------------------

def test_sparse_pauli_op_little_endian_labels_become_qcore_strings():
    op = SparsePauliOp.from_list([("XZI", 1.5), ("IIY", -0.25), ("III", 0.5)])
    assert to_qcore_observable(op).to_dict() == {"Z1 X2": 1.5, "Y0": -0.25, "": 0.5}
    message = to_observable(op)  # the SDK accepts a SparsePauliOp wherever an observable goes
    assert {t.pauli_string: t.coefficient for t in message.terms} == {
        "Z1 X2": 1.5, "Y0": -0.25, "": 0.5}
    assert to_qcore_observable("ZX").to_dict() == {"X0 Z1": 1.0}
    # the same matrix: qcore's sparse matrix of the converted sum equals Qiskit's operator
    np.testing.assert_allclose(to_qcore_observable(op).matrix(), op.to_matrix(), atol=1e-12)


def test_complex_coefficients_are_rejected():
    with pytest.raises(ValueError, match="not real"):
        to_observable(SparsePauliOp.from_list([("XY", 1j)]))


# -- backend --------------------------------------------------------------------------------

def test_target_is_built_from_the_qpu_description(client):
    noisy = QcoreBackend(NOISY, client=client)
    qpu = client.get_qpu(NOISY)
    assert noisy.num_qubits == qpu.qubit_count == 16
    assert set(noisy.target.operation_names) == {g.name for g in qpu.native_gates} | {
        "measure", "reset"}
    edges = {(c.qubit_a, c.qubit_b) for c in qpu.coupling_map}
    assert set(noisy.target["cz"]) == edges | {(b, a) for a, b in edges}
    cz = next(g for g in qpu.native_gates if g.name == "cz")
    assert noisy.target["cz"][(0, 1)].duration == pytest.approx(cz.duration_ns * 1e-9)
    assert 0 < noisy.target["cz"][(0, 1)].error < 0.1
    assert 0 < noisy.target["measure"][(0,)].error < 0.1
    assert noisy.target.qubit_properties[0].t1 == pytest.approx(
        qpu.calibration.qubits[0].t1_us * 1e-6)
    ideal = QcoreBackend(IDEAL, client=client)
    assert len(ideal.target["rxx"]) == 24 * 23  # all-to-all
    assert ideal.target["rxx"][(3, 17)].error == pytest.approx(0.0)


def test_bell_counts_on_the_ideal_qpu_pass_a_chi_square_test(client):
    backend = QcoreBackend(IDEAL, client=client)
    counts = backend.run(_ghz(2), shots=4000, seed_simulator=11).result().get_counts()
    assert set(counts) == {"00", "11"}
    assert stats.chisquare([counts["00"], counts["11"]]).pvalue > 1e-3


def test_ghz_counts_transpiled_and_not_match_the_ideal_distribution(client):
    ideal = {"000": 0.5, "111": 0.5}
    backend = QcoreBackend(IDEAL, client=client)
    job = backend.run([_ghz(3), transpile(_ghz(3), backend, optimization_level=1)], shots=4000,
                      seed_simulator=5)
    result = job.result()
    assert job.status().name == "DONE"
    for index in range(2):
        assert _tvd(result.get_counts(index), ideal) < 0.03  # 4000 shots: sd of TVD ~ 0.006
    noisy = QcoreBackend(NOISY, client=client)
    counts = noisy.run(transpile(_ghz(3), noisy), shots=4000, seed_simulator=5).result() \
        .get_counts()
    # a noisy device: mostly GHZ, measurably not ideal (gate, decoherence and readout errors)
    assert 0.005 < _tvd(counts, ideal) < 0.2


def test_registers_are_kept_apart_and_in_qiskit_order(client):
    q, a, b = QuantumRegister(3), ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    circuit = QuantumCircuit(q, a, b)
    circuit.x(0)
    circuit.x(2)
    circuit.measure(0, a[0])
    circuit.measure(1, b[0])
    circuit.measure(2, b[1])
    counts = QcoreBackend(IDEAL, client=client).run(circuit, shots=50).result().get_counts()
    assert counts == {"10 1": 50}  # register b (q2 q1) then a (q0), highest clbit first


def test_unbound_parameters_are_refused_before_submitting(client):
    circuit = QuantumCircuit(1)
    circuit.rx(Parameter("t"), 0)
    circuit.measure_all()
    backend = QcoreBackend(IDEAL, client=client)
    with pytest.raises(ValueError, match="unbound parameters"):
        backend.run(circuit)
    with pytest.raises(ValueError, match="unknown run options"):
        backend.run(_ghz(2), shot=10)


# -- estimator ------------------------------------------------------------------------------

def _ansatz() -> QuantumCircuit:
    a, c = Parameter("a"), Parameter("c")
    circuit = QuantumCircuit(3)
    circuit.ry(a, 0)
    circuit.rx(2 * c - 0.3, 1)
    circuit.cx(0, 1)
    circuit.rz(-c / 2, 1)
    circuit.cx(1, 2)
    circuit.h(2)
    return circuit


OBSERVABLES = [[SparsePauliOp.from_list([("IZI", 1.0), ("XXI", 0.5)])],
               [SparsePauliOp.from_list([("ZIZ", -0.7), ("YYX", 0.2)])],
               [SparsePauliOp("IIZ")]]
PARAMETERS = np.array([[0.1, 0.3], [0.5, 0.2], [1.0, 2.0], [0.7, -0.4]])


def _exact(circuit, observables, parameters) -> np.ndarray:
    return np.array([[Statevector(circuit.assign_parameters(p)).expectation_value(o[0]).real
                      for p in parameters] for o in observables])


def test_estimator_exact_values_broadcast_like_qiskit(client):
    circuit = _ansatz()
    job = QcoreEstimatorV2(qpu_id=IDEAL, client=client).run(
        [(circuit, OBSERVABLES, PARAMETERS), (circuit, OBSERVABLES[0][0], PARAMETERS[2])])
    first, second = job.result()
    assert first.data.evs.shape == first.data.stds.shape == (3, 4)
    np.testing.assert_allclose(first.data.evs, _exact(circuit, OBSERVABLES, PARAMETERS),
                               atol=1e-10)
    assert np.all(first.data.stds == 0) and first.metadata["shots"] == 0
    # every parameter row meets all 3 observables: one qcore job measures them together
    assert len(first.metadata["qcore_job_ids"]) == 1
    assert second.data.evs.shape == ()
    assert float(second.data.evs) == pytest.approx(
        _exact(circuit, OBSERVABLES[:1], PARAMETERS[2:3])[0, 0], abs=1e-10)


def test_estimator_pairs_rows_with_their_own_observables(client):
    """Observables of shape (3,) against 3 parameter rows pair them up: each row meets one
    observable, so each is its own qcore job, and no unneeded pair is evaluated."""
    circuit = _ansatz()
    observables = [o[0] for o in OBSERVABLES]
    result = QcoreEstimatorV2(qpu_id=IDEAL, client=client).run(
        [(circuit, observables, PARAMETERS[:3])]).result()[0]
    assert result.data.evs.shape == (3,)
    np.testing.assert_allclose(result.data.evs, np.diag(_exact(circuit, OBSERVABLES,
                                                               PARAMETERS[:3])), atol=1e-10)
    assert len(result.metadata["qcore_job_ids"]) == 3


def test_estimator_precision_sets_shots_and_standard_errors(client):
    circuit = _ansatz()
    result = QcoreEstimatorV2(qpu_id=IDEAL, client=client, seed=3).run(
        [(circuit, OBSERVABLES, PARAMETERS)], precision=0.02).result()[0]
    assert result.metadata["shots"] == math.ceil(1 / 0.02**2)
    stds = result.data.stds
    assert np.all(stds > 0) and np.all(stds < 0.05)
    z = (result.data.evs - _exact(circuit, OBSERVABLES, PARAMETERS)) / stds
    assert np.all(np.abs(z) < 5)


def test_estimator_zero_noise_extrapolation_on_a_noisy_qpu(client):
    """ZNE through the estimator: closer to the exact values than the unmitigated ones."""
    circuit = _ansatz()
    observables = [[SparsePauliOp.from_list([("IZI", 1.0), ("XXI", 0.5)])]]
    exact = _exact(circuit, observables, PARAMETERS[:2])
    options = dict(qpu_id="ion-chain-11", client=client, seed=5, readout_mitigation=True)
    plain = QcoreEstimatorV2(**options).run([(circuit, observables, PARAMETERS[:2])]).result()[0]
    zne = QcoreEstimatorV2(**options, mitigation=mitigation_options(
        zne=True, extrapolation="exponential")).run(
        [(circuit, observables, PARAMETERS[:2])]).result()[0]
    assert np.all(np.abs(zne.data.evs - exact) < np.abs(plain.data.evs - exact))


def test_estimator_binds_non_affine_parameters_client_side(client):
    t = Parameter("t")
    circuit = QuantumCircuit(1)
    circuit.ry(t * t, 0)  # not an affine form: bound before sending
    values = np.array([[0.3], [1.2]])
    result = QcoreEstimatorV2(qpu_id=IDEAL, client=client).run(
        [(circuit, SparsePauliOp("Z"), values)]).result()[0]
    np.testing.assert_allclose(result.data.evs, np.cos(values[:, 0] ** 2), atol=1e-10)


# -- sampler --------------------------------------------------------------------------------

def test_sampler_broadcasts_parameter_values_into_bit_arrays(client):
    theta, phi = Parameter("theta"), Parameter("phi")
    q = QuantumRegister(3)
    first, second = ClassicalRegister(1, "first"), ClassicalRegister(2, "second")
    circuit = QuantumCircuit(q, first, second)
    circuit.rx(theta, 0)
    circuit.rx(phi, 2)
    circuit.cx(0, 1)
    circuit.measure(0, first[0])
    circuit.measure(1, second[0])
    circuit.measure(2, second[1])
    # angles 0 or pi: every outcome is certain, so each location's counts are known exactly;
    # values are in circuit.parameters order (Qiskit sorts by name: phi, theta)
    values = np.array([[[0, 0], [math.pi, 0], [0, math.pi]],
                       [[math.pi, math.pi], [0, 0], [math.pi, 0]]])  # shape (2, 3, 2)
    result = QcoreSamplerV2(qpu_id=IDEAL, client=client, seed=1).run(
        [(circuit, values, 64), (_ghz(2),)], shots=32).result()
    data = result[0].data
    assert data.first.shape == data.second.shape == (2, 3)
    assert data.first.num_shots == 64 and data.second.num_bits == 2
    for index in np.ndindex(2, 3):
        x2 = int(round(values[index][0] / math.pi))  # phi on qubit 2
        x0 = int(round(values[index][1] / math.pi))  # theta on qubit 0
        assert data.first.get_counts(loc=index) == {str(x0): 64}
        assert data.second.get_counts(loc=index) == {f"{x2}{x0}": 64}
    ghz = result[1].data.meas
    assert ghz.shape == () and ghz.num_shots == 32
    assert set(ghz.get_counts()) <= {"00", "11"}
    assert result[1].metadata["truncation_error"] == 0.0  # an exact state-vector engine


def test_sampler_refuses_a_circuit_that_measures_nothing(client):
    circuit = QuantumCircuit(1)
    circuit.h(0)
    with pytest.raises(ValueError):
        QcoreSamplerV2(qpu_id=IDEAL, client=client).run([circuit])
