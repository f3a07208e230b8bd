"""Qiskit Aer's user path: ``qiskit.qasm2.loads`` of the same text, then ``AerSimulator().run``.

Counts: ``AerSimulator(max_parallel_threads=T).run(circuit, shots=1000).result().get_counts()``
(method ``automatic``: a state vector with measurement sampling for these circuits).
Expectation values: ``EstimatorV2`` of qiskit-aer on the parsed circuit and a
``SparsePauliOp`` built from the terms (exact: no ``precision``). Parsing, building the
operator, simulating and sampling are all timed. Threads: ``OMP_NUM_THREADS`` (set by the
runner), passed as ``max_parallel_threads``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

import numpy as np
import qiskit
import qiskit.qasm2
import qiskit_aer
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import EstimatorV2

from benchmarks.simulator import peer_aer
from benchmarks.user_path.outcome import Outcome, mean_hamming_weight

__all__ = ["counts", "expectation", "open_session", "parse_seconds", "version"]

_THREADS = int(os.environ.get("OMP_NUM_THREADS", "2"))


def version() -> str:
    return f"qiskit-aer {qiskit_aer.__version__} (qiskit {qiskit.__version__})"


def parse_seconds(text: str) -> float:
    """Wall time of ``qiskit.qasm2.loads(text)``, seconds."""
    start = time.perf_counter()
    qiskit.qasm2.loads(text)
    return time.perf_counter() - start


def counts(text: str, *, shot_count: int) -> Outcome:
    start = time.perf_counter()
    circuit = qiskit.qasm2.loads(text)
    parsed = time.perf_counter()
    result = AerSimulator(max_parallel_threads=_THREADS).run(circuit, shots=shot_count).result()
    histogram = result.get_counts()
    end = time.perf_counter()
    return Outcome(end - start, mean_hamming_weight(histogram),
                   {"parse": parsed - start, "run": end - parsed})


def expectation(text: str, qubit_count: int, terms: Sequence[tuple[str, float]]) -> Outcome:
    start = time.perf_counter()
    circuit = qiskit.qasm2.loads(text)
    operator = peer_aer.pauli_operator(qubit_count, terms)
    parsed = time.perf_counter()
    estimator = EstimatorV2(options={"backend_options": {"max_parallel_threads": _THREADS}})
    value = float(estimator.run([(circuit, operator)]).result()[0].data.evs)
    end = time.perf_counter()
    return Outcome(end - start, value, {"parse": parsed - start, "run": end - parsed})


def open_session(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
                 parameter_count: int, terms: Sequence[tuple[str, float]]
                 ) -> tuple[Callable[[np.ndarray], Outcome], Callable[[], None]]:
    """A parametric circuit and operator built once; ``step(x)`` binds ``x`` and runs the
    estimator (:func:`benchmarks.simulator.peer_aer.vqe`)."""
    run = peer_aer.vqe(qubit_count, gates, terms, parameter_count=parameter_count)

    def step(x: np.ndarray) -> Outcome:
        start = time.perf_counter()
        value = run(x)
        return Outcome(time.perf_counter() - start, float(value))

    return step, lambda: None
