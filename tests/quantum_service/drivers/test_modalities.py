"""Neutral-atom and photonic drivers (geometry, atom loss, heralding, photon loss) and the
entry-point driver registry."""

from __future__ import annotations

import importlib
import itertools
import logging
import math
import sys
import textwrap
from importlib.metadata import EntryPoint

import numpy as np
import pytest

from quantum_service.circuits.ir import Circuit, Operation
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.drivers.fleet import neutral_atom_array, photonic_dual_rail
from quantum_service.contract import ExecutionOptions
from quantum_service.drivers.neutral_atom import (
    AtomArray,
    NeutralAtomQpuDriver,
    blockade_radius_um,
    time_optimal_cz_duration_ns,
)
from quantum_service.drivers.photonic import PhotonicLossModel, PhotonicQpuDriver, \
    photonic_keep_probability
from quantum_service.drivers.registry import (
    BUILTIN_PROVIDERS,
    ENTRY_POINT_GROUP,
    load_drivers,
    provider_entry_points,
)
from quantum_service.errors import FailedPreconditionError


def measure_all(n: int, *gates: Operation) -> Circuit:
    ops = list(gates) + [Operation("measure", (q,), (), (q,)) for q in range(n)]
    return Circuit(n, tuple(ops), clbit_count=n)


BELL = measure_all(2, Operation("h", (0,)), Operation("cx", (0, 1)))
GHZ3 = measure_all(3, Operation("h", (0,)), Operation("cx", (0, 1)), Operation("cx", (1, 2)))
X3 = measure_all(3, *(Operation("x", (q,)) for q in range(3)))


def within(observed: float, expected: float, n: int, slack: float = 0.0) -> bool:
    """``observed`` frequency within 5 binomial sigmas (plus ``slack``) of ``expected``."""
    return abs(observed - expected) <= 5 * math.sqrt(expected * (1 - expected) / n) + slack


# -- neutral atoms: geometry -----------------------------------------------------------------


def test_blockade_radius_and_cz_duration_follow_the_published_formulas():
    # (C6/Ω)^(1/6) for Rb 70S (C6/h = 862 690 MHz µm^6) at Ω/2π = 4.6 MHz, by hand: 7.566 µm.
    assert blockade_radius_um(c6_hz_um6=862_690e6, rabi_frequency_hz=4.6e6) == pytest.approx(
        math.exp(math.log(862_690 / 4.6) / 6), rel=1e-12)
    assert blockade_radius_um(c6_hz_um6=64.0, rabi_frequency_hz=1.0) == pytest.approx(2.0)
    # T = 7.612/Ω: 7.612 / (2π · 4.6 MHz) = 263.4 ns.
    assert time_optimal_cz_duration_ns(4.6e6) == pytest.approx(263.37, abs=0.01)
    with pytest.raises(ValueError):
        blockade_radius_um(c6_hz_um6=1.0, rabi_frequency_hz=0.0)


def test_coupling_map_holds_the_pairs_within_the_blockade_radius():
    line = AtomArray(((0.0, 0.0), (3.0, 0.0), (7.0, 0.0), (7.0, 4.0)), blockade_radius_um=4.0)
    # distances: 01 = 3, 12 = 4 (inclusive), 23 = 4, 13 = sqrt(32) > 4, others farther.
    assert line.coupling_map() == ((0, 1), (1, 2), (2, 3))


def test_na_array_16_is_a_kings_graph_derived_from_its_geometry():
    driver = neutral_atom_array()
    caps = driver.capabilities
    assert caps.qubit_count == 16 and caps.qpu_id == "na-array-16"
    # R_b ≈ 7.57 µm at 5 µm spacing: nearest (5 µm) and diagonal (7.07 µm) neighbours couple,
    # next-nearest (10 µm) do not.
    assert 5 * math.sqrt(2) < driver.array.blockade_radius_um < 10
    kings = {(r * 4 + c, r2 * 4 + c2)
             for r, c, r2, c2 in itertools.product(range(4), repeat=4)
             if (r, c) < (r2, c2) and max(abs(r - r2), abs(c - c2)) == 1}
    kings = {tuple(sorted(e)) for e in kings}
    assert set(caps.coupling_map) == kings and len(kings) == 42
    assert caps.gate_duration_ns("cz") == pytest.approx(time_optimal_cz_duration_ns(4.6e6))


def test_an_inconsistent_neutral_atom_model_is_rejected():
    good = neutral_atom_array("na-x", rows=2, cols=2)
    params = good.calibration_snapshot().parameters
    far = AtomArray.square(2, 2, spacing_um=20.0, blockade_radius_um=7.5)  # no couplings
    with pytest.raises(FailedPreconditionError) as info:
        NeutralAtomQpuDriver(good.capabilities, params, array=far, atom_loss_probability=0.0)
    assert info.value.reason == "INVALID_DEVICE_MODEL"
    with pytest.raises(FailedPreconditionError, match="outside"):
        NeutralAtomQpuDriver(good.capabilities, params, array=good.array,
                             atom_loss_probability=1.0)
    ideal = neutral_atom_array("na-ideal", rows=2, cols=2, noisy=False)
    with pytest.raises(FailedPreconditionError, match="noiseless"):
        NeutralAtomQpuDriver(ideal.capabilities, params, array=ideal.array,
                             atom_loss_probability=0.1, post_select_lost_atoms=False)


# -- neutral atoms: atom loss ----------------------------------------------------------------


def lossy_ideal_atoms(loss: float) -> NeutralAtomQpuDriver:
    """Ideal gates and readout, atoms lost with probability ``loss``, post-selected."""
    ideal = neutral_atom_array("na-loss", rows=2, cols=2, noisy=False)
    return NeutralAtomQpuDriver(ideal.capabilities, ideal.calibration_snapshot().parameters,
                                array=ideal.array, atom_loss_probability=loss)


def test_post_selection_discards_shots_with_a_lost_atom():
    driver, reference = lossy_ideal_atoms(0.2), lossy_ideal_atoms(0.0)
    shots = 20_000
    program = driver.prepare(X3, observable=None)
    assert driver.keep_probability(program) == pytest.approx(0.8**3)  # three used atoms
    out = driver.execute(program, np.zeros((2, 0)), ExecutionOptions(shot_count=shots, seed=2))
    assert len(out.discarded_shot_counts) == 2
    for counts, discarded in zip(out.counts, out.discarded_shot_counts):
        assert set(counts) == {"111"}  # kept shots show no lost atom
        assert counts["111"] + discarded == shots
        assert within(discarded / shots, 1 - 0.8**3, shots)
    # Device time counts every attempted shot: the same as on a loss-free device.
    free = reference.execute(reference.prepare(X3, observable=None), np.zeros((2, 0)),
                             ExecutionOptions(shot_count=shots, seed=2))
    assert free.discarded_shot_counts == [0, 0]
    assert out.device_time_s == pytest.approx(free.device_time_s)
    assert driver.device_time_s == pytest.approx(out.device_time_s)


def test_without_post_selection_a_lost_atom_reads_as_zero():
    loss = 0.2
    # Without drift: the 20 000 shots take over an hour of device time.
    lossy = neutral_atom_array("na-t", rows=2, cols=2, atom_loss_probability=loss,
                               post_select_lost_atoms=False, drift=False)
    clean = neutral_atom_array("na-t", rows=2, cols=2, atom_loss_probability=0.0,
                               post_select_lost_atoms=False, drift=False)
    shots = 20_000
    out = lossy.execute(lossy.prepare(X3, observable=None), np.zeros((1, 0)),
                        ExecutionOptions(shot_count=shots, seed=4))
    assert out.discarded_shot_counts in (None, [0])
    counts = out.counts[0]
    assert sum(counts.values()) == shots
    for bit in range(3):  # bit q is character 2 - q (clbit 0 rightmost)
        zeros = sum(n for key, n in counts.items() if key[2 - bit] == "0") / shots
        assert within(zeros, loss, shots, slack=0.03)  # + gate and readout errors
    # Exact <Z0> after X: the clean readout E = a + b z gives z; loss changes (a, b) only.
    observable = [("Z0", 1.0)]
    circuit = Circuit(1, (Operation("x", (0,)),))
    e_clean = clean.execute(clean.prepare(circuit, observable=observable), np.zeros((1, 0)),
                            ExecutionOptions()).expectation_values[0]
    e_lossy = lossy.execute(lossy.prepare(circuit, observable=observable), np.zeros((1, 0)),
                            ExecutionOptions()).expectation_values[0]
    program = clean.prepare(circuit, observable=observable)
    atom = clean.program_executable(program).physical_qubits[0]
    q = clean.calibration_snapshot().parameters.qubits[atom]
    a0, b0 = q.readout_p10 - q.readout_p01, 1 - q.readout_p10 - q.readout_p01
    z = (e_clean - a0) / b0
    assert z < -0.99  # the atom is in |1>
    p01, p10 = (1 - loss) * q.readout_p01, loss + (1 - loss) * q.readout_p10
    assert e_lossy == pytest.approx((p10 - p01) + (1 - p10 - p01) * z, abs=1e-9)


# -- photonic --------------------------------------------------------------------------------


def ideal_photonic(herald: float = 0.25, qubits: int = 4) -> PhotonicQpuDriver:
    ideal = photonic_dual_rail("ph-ideal", qubit_count=qubits, noisy=False)
    return PhotonicQpuDriver(ideal.capabilities, ideal.calibration_snapshot().parameters,
                             loss_model=PhotonicLossModel(two_qubit_herald_success=herald))


def cz_count(driver: PhotonicQpuDriver, circuit: Circuit) -> int:
    caps = driver.capabilities
    compiled = compile_circuit(circuit, CompileTarget(qubit_count=caps.qubit_count,
                                                      native_gates=caps.native_gate_names))
    return sum(op.name == "cz" for op in compiled.circuit.operations)


def test_keep_probability_formula():
    model = PhotonicLossModel(two_qubit_herald_success=0.5, photon_loss_per_component=0.1,
                              source_efficiency=0.9, detector_efficiency=0.8)
    # photon 0: two components, photon 1: two components, one CZ.
    expected = 0.5 * (0.9 * 0.8 * 0.9**2) ** 2
    assert photonic_keep_probability([(0,), (0, 1), (1,)], 2, model) == pytest.approx(expected)
    # An untouched but measured photon still has to be emitted and detected.
    assert photonic_keep_probability([], 1, model) == pytest.approx(0.72)
    with pytest.raises(FailedPreconditionError):
        PhotonicLossModel(two_qubit_herald_success=0.0)


@pytest.mark.parametrize("circuit", [BELL, GHZ3], ids=["bell", "ghz3"])
def test_failed_heralds_discard_shots(circuit):
    driver = ideal_photonic()
    program = driver.prepare(circuit, observable=None)
    n_cz = cz_count(driver, circuit)
    assert n_cz == circuit.qubit_count - 1
    p_keep = 0.25**n_cz
    assert driver.keep_probability(program) == pytest.approx(p_keep)
    shots = 40_000
    out = driver.execute(program, np.zeros((3, 0)), ExecutionOptions(shot_count=shots, seed=9))
    n = circuit.qubit_count
    for counts, discarded in zip(out.counts, out.discarded_shot_counts):
        kept = sum(counts.values())
        assert kept + discarded == shots
        assert within(kept / shots, p_keep, shots)
        assert set(counts) <= {"0" * n, "1" * n}  # kept shots carry the ideal state
        assert within(counts.get("0" * n, 0) / kept, 0.5, kept)


def test_device_time_counts_attempted_shots():
    heralded, certain = ideal_photonic(0.25), ideal_photonic(1.0)
    options = ExecutionOptions(shot_count=1000, seed=1)
    out = heralded.execute(heralded.prepare(BELL, observable=None), np.zeros((1, 0)), options)
    ref = certain.execute(certain.prepare(BELL, observable=None), np.zeros((1, 0)), options)
    assert ref.discarded_shot_counts == [0] and out.discarded_shot_counts[0] > 500
    assert out.device_time_s == pytest.approx(ref.device_time_s)
    caps = heralded.capabilities
    assert out.device_time_s >= 1000 * caps.readout_duration_ns * 1e-9


def native_cz_chain(driver: PhotonicQpuDriver, cz: int) -> Circuit:
    """A calibration-style native program: ``cz`` CZs back and forth on photons 0, 1."""
    n = driver.capabilities.qubit_count
    ops = [Operation("cz", (0, 1)) for _ in range(cz)]
    return Circuit(n, (*ops, Operation("measure", (0,), clbits=(0,)),
                       Operation("measure", (1,), clbits=(1,))), clbit_count=2)


@pytest.mark.parametrize("cz", [1, 3])
def test_calibration_programs_are_heralded_and_charge_every_attempt(cz):
    heralded, certain = ideal_photonic(0.25), ideal_photonic(1.0)
    shots, rows = 2000, 4
    circuit = native_cz_chain(heralded, cz)
    p_keep = 0.25**cz
    assert heralded.native_keep_probability(circuit) == pytest.approx(p_keep)
    out = heralded.execute_native(circuit, np.zeros((rows, 0)), shot_count=shots, seed=5)
    ref = certain.execute_native(circuit, np.zeros((rows, 0)), shot_count=shots, seed=5)
    # the experiment still gets its shot_count kept shots per parameter set ...
    assert [sum(c.values()) for c in out.counts] == [shots] * rows
    assert ref.discarded_shot_counts == [0] * rows
    # ... and the device pays for every attempt: failures ~ NegBin(shots, p_keep)
    failures = np.array(out.discarded_shot_counts)
    mean = shots * (1 - p_keep) / p_keep
    sd = math.sqrt(rows * shots * (1 - p_keep)) / p_keep
    assert abs(failures.sum() - rows * mean) < 5 * sd
    attempted = rows * shots + failures.sum()
    assert out.device_time_s == pytest.approx(ref.device_time_s * attempted / (rows * shots))
    assert heralded.calibration_device_time_s == pytest.approx(out.device_time_s)


def test_simultaneous_calibration_programs_are_kept_only_when_all_herald():
    heralded, certain = ideal_photonic(0.25), ideal_photonic(1.0)
    a = Circuit(4, (Operation("cz", (0, 1)), Operation("measure", (0,), clbits=(0,))),
                clbit_count=1)
    b = Circuit(4, (Operation("cz", (2, 3)), Operation("measure", (2,), clbits=(0,))),
                clbit_count=1)
    shots = 4000
    heralded.execute_native_simultaneous([a, b], shot_count=shots, seed=2)
    certain.execute_native_simultaneous([a, b], shot_count=shots, seed=2)
    ratio = heralded.calibration_device_time_s / certain.calibration_device_time_s
    assert ratio == pytest.approx(16.0, rel=0.1)  # 1 / (0.25 * 0.25) attempts per kept shot


def test_a_calibration_program_that_almost_never_heralds_is_refused():
    driver = ideal_photonic(0.01)
    with pytest.raises(FailedPreconditionError, match="KEEP_PROBABILITY_TOO_LOW|keeps a shot"):
        driver.execute_native(native_cz_chain(driver, 5), np.zeros((1, 0)), shot_count=10)
    assert driver.calibration_device_time_s == 0.0


def test_shot_estimates_use_the_kept_shots():
    driver = ideal_photonic(0.25)
    circuit = Circuit(2, (Operation("h", (0,)), Operation("cx", (0, 1))))
    program = driver.prepare(circuit, observable=[("X0", 1.0)])  # <X0> = 0 on a Bell state
    shots = 40_000
    out = driver.execute(program, np.zeros((4, 0)), ExecutionOptions(shot_count=shots, seed=6))
    for error, discarded in zip(out.standard_errors, out.discarded_shot_counts):
        kept = shots - discarded
        assert within(kept / shots, 0.25, shots)
        assert error == pytest.approx(1 / math.sqrt(kept), rel=0.05)  # sqrt((1 - e^2)/kept)
    assert np.all(np.abs(out.expectation_values) <= 5 * out.standard_errors)
    exact = driver.execute(program, np.zeros((1, 0)), ExecutionOptions())
    assert exact.discarded_shot_counts is None
    assert exact.expectation_values[0] == pytest.approx(0.0, abs=1e-12)


def test_no_kept_shot_gives_no_estimate_but_costs_device_time():
    driver, certain = ideal_photonic(1e-7), ideal_photonic(1.0)
    circuit = Circuit(2, (Operation("h", (0,)), Operation("cx", (0, 1))))
    options = ExecutionOptions(shot_count=200, seed=3, gradient=True)
    program = driver.prepare(circuit, observable=[("Z0 Z1", 1.0)])
    out = driver.execute(program, np.zeros((1, 0)), options)
    assert out.discarded_shot_counts == [200]
    assert np.isnan(out.expectation_values[0]) and np.isinf(out.standard_errors[0])
    ref = certain.execute(certain.prepare(circuit, observable=[("Z0 Z1", 1.0)]),
                          np.zeros((1, 0)), options)
    assert out.device_time_s == pytest.approx(ref.device_time_s)
    assert driver.device_time_s == pytest.approx(out.device_time_s)


def test_exact_values_are_those_of_the_post_selected_noisy_state():
    lossy = photonic_dual_rail("ph-a", qubit_count=3)
    certain = photonic_dual_rail("ph-a", qubit_count=3,
                                 loss_model=PhotonicLossModel(two_qubit_herald_success=1.0))
    circuit = Circuit(3, GHZ3.operations[:3])
    observable = [("Z0 Z1", 1.0), ("X0 X1 X2", 0.5)]
    values = [d.execute(d.prepare(circuit, observable=observable), np.zeros((1, 0)),
                        ExecutionOptions()).expectation_values[0] for d in (lossy, certain)]
    assert lossy.keep_probability(lossy.prepare(circuit, observable=observable)) < 0.1
    assert values[0] == pytest.approx(values[1], abs=1e-12)
    assert 0.5 < values[0] < 1.5  # noisy: below the ideal 1.5


def test_readout_mitigation_sees_only_kept_shots():
    driver = ideal_photonic(0.25)
    out = driver.execute(driver.prepare(BELL, observable=None), np.zeros((1, 0)),
                         ExecutionOptions(shot_count=4000, seed=8, readout_mitigation=True))
    counts, mitigated = out.counts[0], out.mitigated_probabilities[0]
    kept = sum(counts.values())
    for key in ("00", "11"):  # ideal readout: mitigation is the identity on the kept shots
        assert mitigated.get(key, 0.0) == pytest.approx(counts.get(key, 0) / kept, abs=1e-12)


# -- registry --------------------------------------------------------------------------------

PLUGIN = """
from quantum_service.drivers.fleet import photonic_dual_rail

def fleet():
    return [photonic_dual_rail("acme-ph-2", qubit_count=2)]

def duplicate():
    return [photonic_dual_rail("na-array-16", qubit_count=2)]

def junk():
    return "not a list"
"""


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A distribution ``acme-qcore`` on sys.path with qcore.drivers entry points."""
    (tmp_path / "qcore_test_acme_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "acme_qcore-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-qcore\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n"
        "acme = qcore_test_acme_plugin:fleet\n"
        "broken = qcore_test_missing_module:fleet\n"
        f"photonic = {BUILTIN_PROVIDERS['photonic']}\n")  # qcore itself, once installed
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield
    sys.modules.pop("qcore_test_acme_plugin", None)


def test_installed_providers_are_loaded_and_broken_ones_skipped(installed_plugin, caplog):
    names = [ep.name for ep in provider_entry_points()]
    assert names[:4] == list(BUILTIN_PROVIDERS) and names.count("photonic") == 1
    with caplog.at_level(logging.WARNING, logger="quantum_service.drivers.registry"):
        drivers = load_drivers()
    ids = [d.capabilities.qpu_id for d in drivers]
    assert ids == ["sc-grid-16", "sc-wukong-72", "sc-eagle-127", "ion-chain-11",
                   "ion-ideal-24", "na-array-16", "ph-dualrail-8", "acme-ph-2"]
    assert "broken" in caplog.text and "qcore_test_missing_module" in caplog.text
    assert [ep.name for ep in provider_entry_points(include_installed=False)] == \
        list(BUILTIN_PROVIDERS)


def test_duplicate_qpu_ids_are_rejected(installed_plugin):
    providers = provider_entry_points(include_installed=False) + [
        EntryPoint("dup", "qcore_test_acme_plugin:duplicate", ENTRY_POINT_GROUP)]
    with pytest.raises(FailedPreconditionError) as info:
        load_drivers(providers)
    assert info.value.reason == "DUPLICATE_QPU_ID"
    assert "na-array-16" in str(info.value) and "dup" in str(info.value)
    assert BUILTIN_PROVIDERS["neutral_atom"] in str(info.value)


def test_a_provider_returning_no_drivers_is_an_error(installed_plugin):
    with pytest.raises(FailedPreconditionError) as info:
        load_drivers([EntryPoint("junk", "qcore_test_acme_plugin:junk", ENTRY_POINT_GROUP)])
    assert info.value.reason == "INVALID_DRIVER_PROVIDER"


def test_the_service_fleet_comes_from_the_registry():
    from quantum_service.server.app import default_drivers

    drivers = default_drivers()
    by_id = {d.capabilities.qpu_id: d for d in drivers}
    assert {"sc-grid-16", "sc-wukong-72", "sc-eagle-127", "ion-chain-11", "ion-ideal-24",
            "na-array-16", "ph-dualrail-8"} <= set(by_id)
    assert isinstance(by_id["na-array-16"], NeutralAtomQpuDriver)
    assert isinstance(by_id["ph-dualrail-8"], PhotonicQpuDriver)
