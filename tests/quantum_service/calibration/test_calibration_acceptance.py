"""σ ceilings: a fit under its node's ceiling is installed; a bad fit (too few shots, corrupted
data, a value outside its physical range) is retried once with more shots, then rejected with
its reason recorded on the snapshot while the previous estimate is kept."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from calibration_helpers import FAST, miscalibrated_driver, slot_of

from quantum_service.calibration import experiments as ex
from quantum_service.calibration.acceptance import RETRY_SHOT_FACTOR, run_checked
from quantum_service.calibration.graph import SigmaCeiling, default_graph
from quantum_service.calibration.manager import CalibrationManager
from quantum_service.convert import snapshot_to_proto


def _context(driver, believed, settings=FAST):
    return ex.ExperimentContext(driver, believed, settings, np.random.default_rng(4))


def test_every_node_has_a_ceiling_from_its_canary_threshold(grid_2x2):
    caps, _ = grid_2x2
    graph = default_graph(caps, FAST)
    assert all(node.ceilings for node in graph.nodes)
    ramsey = graph.node("ramsey").ceilings[0]
    assert ramsey.field == "frequency_hz" and ramsey.ceiling(5e9) == FAST.frequency_threshold_hz
    assert graph.node("cphase").ceilings[0].ceiling(0.1) == FAST.phase_threshold_rad
    assert graph.node("t1").ceilings[0].ceiling(100.0) == 100.0 * FAST.t1_relative_threshold
    assert graph.node("rb_1q").ceilings[0].ceiling(0.9996) == 1.0 - 0.9996


def test_sigma_ceiling_rules():
    rule = SigmaCeiling("single_qubit_gate_fidelity", infidelity=1.0, low=0.0, high=1.0)
    assert rule.problem(0.999, 5e-4) is None
    assert rule.problem(0.999, 2e-3)[0] == "SIGMA_ABOVE_CEILING"
    assert rule.problem(1.0, 1e-5)[0] == "OUT_OF_RANGE"  # a noisy gate stuck on F = 1
    assert rule.problem(0.999, math.nan)[0] == "SIGMA_ABOVE_CEILING"


def test_a_fit_under_its_ceiling_is_installed(grid_2x2):
    caps, nominal = grid_2x2
    q0 = nominal.qubits[0]
    true = nominal.with_qubit(0, frequency_hz=q0.frequency_hz + 40e3)
    ctx = _context(miscalibrated_driver(true, nominal, caps), nominal)
    node = default_graph(caps, FAST).node("ramsey")
    assert run_checked(ctx, node, 0, ex.ramsey) is None
    sigma = ctx.uncertainties[0]["frequency_hz"]
    assert sigma <= FAST.frequency_threshold_hz
    assert abs(ctx.estimates.qubits[0].frequency_hz - true.qubits[0].frequency_hz) < 4 * sigma
    assert ctx.experiments == ["ramsey:q0"]  # accepted at once: no retry


def test_corrupted_data_is_retried_then_rejected_and_the_old_estimate_kept(grid_2x2):
    caps, nominal = grid_2x2
    ctx = _context(miscalibrated_driver(nominal, nominal, caps), nominal)
    ctx.uncertainties[0] = {"frequency_hz": 900.0}
    node = default_graph(caps, FAST).node("ramsey")
    shots_seen = []

    def corrupted(context, q):  # a fit that lands 2 MHz off with a 50 kHz uncertainty
        shots_seen.append(context.settings.shots)
        context.set_qubit(q, {"frequency_hz": context.estimates.qubits[q].frequency_hz + 2e6},
                          {"frequency_hz": 5e4})

    rejection = run_checked(ctx, node, 0, corrupted)
    assert shots_seen == [FAST.shots, RETRY_SHOT_FACTOR * FAST.shots]
    assert ctx.settings is FAST
    assert rejection is not None and rejection.reason == "SIGMA_ABOVE_CEILING"
    assert (rejection.node, rejection.target) == ("ramsey", 0)
    assert "σ(frequency_hz)" in rejection.detail and "retry" in rejection.detail
    assert ctx.estimates.qubits[0] == nominal.qubits[0]
    assert ctx.uncertainties[0] == {"frequency_hz": 900.0}


def test_too_few_shots_are_rejected_on_the_snapshot_and_descendants_not_run(grid_2x2):
    caps, nominal = grid_2x2
    q1 = nominal.qubits[1]
    true = nominal.with_qubit(1, frequency_hz=q1.frequency_hz + 30e3)
    driver = miscalibrated_driver(true, nominal, caps)
    starved = replace(FAST, shots=2)  # 2 shots a point (8 on the retry)
    manager = CalibrationManager(seed=3, settings={caps.qpu_id: starved})
    outcome = manager.calibrate(slot_of(driver), qubits=[1], force=True)
    reasons = {(r.node, r.target): r.reason for r in outcome.rejections}
    # Ramsey's σ at 2 (then 8) shots a point is several kHz: above its 3 kHz ceiling
    assert reasons[("ramsey", 1)] == "SIGMA_ABOVE_CEILING"
    assert reasons[("t1", 1)] == "PARENT_REJECTED"  # not fitted on a stale frequency
    assert reasons[("cphase", (0, 1))] == "PARENT_REJECTED"
    assert ("readout", 1) not in reasons  # readout shots unchanged: accepted
    snapshot = driver.calibration_snapshot()
    assert snapshot.rejections == outcome.rejections
    assert snapshot.parameters.qubits[1].frequency_hz == q1.frequency_hz  # the old estimate
    assert "frequency_hz" not in snapshot.qubit_uncertainties[1]
    assert "ramsey:q1" in outcome.experiments  # it ran (device time), it was not installed
    message = snapshot_to_proto(snapshot)
    by_node = {r.node: r for r in message.rejections}
    assert list(by_node["ramsey"].qubits) == [1] and by_node["t1"].reason == "PARENT_REJECTED"
    assert "retry with 4x shots" in by_node["ramsey"].detail
    # the next calibration with enough shots installs the frequency and records nothing
    manager = CalibrationManager(seed=3, settings={caps.qpu_id: FAST})
    manager.calibrate(slot_of(driver), qubits=[1], force=True)
    fixed = driver.calibration_snapshot()
    assert fixed.rejections == ()
    assert abs(fixed.parameters.qubits[1].frequency_hz - true.qubits[1].frequency_hz) < 4e3
