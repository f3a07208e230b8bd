"""``GetQpu``/``ListQpus`` over real gRPC: capability flags, properties and live status."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc
from qcore_client.auth import bearer_interceptors
from quantum_service.config import QuantumSettings
from quantum_service.drivers.fleet import superconducting_grid
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.server.app import QuantumServer, create_server

#: Flags every fleet QPU reports, then per QPU what differs from them.
COMMON = {"gradients": True, "readout_mitigation": True, "mid_circuit_measurement": True,
          "multi_programming": True}
#: Circuit-level mitigation: ZNE and twirling on the plain simulated QPUs, decoupling where idle
#: qubits decohere (noisy), none on the post-selecting ones.
NOISY_MITIGATION = {"zero_noise_extrapolation": True, "pauli_twirling": True,
                    "dynamical_decoupling": True}
IDEAL_MITIGATION = {**NOISY_MITIGATION, "dynamical_decoupling": False}
NO_MITIGATION = dict.fromkeys(NOISY_MITIGATION, False)
SUPPORTS = {
    "sc-grid-16": {"post_selection": False, "adjoint_gradients": False, "calibration": True,
                   **NOISY_MITIGATION},
    "sc-wukong-72": {"post_selection": False, "adjoint_gradients": False, "calibration": True,
                     **NOISY_MITIGATION},
    "sc-eagle-127": {"post_selection": False, "adjoint_gradients": False, "calibration": True,
                     **NOISY_MITIGATION},
    "ion-chain-11": {"post_selection": False, "adjoint_gradients": False, "calibration": True,
                     **NOISY_MITIGATION},
    "ion-ideal-24": {"post_selection": False, "adjoint_gradients": True, "calibration": False,
                     **IDEAL_MITIGATION},
    "na-array-16": {"post_selection": True, "atom_loss": True, "adjoint_gradients": False,
                    "calibration": True, **NO_MITIGATION},
    "ph-dualrail-8": {"post_selection": True, "heralded_two_qubit_gates": True,
                      "photon_loss": True, "adjoint_gradients": False, "calibration": True,
                      "mid_circuit_measurement": False, **NO_MITIGATION},
}
PROPERTIES = {
    "sc-grid-16": {"max_simulated_qubits": 16.0, "feed_forward_latency_ns": 700.0},
    "sc-wukong-72": {"max_simulated_qubits": 72.0, "feed_forward_latency_ns": 700.0},
    "sc-eagle-127": {"max_simulated_qubits": 127.0, "feed_forward_latency_ns": 700.0},
    "ion-chain-11": {"max_simulated_qubits": 11.0, "feed_forward_latency_ns": 50_000.0},
    "ion-ideal-24": {"max_simulated_qubits": 24.0, "feed_forward_latency_ns": 50_000.0},
    "na-array-16": {"max_simulated_qubits": 16.0, "feed_forward_latency_ns": 1e6,
                    "blockade_radius_um": 7.57,
                    "min_atom_spacing_um": 5.0, "atom_loss_per_shot": 0.005},
    "ph-dualrail-8": {"max_simulated_qubits": 8.0, "two_qubit_herald_success": 0.25,
                      "photon_loss_per_component": 0.01, "source_efficiency": 0.57,
                      "detector_efficiency": 0.90},
}


async def _serve(tmp_path: Path, drivers=None) -> QuantumServer:
    return await create_server(QuantumSettings(port=0, db_path=tmp_path / "jobs.sqlite",
                                               telemetry=False, grace_s=0.1), drivers=drivers)


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[qs_grpc.QuantumServiceStub]:
    server = await _serve(tmp_path)
    channel = grpc.aio.insecure_channel(
        server.address, interceptors=bearer_interceptors(server.tokens.create("alice")))
    try:
        yield qs_grpc.QuantumServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(0.1)


@pytest.mark.parametrize("qpu_id", sorted(SUPPORTS))
async def test_get_qpu_carries_supports_and_properties(fleet, qpu_id):
    qpu = (await fleet.GetQpu(qs_pb2.GetQpuRequest(qpu_id=qpu_id))).qpu
    assert dict(qpu.supports) == {**COMMON, **SUPPORTS[qpu_id]}
    assert dict(qpu.properties) == pytest.approx(PROPERTIES[qpu_id], rel=1e-3)
    assert qpu.status == common_pb2.QPU_STATUS_ONLINE


async def test_list_qpus_carries_the_same_description(fleet):
    listed = {q.qpu_id: q for q in (await fleet.ListQpus(qs_pb2.ListQpusRequest())).qpus}
    assert set(SUPPORTS) <= set(listed)
    for qpu_id in SUPPORTS:
        one = (await fleet.GetQpu(qs_pb2.GetQpuRequest(qpu_id=qpu_id))).qpu
        assert listed[qpu_id].supports == one.supports
        assert listed[qpu_id].properties == one.properties


async def test_get_qpu_reports_calibrating_while_calibrate_runs(tmp_path: Path):
    caps, nominal = superconducting_grid("sc-rpc", rows=2, cols=2, seed=5)
    server = await _serve(tmp_path, drivers=[SimulatedQpuDriver(caps, nominal)])
    manager = server.kernel.calibration
    started, release = threading.Event(), threading.Event()
    calibrate = manager.calibrate

    def held(*args, **kwargs):  # the experiments wait until the test has looked
        started.set()
        release.wait(30.0)
        return calibrate(*args, **kwargs)

    manager.calibrate = held
    channel = grpc.aio.insecure_channel(  # Calibrate is admin-only
        server.address, interceptors=bearer_interceptors(server.tokens.create("root",
                                                                              admin=True)))
    stub = qs_grpc.QuantumServiceStub(channel)
    try:
        call = asyncio.ensure_future(stub.Calibrate(qs_pb2.CalibrateRequest(
            qpu_id="sc-rpc", qubits=[0], force=True)))
        assert await asyncio.to_thread(started.wait, 30.0)
        during = (await stub.GetQpu(qs_pb2.GetQpuRequest(qpu_id="sc-rpc"))).qpu
        listed = (await stub.ListQpus(qs_pb2.ListQpusRequest())).qpus
        release.set()
        response = await call
        after = (await stub.GetQpu(qs_pb2.GetQpuRequest(qpu_id="sc-rpc"))).qpu
    finally:
        release.set()
        await channel.close()
        await server.stop(0.1)
    assert during.status == common_pb2.QPU_STATUS_CALIBRATING
    assert [q.status for q in listed] == [common_pb2.QPU_STATUS_CALIBRATING]
    assert list(response.snapshot.recalibrated_qubits) == [0]
    assert after.status == common_pb2.QPU_STATUS_ONLINE
    assert after.calibration.snapshot_id == response.snapshot.snapshot_id
