"""Every modality drifts and is calibrated: neutral-atom and photonic graphs, drift rates,
simultaneous calibration programs, and recovery of an injected miscalibration."""

from __future__ import annotations

import numpy as np
import pytest
from calibration_helpers import slot_of

from quantum_service.calibration.canary import disjoint_rounds
from quantum_service.calibration.experiments import settings_for
from quantum_service.calibration.graph import default_graph
from quantum_service.calibration.manager import CalibrationManager
from quantum_service.calibration.programs import program, pulse
from quantum_service.drivers.fleet import neutral_atom_array, photonic_dual_rail
from quantum_service.contract import CalibrationSnapshot, Modality
from quantum_service.errors import InvalidProgramError


def _names(graph) -> list[str]:
    return [node.name for node in graph.nodes]


def test_neutral_atom_and_photonic_graphs():
    atoms = neutral_atom_array("na-g", rows=2, cols=2)
    photons = photonic_dual_rail("ph-g", qubit_count=3)
    na = default_graph(atoms.capabilities)
    ph = default_graph(photons.capabilities)
    # atoms: no T1/T2 echo (seconds per point); photons: no Ramsey (no transition frequency)
    assert _names(na) == ["readout", "rabi", "ramsey", "rb_1q", "cphase", "xeb_2q"]
    assert _names(ph) == ["readout", "rabi", "rb_1q", "cphase", "xeb_2q"]
    assert na.node("cphase").depends_on == ("ramsey",)
    assert ph.node("cphase").depends_on == ("rabi",)
    assert set(na.pairs) == {tuple(sorted(e)) for e in atoms.capabilities.coupling_map}
    assert ph.pairs == ((0, 1), (0, 2), (1, 2))  # all-to-all


def test_disjoint_rounds_never_share_a_qubit_and_cover_every_pair():
    pairs = [(0, 1), (1, 2), (2, 3), (0, 3), (0, 2), (1, 3)]
    rounds = disjoint_rounds(pairs)
    assert sorted(p for r in rounds for p in r) == sorted(pairs)
    for members in rounds:
        qubits = [q for pair in members for q in pair]
        assert len(qubits) == len(set(qubits))
    assert len(rounds) == 3  # K4 is 3-edge-colourable and first fit finds it here


@pytest.mark.parametrize("modality", [Modality.NEUTRAL_ATOM, Modality.PHOTONIC])
def test_neutral_atoms_and_photons_drift(modality):
    driver = (neutral_atom_array("na-d", rows=2, cols=2) if modality is Modality.NEUTRAL_ATOM
              else photonic_dual_rail("ph-d", qubit_count=3))
    assert driver.drifts
    base = driver.true_parameters()
    driver.advance_clock(3 * 3600.0)
    now = driver.true_parameters()

    def moved(field: str) -> float:
        return max(abs(getattr(a, field) - getattr(b, field))
                   for a, b in zip(now.qubits, base.qubits))

    assert moved("pi_pulse_amplitude") > 1e-4  # drive intensity / interferometer angle
    assert moved("readout_p01") > 0.0
    pair = default_graph(driver.capabilities).pairs[0]
    assert now.pair(*pair).two_qubit_phase_rad != base.pair(*pair).two_qubit_phase_rad
    if modality is Modality.PHOTONIC:  # no transition frequency, no on-chip decoherence
        assert moved("frequency_hz") == 0.0 and moved("t2_us") == 0.0
    else:
        assert moved("frequency_hz") > 0.0


def test_simultaneous_programs_cost_one_program_and_keep_their_statistics():
    atoms = neutral_atom_array("na-s", rows=2, cols=2, drift=False, atom_loss_probability=0.0)
    n, shots = 4, 400
    flipped, idle = program(n, [pulse(0, np.pi)], [0]), program(n, [], [1])
    before = atoms.calibration_device_time_s
    counts = atoms.execute_native_simultaneous([flipped, idle], shot_count=shots, seed=1)
    spent = atoms.calibration_device_time_s - before
    caps = atoms.capabilities
    one_shot_s = (caps.gate_duration_ns("r") + caps.readout_duration_ns
                  + caps.reset_duration_ns) * 1e-9
    assert spent == pytest.approx(shots * one_shot_s)  # not two programs' worth
    assert counts[0].get("1", 0) > 0.9 * shots and counts[1].get("0", 0) > 0.9 * shots
    with pytest.raises(InvalidProgramError) as error:
        atoms.execute_native_simultaneous([flipped, program(n, [pulse(0, np.pi / 2)], [0])],
                                          shot_count=10)
    assert error.value.reason == "OVERLAPPING_PROGRAMS"


@pytest.mark.parametrize("modality", [Modality.NEUTRAL_ATOM, Modality.PHOTONIC])
def test_canaries_find_and_calibration_repairs_a_miscalibrated_device(modality):
    if modality is Modality.NEUTRAL_ATOM:
        driver = neutral_atom_array("na-m", rows=2, cols=2, drift=False)
    else:
        driver = photonic_dual_rail("ph-m", qubit_count=3, drift=False)
    caps = driver.capabilities
    true = driver.true_parameters()
    pair = default_graph(caps).pairs[0]
    believed = (true.with_qubit(1, pi_pulse_amplitude=true.qubits[1].pi_pulse_amplitude / 1.03)
                .with_pair(*pair, two_qubit_phase_rad=true.pair(*pair).two_qubit_phase_rad - 0.2))
    driver.install_snapshot(CalibrationSnapshot.create(caps.qpu_id, believed))
    manager = CalibrationManager(seed=4, settings={caps.qpu_id: settings_for(modality)})
    outcome = manager.calibrate(slot_of(driver))
    drifted = {(r.node, r.target) for r in outcome.readings if r.drifted}
    assert {("rabi", 1), ("cphase", pair)} <= drifted
    fitted = driver.calibration_snapshot().parameters
    assert fitted.qubits[1].pi_pulse_amplitude == pytest.approx(
        true.qubits[1].pi_pulse_amplitude, abs=0.006)
    assert fitted.pair(*pair).two_qubit_phase_rad == pytest.approx(
        true.pair(*pair).two_qubit_phase_rad, abs=0.03)
    # the repaired estimates pass their own canaries
    again = manager.calibrate(slot_of(driver))
    assert not {(r.node, r.target) for r in again.readings if r.drifted} & {
        ("rabi", 1), ("cphase", pair)}
