"""Counts after routing equal the logical circuit's exact outcome distribution.

Run on a noiseless copy of every coupling-map QPU that :func:`load_drivers` finds (same qubit
count, coupling map, native gates and simulable width; noise switched off), so any deviation
beyond shot noise is a wrong classical bit, not an error model. The reference distribution is
computed independently: the *uncompiled* logical circuit is simulated densely by
:func:`~quantum_service.simulator.reference.reference_statevector` from the gate library's
matrices, and each ``measure`` reads its logical qubit.

Statistic: Pearson's chi-square goodness-of-fit test, outcomes with an expected count below 5
pooled into one cell (Cochran's rule; Cochran, "Some methods for strengthening the common χ²
tests", Biometrics 10, 417 (1954)); a program passes when ``p > 1e-6``. An outcome of exact
probability 0 that is observed at all fails at once.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import scipy.stats

from quantum_service.circuits.gates import gate_matrix
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.circuits.qasm import parse_qasm
from quantum_service.compiler import OPTIMIZATION_LEVELS, CompileTarget, compile_circuit
from quantum_service.drivers.fleet import superconducting_grid
from quantum_service.contract import ExecutionOptions, QpuDriver
from quantum_service.drivers.registry import load_drivers
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.simulator.reference import reference_statevector

SHOTS = 20_000
P_THRESHOLD = 1e-6

COUPLED = [d for d in load_drivers() if d.capabilities.coupling_map is not None]


def noiseless_copy(driver: QpuDriver) -> SimulatedQpuDriver:
    """The device with noise off: same capabilities (``max_simulated_qubits`` included)."""
    caps = dataclasses.replace(driver.capabilities, noisy=False)
    return SimulatedQpuDriver(caps, driver.calibration_snapshot().parameters, drift=False)


def device_target(caps) -> CompileTarget:
    return CompileTarget(qubit_count=caps.qubit_count, native_gates=caps.native_gate_names,
                         coupling_map=caps.coupling_map,
                         max_active_qubits=caps.max_simulated_qubits)


# -- programs --------------------------------------------------------------------------------


def _op(name: str, *qubits: int, params: tuple[float, ...] = ()) -> Operation:
    return Operation(name, tuple(qubits), tuple(ParameterExpression(p) for p in params))


def _measure(qubit: int, clbit: int) -> Operation:
    return Operation("measure", (qubit,), (), (clbit,))


def phase_estimation(counting: int, phase: float) -> Circuit:
    """QPE of ``p(2π·phase)`` with ``counting`` counting qubits (0..counting-1) and the target
    qubit ``counting`` in |1>; a non-dyadic phase gives a peaked, asymmetric distribution.
    Counting qubit ``j`` is measured into clbit ``counting - 1 - j`` (bit reversal); the
    qubits finish at different times, so a router may move finished qubits aside."""
    t = counting
    ops = [_op("x", t)] + [_op("h", j) for j in range(counting)]
    for j in range(counting):
        ops.append(_op("cp", j, t, params=(2 * math.pi * phase * 2 ** j,)))
    # inverse QFT on counting register (reversed qubit order), measuring each qubit when done
    order = list(reversed(range(counting)))
    n = len(order)
    for j in reversed(range(n)):
        for k in reversed(range(j + 1, n)):
            ops.append(_op("cp", order[k], order[j], params=(-math.pi / 2 ** (k - j),)))
        ops.append(_op("h", order[j]))
    ops += [_measure(q, counting - 1 - q) for q in range(counting)]
    return Circuit(counting + 1, tuple(ops), counting, name=f"qpe_n{counting + 1}")


QFT4_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[4];
creg c[4];
ry(0.4) q[0];
ry(1.3) q[1];
rx(2.1) q[2];
ry(0.7) q[3];
cx q[0], q[2];
h q[3];
cu1(pi/2) q[2], q[3];
cu1(pi/4) q[1], q[3];
cu1(pi/8) q[0], q[3];
h q[2];
cu1(pi/2) q[1], q[2];
cu1(pi/4) q[0], q[2];
h q[1];
cu1(pi/2) q[0], q[1];
h q[0];
swap q[0], q[3];
measure q[3] -> c[1];
swap q[1], q[2];
measure q[0] -> c[2];
measure q[1] -> c[0];
measure q[2] -> c[3];
"""

#: Simon's algorithm for s = 110 on 3 + 3 qubits; the oracle register is measured first.
SIMON6_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[6];
creg c[6];
h q[0];
h q[1];
h q[2];
cx q[0], q[3];
cx q[1], q[4];
cx q[2], q[5];
cx q[1], q[4];
cx q[1], q[5];
x q[3];
measure q[3] -> c[5];
measure q[4] -> c[4];
measure q[5] -> c[3];
h q[0];
h q[1];
h q[2];
measure q[0] -> c[2];
measure q[1] -> c[0];
measure q[2] -> c[1];
"""


def random_circuit(seed: int = 8) -> Circuit:
    """8 qubits: layers of random rotations and long-range CX; 6 qubits measured into permuted
    classical bits, some of them before the last layers."""
    rng = np.random.default_rng(seed)
    n = 8
    ops: list[Operation] = []
    clbit_of = {0: 4, 2: 0, 3: 5, 5: 2, 6: 1, 7: 3}
    early = {3, 6}
    for layer in range(6):
        for q in range(n):
            if layer >= 3 and q in early:
                continue
            ops.append(_op("ry", q, params=(float(rng.uniform(0, np.pi)),)))
            ops.append(_op("rz", q, params=(float(rng.uniform(-np.pi, np.pi)),)))
        live = [q for q in rng.permutation(n).tolist() if not (layer >= 3 and q in early)]
        for a, b in zip(live[0::2], live[1::2]):
            ops.append(_op("cx", a, b))
        if layer == 2:
            ops += [_measure(q, clbit_of[q]) for q in sorted(early)]
    ops += [_measure(q, c) for q, c in clbit_of.items() if q not in early]
    return Circuit(n, tuple(ops), 6, name="random_n8")


def ghz_line(n: int = 10) -> Circuit:
    """GHZ-10 built along a scrambled line of logical qubits, then X on every other qubit, so
    the two outcomes are alternating strings and a wrong qubit read breaks them; the chain's
    first qubits are measured before the chain ends."""
    chain = [0, 5, 9, 2, 7, 4, 1, 8, 3, 6][:n]
    ops = [_op("h", chain[0])]
    for a, b in itertools.pairwise(chain):
        ops.append(_op("cx", a, b))
    ops += [_op("x", q) for q in range(0, n, 2)]
    ops += [_measure(q, (3 * q + 1) % n) for q in range(n)]
    return Circuit(n, tuple(ops), n, name=f"ghz_n{n}")


def cuccaro_adder() -> Circuit:
    """10 qubits: Cuccaro et al.'s ripple-carry adder (arXiv:quant-ph/0410184) of two 4-bit
    registers, ``b ← a + b`` with carry-out; inputs in superposition (H on a0, a2, b1; X on a1,
    b3), so the outputs are a non-uniform function of the inputs. Qubits: cin 0, a_i = 1 + 2i,
    b_i = 2 + 2i, cout 9. The a register and the sum are measured."""
    cin, cout = 0, 9
    a = [1, 3, 5, 7]
    b = [2, 4, 6, 8]
    ops = [_op("h", a[0]), _op("h", a[2]), _op("h", b[1]), _op("x", a[1]), _op("x", b[3]),
           _op("ry", b[0], params=(1.1,))]

    def maj(x: int, y: int, z: int) -> list[Operation]:
        return [_op("cx", z, y), _op("cx", z, x), _op("ccx", x, y, z)]

    def uma(x: int, y: int, z: int) -> list[Operation]:
        return [_op("ccx", x, y, z), _op("cx", z, x), _op("cx", x, y)]

    carries = [cin] + a[:-1]
    for i in range(4):
        ops += maj(carries[i], b[i], a[i])
    ops.append(_op("cx", a[3], cout))
    for i in reversed(range(4)):
        ops += uma(carries[i], b[i], a[i])
    measured = [cout] + b[::-1] + a
    ops += [_measure(q, c) for c, q in enumerate(measured)]
    return Circuit(10, tuple(ops), len(measured), name="adder_n10")


PROGRAMS: dict[str, Circuit] = {
    "qft_n4": parse_qasm(QFT4_QASM, name="qft_n4"),
    "qpe_n5": phase_estimation(4, 0.3),
    "simon_n6": parse_qasm(SIMON6_QASM, name="simon_n6"),
    "random_n8": random_circuit(),
    "qpe_n9": phase_estimation(8, 0.37),
    "ghz_n10": ghz_line(),
    "adder_n10": cuccaro_adder(),
}


# -- reference and statistics ----------------------------------------------------------------


def exact_distribution(circuit: Circuit) -> dict[str, float]:
    """Outcome probabilities of the logical circuit (keys: clbit ``k`` at position ``-1-k``).

    The drivers reject a gate after a measurement on the same qubit, so measuring every qubit
    at the end is exact (deferred measurement)."""
    gates = [(op.qubits, gate_matrix(op.name, [p.constant for p in op.params]))
             for op in circuit.operations if op.name not in ("measure", "barrier", "reset")]
    probs = np.abs(reference_statevector(circuit.qubit_count, gates)) ** 2
    pairs = [(q, c) for op in circuit.operations if op.name == "measure"
             for q, c in zip(op.qubits, op.clbits)]
    out: dict[str, float] = {}
    for index, p in enumerate(probs):
        if p < 1e-15:
            continue
        bits = ["0"] * circuit.clbit_count
        for q, c in pairs:
            bits[circuit.clbit_count - 1 - c] = str(index >> q & 1)
        key = "".join(bits)
        out[key] = out.get(key, 0.0) + float(p)
    return out


def goodness_of_fit(counts: dict[str, int], exact: dict[str, float]) -> float:
    """p-value of Pearson's chi-square test of ``counts`` against ``exact`` (module docstring);
    0 when an impossible outcome is observed."""
    shots = sum(counts.values())
    if any(exact.get(key, 0.0) < 1e-12 for key in counts):
        return 0.0
    observed, expected = [], []
    pooled_observed = pooled_expected = 0.0
    for key, p in exact.items():
        if p * shots >= 5.0:
            observed.append(counts.get(key, 0))
            expected.append(p * shots)
        else:
            pooled_observed += counts.get(key, 0)
            pooled_expected += p * shots
    if pooled_expected >= 5.0:
        observed.append(pooled_observed)
        expected.append(pooled_expected)
    elif expected:
        expected[-1] += pooled_expected
        observed[-1] += pooled_observed
    if len(expected) < 2:
        return 1.0
    statistic = sum((o - e) ** 2 / e for o, e in zip(observed, expected))
    return float(scipy.stats.chi2.sf(statistic, len(expected) - 1))


def check_counts(counts: dict[str, int], circuit: Circuit) -> None:
    exact = exact_distribution(circuit)
    shots = sum(counts.values())
    tvd = 0.5 * sum(abs(counts.get(k, 0) / shots - exact.get(k, 0.0))
                    for k in set(counts) | set(exact))
    p_value = goodness_of_fit(counts, exact)
    assert p_value > P_THRESHOLD, f"{circuit.name}: p = {p_value:.3g}, TVD = {tvd:.3f}"


def sample(driver: QpuDriver, program, seed: int) -> dict[str, int]:
    out = driver.execute(program, np.zeros((1, 0)), ExecutionOptions(shot_count=SHOTS, seed=seed))
    assert out.counts is not None
    return out.counts[0]


def test_the_fleet_has_coupling_map_qpus():
    assert {"sc-grid-16", "na-array-16"} <= {d.capabilities.qpu_id for d in COUPLED}


def test_the_reference_reads_logical_qubits():
    circuit = Circuit(2, (_op("x", 1), _measure(1, 0), _measure(0, 1)), 2)
    assert exact_distribution(circuit) == {"01": 1.0}
    assert goodness_of_fit({"01": 100}, {"01": 1.0}) == 1.0
    assert goodness_of_fit({"01": 60, "10": 40}, {"01": 1.0}) == 0.0
    assert goodness_of_fit({"00": 800, "11": 200}, {"00": 0.5, "11": 0.5}) < P_THRESHOLD


# -- routed programs on every coupling-map QPU -----------------------------------------------


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("qpu_id", [d.capabilities.qpu_id for d in COUPLED])
def test_routed_counts_match_the_logical_distribution(qpu_id, name):
    driver = noiseless_copy(next(d for d in COUPLED if d.capabilities.qpu_id == qpu_id))
    circuit = PROGRAMS[name]
    program = driver.prepare(circuit, observable=None)
    assert len(program.physical_qubits) <= driver.capabilities.max_simulated_qubits
    check_counts(sample(driver, program, seed=7), circuit)


@pytest.mark.parametrize("level", OPTIMIZATION_LEVELS)
@pytest.mark.parametrize("name", ["qft_n4", "simon_n6", "random_n8", "qpe_n9", "adder_n10"])
@pytest.mark.parametrize("qpu_id", [d.capabilities.qpu_id for d in COUPLED])
def test_physical_programs_compiled_at_every_level_give_the_logical_distribution(
        qpu_id, name, level):
    """Compiled at each optimisation level, then run as a fixed-layout physical program (as
    multi-programming does): the compiled measure ops name the right physical qubits."""
    driver = noiseless_copy(next(d for d in COUPLED if d.capabilities.qpu_id == qpu_id))
    circuit = PROGRAMS[name]
    compiled = compile_circuit(circuit, device_target(driver.capabilities),
                               optimization_level=level)
    assert len(compiled.physical_qubits) <= driver.capabilities.max_simulated_qubits
    program = driver.prepare_physical(compiled.circuit, observable=None)
    check_counts(sample(driver, program, seed=level + 3), circuit)


@pytest.mark.parametrize("qpu_id", [d.capabilities.qpu_id for d in COUPLED
                                    if d.capabilities.max_simulated_qubits
                                    < d.capabilities.qubit_count])
def test_a_ten_qubit_program_compiles_onto_ten_active_qubits(qpu_id):
    """With a 10-qubit limit on active qubits (the region routing stays in), routing never
    touches an 11th qubit."""
    caps = next(d for d in COUPLED if d.capabilities.qpu_id == qpu_id).capabilities
    assert caps.qubit_count > 10
    target = dataclasses.replace(device_target(caps), max_active_qubits=10)
    for name in ("adder_n10", "ghz_n10"):
        for level in OPTIMIZATION_LEVELS:
            compiled = compile_circuit(PROGRAMS[name], target, optimization_level=level)
            assert len(compiled.physical_qubits) <= 10, (name, level)


def test_readout_error_applies_to_the_physical_qubit_read():
    """On sc-grid-16 with perfect gates and one faulty detector (always flips), only the
    classical bit of the logical qubit that *ends* on that physical qubit is inverted."""
    caps, params = superconducting_grid()
    circuit = PROGRAMS["qpe_n5"]
    compiled = compile_circuit(circuit, device_target(caps))
    assert compiled.swap_count > 0
    logical, clbit = 0, 3  # counting qubit 0 is read into clbit 3
    faulty = compiled.final_layout[logical]
    assert faulty != compiled.initial_layout[logical]  # routing moved the measured qubit
    qubits = [dataclasses.replace(q, t1_us=1e12, t2_us=1e12, single_qubit_gate_fidelity=1.0,
                                  readout_p01=float(p == faulty), readout_p10=float(p == faulty))
              for p, q in enumerate(params.qubits)]
    pairs = {key: dataclasses.replace(pair, two_qubit_gate_fidelity=1.0, zz_khz=0.0,
                                      spectator_error=0.0)  # no crosstalk either
             for key, pair in params.pairs.items()}
    perfect = dataclasses.replace(params, qubits=tuple(qubits), pairs=pairs,
                                  default_two_qubit_gate_fidelity=1.0)
    driver = SimulatedQpuDriver(caps, perfect, drift=False)
    assert driver.capabilities.noisy
    counts = sample(driver, driver.prepare(circuit, observable=None), seed=2)
    position = circuit.clbit_count - 1 - clbit
    flipped: dict[str, float] = {}
    for key, p in exact_distribution(circuit).items():
        bit = "1" if key[position] == "0" else "0"
        flipped[key[:position] + bit + key[position + 1:]] = p
    assert goodness_of_fit(counts, flipped) > P_THRESHOLD
