"""The 72- and 127-qubit transmon devices: topology, parameters, compile, packing, calibration
plan and the engine limit."""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pytest

from quantum_service.calibration.experiments import settings_for_device
from quantum_service.calibration.manager import CalibrationManager
from quantum_service.circuits.ir import Circuit, Operation
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.contract import Modality
from quantum_service.drivers.fleet import (
    EAGLE_MEDIANS,
    WUKONG_MEDIANS,
    ibm_eagle,
    origin_wukong,
    superconducting_drivers,
    superconducting_grid,
    trapped_ion_chain,
)
from quantum_service.drivers.lattices import heavy_hex_lattice
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.kernel.multiprogramming import pack

DEVICES = {"sc-wukong-72": origin_wukong, "sc-eagle-127": ibm_eagle}


def graph_of(edges) -> nx.Graph:
    g = nx.Graph()
    g.add_edges_from(edges)
    return g


def ghz(n: int) -> Circuit:
    ops = [Operation("h", (0,))] + [Operation("cx", (i, i + 1)) for i in range(n - 1)]
    ops += [Operation("measure", (i,), (), (i,)) for i in range(n)]
    return Circuit(n, tuple(ops), n, (), f"ghz{n}")


def target_of(caps) -> CompileTarget:
    return CompileTarget(qubit_count=caps.qubit_count, native_gates=caps.native_gate_names,
                         coupling_map=caps.coupling_map,
                         max_active_qubits=caps.max_simulated_qubits)


def test_heavy_hex_is_the_127_qubit_eagle_layout():
    n, edges = heavy_hex_lattice()
    g = graph_of(edges)
    assert n == 127 and g.number_of_nodes() == 127 and len(edges) == len(set(edges)) == 144
    assert nx.is_connected(g) and max(d for _, d in g.degree) == 3
    # heavy hex: the shortest cycles are hexagons with a qubit on every edge (12 qubits)
    assert nx.girth(g) == 12 and nx.check_planarity(g)[0]
    # bridge qubits of ibm_washington's numbering (IBM Quantum Platform coupling map)
    for bridge, (up, down) in {14: (0, 18), 17: (12, 30), 33: (20, 39), 52: (37, 56),
                               74: (70, 89), 112: (108, 126)}.items():
        assert set(g[bridge]) == {up, down}
    assert set(g[0]) == {1, 14} and set(g[126]) == {112, 125}
    with pytest.raises(ValueError):
        heavy_hex_lattice(bridge_spacing=3)


def test_wukong_is_a_6x12_grid_with_one_coupler_per_edge():
    caps, _ = origin_wukong()
    g = graph_of(caps.coupling_map)
    assert caps.qubit_count == 72 and len(caps.coupling_map) == 126  # 126 coupler qubits
    assert nx.is_isomorphic(g, nx.grid_2d_graph(6, 12)) and max(d for _, d in g.degree) == 4


@pytest.mark.parametrize("qpu_id", sorted(DEVICES))
def test_parameters_spread_deterministically_around_the_medians(qpu_id):
    caps, params = DEVICES[qpu_id]()
    _, again = DEVICES[qpu_id]()
    assert params == again  # seeded
    medians = WUKONG_MEDIANS if qpu_id == "sc-wukong-72" else EAGLE_MEDIANS
    t1 = np.array([q.t1_us for q in params.qubits])
    t2 = np.array([q.t2_us for q in params.qubits])
    f1 = np.array([q.single_qubit_gate_fidelity for q in params.qubits])
    ro = np.array([1 - q.readout_fidelity for q in params.qubits])
    f2 = np.array([params.pair(a, b).two_qubit_gate_fidelity for a, b in caps.coupling_map])
    assert len(params.qubits) == caps.qubit_count and len(params.pairs) == len(caps.coupling_map)
    assert np.median(t1) == pytest.approx(medians.t1_us, rel=0.15) and t1.std() > 0
    assert np.all(t2 <= 1.9 * t1 + 1e-9) and np.median(t2) == pytest.approx(medians.t2_us,
                                                                          rel=0.2)
    assert 1 - np.median(f1) == pytest.approx(medians.single_qubit_error, rel=0.2)
    assert 1 - np.median(f2) == pytest.approx(medians.two_qubit_error, rel=0.2)
    assert np.median(ro) == pytest.approx(medians.readout_error, rel=0.2)
    assert np.all((f1 > 0.97) & (f1 < 1)) and np.all((f2 > 0.8) & (f2 < 1))
    assert caps.max_simulated_qubits == caps.qubit_count and caps.noisy
    if qpu_id == "sc-wukong-72":  # published ranges (module docstring of the fleet)
        assert 10 <= np.median(t1) <= 20 and 0.96 <= np.median(f2) <= 0.98
    else:
        assert caps.native_gate_names == {"rz", "sx", "x", "ecr"}
        assert 100 <= np.median(t1) <= 300 and 0.99 <= np.median(f2) <= 0.993


def test_the_superconducting_provider_adds_both_and_keeps_sc_grid_16():
    drivers = superconducting_drivers()
    assert [d.capabilities.qpu_id for d in drivers] == ["sc-grid-16", "sc-wukong-72",
                                                        "sc-eagle-127"]
    grid_caps, grid_params = superconducting_grid()
    assert drivers[0].capabilities == grid_caps and drivers[0].true_parameters() == grid_params
    assert all(d.drifts for d in drivers)


@pytest.mark.parametrize("qpu_id", sorted(DEVICES))
def test_a_72_qubit_ghz_routes_on_the_device(qpu_id):
    caps, _ = DEVICES[qpu_id]()
    edges = {frozenset(e) for e in caps.coupling_map}
    start = time.perf_counter()
    compiled = compile_circuit(ghz(72), target_of(caps))
    assert time.perf_counter() - start < 5.0
    two = [op for op in compiled.circuit.operations if len(op.qubits) == 2]
    assert two and all(frozenset(op.qubits) in edges for op in two)
    assert {op.name for op in two} <= caps.native_gate_names
    # 71 CX; SWAPs are 3 entanglers each: few are needed on a lattice with a long path
    assert compiled.swap_count <= 30
    assert len(two) == 71 + 3 * compiled.swap_count
    assert sorted(compiled.final_layout) == sorted(set(compiled.final_layout))
    measured = [op for op in compiled.circuit.operations if op.name == "measure"]
    assert sorted(op.clbits[0] for op in measured) == list(range(72))


@pytest.mark.parametrize("qpu_id", sorted(DEVICES))
def test_multiprogramming_packs_jobs_onto_disjoint_connected_regions(qpu_id):
    caps, params = DEVICES[qpu_id]()
    jobs = [(f"job-{i}", ghz(4)) for i in range(4)]
    merged = pack(jobs, caps, params, max_jobs=4, max_fidelity_loss=0.2)
    assert merged is not None and len(merged.plans) >= 2
    regions = [set(p.region) for p in merged.plans]
    assert sum(map(len, regions)) == len(set().union(*regions))  # disjoint
    g = graph_of(caps.coupling_map)
    for plan in merged.plans:
        assert nx.is_connected(g.subgraph(plan.region))
        touched = {q for op in plan.circuit.operations for q in op.qubits}
        assert touched <= set(plan.region)


def test_jobs_too_wide_to_share_the_chip_are_not_packed_and_a_later_narrow_one_is():
    caps, params = trapped_ion_chain("ion-ideal-24", qubit_count=24, noisy=False, seed=24)
    assert caps.max_simulated_qubits >= 24
    assert pack([("a", ghz(13)), ("b", ghz(13))], caps, params, max_jobs=4,
                max_fidelity_loss=0.05) is None
    # the second job cannot fit beside the first; the third can
    merged = pack([("a", ghz(13)), ("b", ghz(13)), ("c", ghz(4))], caps, params, max_jobs=4,
                  max_fidelity_loss=0.05)
    assert merged is not None and [p.job_id for p in merged.plans] == ["a", "c"]


def test_a_72_qubit_ghz_runs_on_the_wukong_class_qpu_as_an_mps():
    import dataclasses

    from quantum_service.contract import ExecutionOptions

    caps, params = origin_wukong()
    ideal = SimulatedQpuDriver(dataclasses.replace(caps, noisy=False), params, seed=1)
    out = ideal.execute(ideal.prepare(ghz(72), observable=None), np.zeros((1, 0)),
                        ExecutionOptions(shot_count=1000, seed=2))
    assert out.engine == "mps" and "matrix-product state" in out.engine_reason
    counts = out.counts[0]
    assert set(counts) == {"0" * 72, "1" * 72}
    assert abs(counts["0" * 72] - 500) < 4 * np.sqrt(250)


def brickwork(rows: int, cols: int, layers: int, seed: int = 0) -> Circuit:
    """Random ``u3`` layers and ``cz`` on the couplers of a ``rows x cols`` corner of the
    Wukong grid (physical qubit ``r * 12 + c``), measured."""
    from quantum_service.circuits.ir import ParameterExpression

    rng = np.random.default_rng(seed)
    qubits = [r * 12 + c for r in range(rows) for c in range(cols)]
    couplers = ([(r * 12 + c, r * 12 + c + 1) for r in range(rows) for c in range(cols - 1)]
                + [(r * 12 + c, (r + 1) * 12 + c) for r in range(rows - 1) for c in range(cols)])
    ops = []
    for layer in range(layers):
        ops += [Operation("u3", (q,), tuple(ParameterExpression(float(v))
                                            for v in rng.uniform(0, np.pi, 3))) for q in qubits]
        ops += [Operation("cz", e) for e in couplers[layer % 2::2]]
    ops.append(Operation("measure", tuple(qubits), (), tuple(range(len(qubits)))))
    return Circuit(72, tuple(ops), len(qubits), (), f"brickwork-{rows}x{cols}")


def test_a_grid_program_on_couplers_compiles_without_swaps_on_wukong():
    compiled = compile_circuit(brickwork(5, 8, 4), target_of(origin_wukong()[0]))
    assert compiled.swap_count == 0
    assert compiled.initial_layout[:72] == tuple(range(72))


def test_a_bond_cap_truncates_and_every_result_reports_its_error():
    import dataclasses

    from quantum_service.contract import ExecutionOptions

    caps, params = origin_wukong()
    caps = dataclasses.replace(caps, noisy=False)
    circuit = brickwork(5, 6, 2, seed=3)  # 30 qubits: beyond the dense state vector's range
    options = ExecutionOptions(shot_count=200, seed=2)
    capped = SimulatedQpuDriver(caps, params, max_bond_dimension=2)
    exact = SimulatedQpuDriver(caps, params)
    out = capped.execute(capped.prepare(circuit, observable=None), np.zeros((1, 0)), options)
    assert out.engine == "mps" and "truncated at bond dimension 2" in out.engine_reason
    assert out.truncation_errors is not None and out.truncation_errors[0] > 1e-3
    full = exact.execute(exact.prepare(circuit, observable=None), np.zeros((1, 0)), options)
    assert full.engine == "mps" and full.truncation_errors is not None
    assert full.truncation_errors[0] < 1e-9
    # expectation values report it as well
    unmeasured = dataclasses.replace(circuit, operations=circuit.operations[:-1], clbit_count=0)
    values = capped.execute(capped.prepare(unmeasured, observable=[("Z0 Z1", 1.0)]),
                            np.zeros((1, 0)), ExecutionOptions(shot_count=0, seed=2))
    assert values.truncation_errors is not None and values.truncation_errors[0] > 1e-3
    with pytest.raises(ValueError, match="max_bond_dimension"):
        SimulatedQpuDriver(caps, params, max_bond_dimension=0)


@pytest.mark.slow
def test_a_72_qubit_noisy_ghz_runs_as_mps_trajectories():
    from quantum_service.contract import ExecutionOptions

    wukong = SimulatedQpuDriver(*origin_wukong(), seed=1)
    out = wukong.execute(wukong.prepare(ghz(72), observable=None), np.zeros((1, 0)),
                         ExecutionOptions(shot_count=2, seed=2))
    assert out.engine == "mps"
    assert sum(out.counts[0].values()) == 2 and all(len(k) == 72 for k in out.counts[0])


def test_large_devices_calibrate_in_rolling_runs_and_short_t2_widens_the_ramsey_canary():
    small = settings_for_device(Modality.SUPERCONDUCTING, 16, [90.0] * 16)
    assert small.max_qubits_per_run is None and small.frequency_threshold_hz == 3e3
    _, params = origin_wukong()
    wide = settings_for_device(Modality.SUPERCONDUCTING, 72, [q.t2_us for q in params.qubits])
    assert wide.max_qubits_per_run == 8 and 15e3 < wide.frequency_threshold_hz < 40e3


class _Slot:
    def __init__(self, driver) -> None:
        self.driver = driver


@pytest.mark.slow
def test_a_forced_calibration_of_the_wukong_is_spread_over_bounded_runs():
    driver = SimulatedQpuDriver(*origin_wukong(), seed=3)
    slot = _Slot(driver)
    manager = CalibrationManager(seed=0)
    assert manager.calibrate(slot).tasks == ()  # a fresh device: no false drift alarms
    first = manager.calibrate(slot, qubits=list(range(12)), force=True)
    assert len(first.recalibrated_qubits) == 8 and first.deferred
    assert manager.is_due(slot)
    second = manager.maintain_blocking(slot)
    assert second is not None and second.trigger == "on_demand"
    assert set(second.recalibrated_qubits) == set(range(8, 12)) and not second.deferred
    assert not manager.is_due(slot)


def test_a_bell_pair_on_the_wukong_shows_its_declared_nisq_noise():
    from quantum_service.contract import ExecutionOptions

    driver = SimulatedQpuDriver(*origin_wukong(), seed=2)
    program = driver.prepare(ghz(2), observable=None)
    counts = driver.execute(program, np.zeros((1, 0)), ExecutionOptions(shot_count=4000,
                                                                        seed=3)).counts[0]
    odd = (counts.get("01", 0) + counts.get("10", 0)) / 4000
    # readout (~3 % per qubit), CZ (~3 %) and 1q/idle errors: a few percent of odd outcomes,
    # far from the 50 % of uncorrelated bits
    assert 0.02 < odd < 0.2
    assert abs(counts.get("00", 0) - counts.get("11", 0)) / 4000 < 0.1


def test_the_eagle_calibration_graph_measures_the_ecr_phase_error():
    from quantum_service.calibration.experiments import ExperimentContext, ecr_phase
    from quantum_service.calibration.graph import default_graph

    caps, nominal = ibm_eagle()
    graph = default_graph(caps)
    assert {node.name for node in graph.nodes if node.scope == "pair"} == {"ecr_phase", "xeb_2q"}
    assert len(graph.pairs) == 144
    true = nominal.with_pair(0, 1, two_qubit_phase_rad=0.08)
    driver = SimulatedQpuDriver(caps, true, drift=False)
    driver.install_snapshot(driver.calibration_snapshot().updated(nominal))
    ctx = ExperimentContext(driver, nominal, settings_for_device(Modality.SUPERCONDUCTING, 127),
                            np.random.default_rng(1))
    ecr_phase(ctx, (0, 1))
    assert ctx.estimates.pair(0, 1).two_qubit_phase_rad == pytest.approx(0.08, abs=0.02)
    assert ctx.pair_uncertainties[(0, 1)]["two_qubit_phase_rad"] < 0.02
