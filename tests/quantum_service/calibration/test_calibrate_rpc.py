"""The ``Calibrate`` handler: runs the kernel's CalibrationManager and maps errors to codes."""

from __future__ import annotations

import grpc
import pytest
from calibration_helpers import FAST, miscalibrated_driver

from broker.publisher import NullPublisher
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.calibration.manager import CalibrationManager
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.qpus import QpuRegistry
from quantum_service.kernel.store import JobStore
from quantum_service.server.servicer import QuantumServicer


class _Aborted(Exception):
    pass


class _Context:
    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None

    async def abort_with_status(self, status) -> None:
        self.code = status.code
        raise _Aborted(status.details)


def _servicer(driver, *, with_manager: bool = True) -> QuantumServicer:
    kernel = Kernel(QpuRegistry([driver]), JobStore(":memory:"), NullPublisher(), workers=1)
    if with_manager:
        kernel.calibration = CalibrationManager(
            seed=1, settings={driver.capabilities.qpu_id: FAST})
    return QuantumServicer(kernel, sessions=None)


async def test_calibrate_returns_the_new_snapshot(grid_2x2):
    caps, nominal = grid_2x2
    driver = miscalibrated_driver(nominal, nominal, caps)
    response = await _servicer(driver).Calibrate(
        qs_pb2.CalibrateRequest(qpu_id=caps.qpu_id, qubits=[1], force=True), _Context())
    assert response.snapshot.snapshot_id == driver.calibration_snapshot().snapshot_id
    assert list(response.snapshot.recalibrated_qubits) == [1]
    assert response.snapshot.trigger == "on_demand"
    assert "rabi:q1" in response.experiments
    assert response.device_time_s == pytest.approx(driver.calibration_device_time_s)


@pytest.mark.parametrize(("request_kwargs", "with_manager", "code"), [
    ({"qpu_id": "nope"}, True, grpc.StatusCode.NOT_FOUND),
    ({"qpu_id": "sc-cal", "qubits": [9]}, True, grpc.StatusCode.INVALID_ARGUMENT),
    ({"qpu_id": "sc-cal"}, False, grpc.StatusCode.UNAVAILABLE),
])
async def test_calibrate_errors(grid_2x2, request_kwargs, with_manager, code):
    caps, nominal = grid_2x2
    context = _Context()
    with pytest.raises(_Aborted):
        await _servicer(miscalibrated_driver(nominal, nominal, caps),
                        with_manager=with_manager).Calibrate(
            qs_pb2.CalibrateRequest(**request_kwargs), context)
    assert context.code == code
