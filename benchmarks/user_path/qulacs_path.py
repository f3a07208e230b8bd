"""qulacs's user path: its own OpenQASM converter, then simulate and sample.

``qulacs.converter.convert_QASM_to_qulacs_circuit`` reads one statement per line, a register
named ``q``, and a fixed gate list (no ``creg``/``measure``, no ``cp``, numeric angles only). The
text's ``creg`` and ``measure`` lines are dropped before it is called (timed: qulacs samples
every qubit instead). Where the converter cannot read a program (:class:`ConverterError`), the
runner uses :func:`counts` with ``via_converter=False``: the circuit is built from the gate list
through qulacs's API, timed in place of parsing, and the report says so.

Counts: ``QuantumState.sampling(shot_count)`` then ``collections.Counter`` (a user's
histogram). Expectation values: ``Observable.get_expectation_value``. Threads:
``OMP_NUM_THREADS`` (set by the runner).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import qulacs
from qulacs import QuantumCircuit, QuantumState
from qulacs.converter import convert_QASM_to_qulacs_circuit

from benchmarks.simulator import peer_qulacs
from benchmarks.user_path.outcome import Outcome, mean_hamming_weight
from benchmarks.user_path.programs import Program

__all__ = ["ConverterError", "counts", "expectation", "open_session", "version"]


class ConverterError(ValueError):
    """qulacs's converter cannot read the program (the message names the line)."""


def version() -> str:
    return f"qulacs {qulacs.__version__}"


def _convert(text: str) -> QuantumCircuit:
    lines = [ln for ln in text.splitlines() if not ln.startswith(("creg", "measure"))]
    try:
        return convert_QASM_to_qulacs_circuit(lines)
    except (RuntimeError, AssertionError, IndexError, ValueError) as error:
        raise ConverterError(f"qulacs.converter cannot read this program "
                             f"({type(error).__name__}: {str(error)[:80]})") from None


def _circuit(program: Program, via_converter: bool) -> QuantumCircuit:
    if via_converter:
        return _convert(program.text)
    circuit = QuantumCircuit(program.qubit_count)
    for g, qubits, angles in program.gates:
        peer_qulacs.add_gate(circuit, g, qubits, angles)
    return circuit


def counts(program: Program, *, shot_count: int, via_converter: bool = True) -> Outcome:
    start = time.perf_counter()
    circuit = _circuit(program, via_converter)
    parsed = time.perf_counter()
    state = QuantumState(program.qubit_count)
    circuit.update_quantum_state(state)
    histogram = Counter(state.sampling(shot_count))
    end = time.perf_counter()
    return Outcome(end - start, mean_hamming_weight(histogram.items()),
                   {"parse": parsed - start, "run": end - parsed})


def expectation(program: Program, terms: Sequence[tuple[str, float]], *,
                via_converter: bool = True) -> Outcome:
    start = time.perf_counter()
    circuit = _circuit(program, via_converter)
    observable = peer_qulacs.pauli_observable(program.qubit_count, terms)
    parsed = time.perf_counter()
    state = QuantumState(program.qubit_count)
    circuit.update_quantum_state(state)
    value = float(observable.get_expectation_value(state))
    end = time.perf_counter()
    return Outcome(end - start, value, {"parse": parsed - start, "run": end - parsed})


def open_session(qubit_count: int, gates: Sequence[tuple[str, tuple[int, ...], int]],
                 parameter_count: int, terms: Sequence[tuple[str, float]]
                 ) -> tuple[Callable[[np.ndarray], Outcome], Callable[[], None]]:
    """A parametric circuit and observable built once; ``step(x)`` sets the parameters,
    simulates from |0> and takes the expectation value (:func:`benchmarks.simulator.peer_qulacs.vqe`)."""
    del parameter_count  # qulacs numbers its parameters by gate
    run = peer_qulacs.vqe(qubit_count, gates, terms)

    def step(x: np.ndarray) -> Outcome:
        start = time.perf_counter()
        value = run(x)
        return Outcome(time.perf_counter() - start, float(value))

    return step, lambda: None
