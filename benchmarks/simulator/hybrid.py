"""The hybrid loop through a real qcore quantum service: VQE steps over an ``OpenSession`` stream.

The service runs in-process on its own asyncio loop in a background thread
(``create_server(QuantumSettings(port=0, db_path=..., telemetry=False))``); the client is the
synchronous SDK (:class:`qcore_client.client.QuantumClient`), which packs each batch of
parameter sets as little-endian float64. The QPU is ``ion-ideal-24`` (noiseless, all-to-all):
the ansatz is compiled once to its native gates when the session opens.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["sdk_ansatz", "session_runner"]

QPU_ID = "ion-ideal-24"


@contextmanager
def _quantum_service() -> Iterator[tuple[str, str]]:
    """Starts the quantum service on a free port; yields its address and an API token."""
    from quantum_service.config import QuantumSettings
    from quantum_service.server.app import create_server

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="qcore-bench-service", daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QuantumSettings(port=0, db_path=Path(tmp) / "jobs.sqlite", telemetry=False)
        server = asyncio.run_coroutine_threadsafe(create_server(settings), loop).result(60)
        try:
            yield server.address, server.tokens.create("bench")
        finally:
            asyncio.run_coroutine_threadsafe(server.stop(0.5), loop).result(30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)


def sdk_ansatz(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
            parameter_count: int):  # -> qcore_client.Circuit
    """The ansatz as an SDK circuit with parameters ``t000``, ``t001``, ... (gate ``index``)."""
    from qcore_client import Circuit, Parameter

    theta = [Parameter(f"t{i:03d}") for i in range(parameter_count)]
    circuit = Circuit(qubit_count, name="bench-hea")
    for g, qubits, index in gates:
        if index < 0:
            circuit.cx(*qubits)
        else:
            getattr(circuit, g)(theta[index], qubits[0])
    return circuit


@contextmanager
def session_runner(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
                   parameter_count: int, terms: Sequence[tuple[str, float]]
                   ) -> Iterator[Callable[[np.ndarray], np.ndarray]]:
    """Yields ``evaluate(x)``: ``x`` float64 ``(m, P)`` → energies ``(m,)`` through a session."""
    from qcore_client.client import QuantumClient

    with _quantum_service() as (address, token), QuantumClient(address, token=token) as client:
        circuit = sdk_ansatz(qubit_count, gates, parameter_count)
        with client.session(circuit, list(terms), qpu_id=QPU_ID) as session:
            order = [int(name[1:]) for name in session.parameters]  # the session's order

            def evaluate(x: np.ndarray) -> np.ndarray:
                batch = np.atleast_2d(x)
                return np.asarray(session.evaluate(batch[:, order]))

            yield evaluate
