"""The user-path programs: deterministic per variant, of the requested size, readable by qcore's
parser (and by the peers' parsers where they are installed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.user_path import programs
from quantum_service.circuits.qasm import parse_qasm


@pytest.mark.parametrize("kind", programs.PROGRAM_KINDS)
def test_same_variant_same_text_other_variant_other_text(kind: str) -> None:
    a = programs.build(kind, 6, 1, layers=3, gate_count=200)
    assert a.text == programs.build(kind, 6, 1, layers=3, gate_count=200).text
    assert a.text != programs.build(kind, 6, 2, layers=3, gate_count=200).text


@pytest.mark.parametrize("kind", programs.PROGRAM_KINDS)
def test_qcore_parses_every_kind_with_its_gate_count(kind: str) -> None:
    program = programs.build(kind, 5, 1, layers=2, gate_count=100)
    circuit = parse_qasm(program.text)
    measures = sum(op.name == "measure" for op in circuit.operations)
    assert circuit.qubit_count == 5 and measures == 5
    assert len(circuit.operations) - measures == program.gate_count


def test_sized_program_reaches_the_requested_size_within_one_layer() -> None:
    program = programs.sized_program(20_000, 1)
    assert 20_000 <= program.size_bytes < 20_000 + 2_000
    assert program.qubit_count == 16


def test_qv_blocks_pair_distinct_qubits_and_cover_the_width() -> None:
    gates = programs.qv_gates(6, 1, depth=2)
    cx = [q for g, q, _ in gates if g == "cx"]
    assert all(a != b for a, b in cx)
    assert len(cx) == 2 * 3 * 3  # depth × pairs × 3 cx per block
    assert {q for pair in cx for q in pair} == set(range(6))


def test_qft_text_uses_qelib1_gates_and_matches_qiskit() -> None:
    qasm2 = pytest.importorskip("qiskit.qasm2")
    from qiskit.quantum_info import Statevector

    program = programs.build("qft", 4, 3, measured=False)
    state = Statevector(qasm2.loads(program.text)).data
    # QFT of a basis state: every amplitude has magnitude 2**(-n/2).
    assert np.allclose(np.abs(state), 1 / math.sqrt(16), atol=1e-12)
