"""qcore's user path: OpenQASM text submitted to a running quantum service with the Python SDK.

A run is timed on the client from just before ``SubmitJob`` to the result in hand
(:meth:`QuantumClient.wait` returns the final job with its result). The job's own timestamps
split the time: ``submit`` is the ``SubmitJob`` call (the service validates the program and
queues the job before it returns), ``queued`` is ``start_time - create_time``, ``running`` is
``end_time - start_time`` (execution on the QPU's lane), and ``delivery`` runs from
``end_time`` to the result in the client's hands (state notification, ``GetJob`` with the
result, decoding). The service runs in another process of the same machine, so its wall clock
is the client's; the parts overlap by the moments between ``create_time`` and the return of
``SubmitJob``, so they add up to the total only to within those.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from qcore.v1 import common_pb2
from qcore_client.client import QuantumClient

from benchmarks.user_path.outcome import Outcome, mean_hamming_weight

__all__ = ["JobFailedError", "QcorePath", "parse_seconds", "version"]

def version() -> str:
    import numba

    return f"qcore service over gRPC (grpcio {_grpc_version()}, numba {numba.__version__})"


def _grpc_version() -> str:
    import grpc

    return grpc.__version__


def parse_seconds(text: str) -> float:
    """Wall time of qcore's parser (:func:`quantum_service.circuits.qasm.parse_qasm`) on
    ``text``, seconds."""
    from quantum_service.circuits.qasm import parse_qasm

    start = time.perf_counter()
    parse_qasm(text)
    return time.perf_counter() - start


class JobFailedError(RuntimeError):
    """A job ended in a state other than SUCCEEDED."""


class QcorePath:
    """A client of a running quantum service.

    Args:
        address: ``host:port`` of the service.
        qpu_id: the QPU every job and session targets.
        timeout_s: deadline of unary calls (``SubmitJob``, ``GetJob``).
    """

    def __init__(self, address: str, *, qpu_id: str, timeout_s: float) -> None:
        # the token: QCORE_TOKEN, set by the runner (see benchmarks.user_path.server)
        self.client = QuantumClient(address, timeout_s=timeout_s)
        self.qpu_id = qpu_id

    def close(self) -> None:
        self.client.close()

    def _job(self, text: str, **fields: object) -> tuple[common_pb2.Job, dict[str, float]]:
        start = time.perf_counter()
        job = self.client.submit_job(text, qpu_id=self.qpu_id, **fields)
        submitted = time.perf_counter()
        final = self.client.wait(job.job_id)
        done, done_wall = time.perf_counter(), time.time()
        if final.state != common_pb2.JOB_STATE_SUCCEEDED:
            raise JobFailedError(f"job {final.job_id} ended "
                                 f"{common_pb2.JobState.Name(final.state)}: "
                                 f"{final.error_message}")
        created = final.create_time.ToNanoseconds() * 1e-9
        began = final.start_time.ToNanoseconds() * 1e-9
        ended = final.end_time.ToNanoseconds() * 1e-9
        parts = {"submit": submitted - start, "queued": began - created,
                 "running": ended - began, "delivery": done_wall - ended,
                 "total": done - start}
        return final, parts

    def counts(self, text: str, *, shot_count: int) -> Outcome:
        """Submits ``text`` for ``shot_count`` shots; waits for the counts."""
        final, parts = self._job(text, shot_count=shot_count)
        total = parts.pop("total")
        return Outcome(total, mean_hamming_weight(dict(final.result.experiments[0].counts)),
                       parts)

    def expectation(self, text: str, terms: Sequence[tuple[str, float]]) -> Outcome:
        """Submits ``text`` with the observable ``terms``, ``shot_count`` 0 (exact)."""
        final, parts = self._job(text, observable=list(terms), shot_count=0)
        total = parts.pop("total")
        return Outcome(total, float(final.result.experiments[0].expectation_value), parts)

    def accept(self, text: str, *, shot_count: int) -> dict[str, float]:
        """Submits a (large) program: seconds until ``SubmitJob`` returned (``accept_s``) and
        until the result arrived (``result_s``)."""
        final, parts = self._job(text, shot_count=shot_count)
        return {"accept_s": parts["submit"], "result_s": parts["total"],
                "check": mean_hamming_weight(dict(final.result.experiments[0].counts))}

    def open_session(self, qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
                     parameter_count: int, terms: Sequence[tuple[str, float]]
                     ) -> tuple[Callable[[np.ndarray], Outcome], Callable[[], None]]:
        """Opens a session (not timed); returns ``(step, close)``: ``step(x)`` times one
        evaluation of the parameter set ``x`` (float64 ``(parameter_count,)``)."""
        from benchmarks.simulator.hybrid import sdk_ansatz

        circuit = sdk_ansatz(qubit_count, gates, parameter_count)
        session = self.client.session(circuit, list(terms), qpu_id=self.qpu_id)
        order = [int(name[1:]) for name in session.parameters]  # the session's order

        def step(x: np.ndarray) -> Outcome:
            values = np.asarray(x)[order]
            start = time.perf_counter()
            value = session.evaluate(values)
            return Outcome(time.perf_counter() - start, float(value[0]))

        return step, session.close
