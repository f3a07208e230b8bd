"""Mitigation on the simulated driver: folding really scales the device's noise, device time
counts every variant, twirling is seeded, and options are checked before running."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.contract import (
    DecouplingSequence,
    DynamicalDecoupling,
    ExecutionOptions,
    Extrapolation,
    MitigationOptions,
    PauliTwirling,
    ZeroNoiseExtrapolation,
)
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.errors import FailedPreconditionError, InvalidProgramError

OBSERVABLE = [("Z0 Z1", 1.0), ("X0 X1", 1.0), ("", 0.5)]
EXACT = 2.5  # the Bell state's <ZZ + XX> + 0.5


def bell_chain() -> Circuit:
    """A Bell state through four extra CX that cancel pairwise only on an ideal device."""
    ops = [Operation("h", (0,)), Operation("cx", (0, 1))]
    for angle in (0.3, -0.3):
        ops += [Operation("cx", (0, 1)), Operation("rz", (1,), (ParameterExpression(angle),)),
                Operation("cx", (0, 1)), Operation("rz", (1,), (ParameterExpression(-angle),))]
    return Circuit(2, tuple(ops))


def zne(*scales: float, fit: Extrapolation = Extrapolation.RICHARDSON) -> MitigationOptions:
    return MitigationOptions(ZeroNoiseExtrapolation(scale_factors=scales, extrapolation=fit))


@pytest.fixture(scope="module")
def ion() -> SimulatedQpuDriver:
    return SimulatedQpuDriver(*trapped_ion_chain(), drift=False)


def test_noisy_value_moves_away_from_exact_with_every_fold(ion):
    program = ion.prepare(bell_chain(), observable=OBSERVABLE)
    out = ion.execute(program, np.zeros((1, 0)),
                      ExecutionOptions(mitigation=zne(1, 3, 5, 7, fit=Extrapolation.EXPONENTIAL)))
    record = out.mitigation[0]
    errors = np.abs(np.array(record.expectation_values) - EXACT)
    assert np.all(np.diff(errors) > 1e-3), errors
    assert abs(out.expectation_values[0] - EXACT) < 0.2 * errors[0]
    assert record.extrapolation is Extrapolation.EXPONENTIAL


def test_folding_changes_nothing_on_an_ideal_device():
    ideal = SimulatedQpuDriver(*trapped_ion_chain("ion-ideal", noisy=False))
    program = ideal.prepare(bell_chain(), observable=OBSERVABLE)
    out = ideal.execute(program, np.zeros((1, 0)), ExecutionOptions(mitigation=zne(1, 3, 5)))
    np.testing.assert_allclose(out.mitigation[0].expectation_values, EXACT, atol=1e-10)


def test_every_scale_factor_is_charged_as_device_time(ion):
    program = ion.prepare(bell_chain(), observable=OBSERVABLE)
    plain = ion.execute(program, np.zeros((1, 0)), ExecutionOptions(shot_count=1000, seed=1))
    folded = ion.execute(program, np.zeros((1, 0)),
                         ExecutionOptions(shot_count=1000, seed=1, mitigation=zne(1, 3, 5)))
    per_shot_gate_s = program.duration_ns * 1e-9 * 1000 * 2  # two measurement settings
    assert folded.device_time_s == pytest.approx(3 * plain.device_time_s
                                                 + (2 + 4) * per_shot_gate_s, rel=1e-6)


def test_twirling_is_reproducible_and_splits_the_shots():
    grid = SimulatedQpuDriver(*superconducting_grid(), drift=False)
    program = grid.prepare(bell_chain(), observable=OBSERVABLE)
    twirl = MitigationOptions(pauli_twirling=PauliTwirling(randomization_count=4))
    runs = [grid.execute(program, np.zeros((1, 0)),
                         ExecutionOptions(shot_count=4000, seed=seed, mitigation=twirl))
            for seed in (3, 3, 4)]
    assert runs[0].expectation_values[0] == runs[1].expectation_values[0]
    assert runs[0].expectation_values[0] != runs[2].expectation_values[0]
    plain = grid.execute(program, np.zeros((1, 0)), ExecutionOptions(shot_count=4000, seed=3))
    assert runs[0].device_time_s == pytest.approx(plain.device_time_s, rel=0.05)
    assert runs[0].mitigation[0].randomization_count == 4


def test_zne_gradients_are_extrapolated_linearly(ion):
    theta = ParameterExpression.symbol("theta")
    circuit = Circuit(2, (Operation("ry", (0,), (theta,)), Operation("cx", (0, 1))),
                      parameters=("theta",))
    program = ion.prepare(circuit, observable=[("Z0 Z1", 1.0)])
    x = np.array([[0.4]])
    options = zne(1, 3)
    out = ion.execute(program, x, ExecutionOptions(gradient=True, mitigation=options))
    shift = 1e-4
    plus = ion.execute(program, x + shift, ExecutionOptions(mitigation=options))
    minus = ion.execute(program, x - shift, ExecutionOptions(mitigation=options))
    numeric = (plus.expectation_values[0] - minus.expectation_values[0]) / (2 * shift)
    assert out.gradients[0, 0] == pytest.approx(numeric, abs=1e-6)
    with pytest.raises(InvalidProgramError, match="linear fit"):
        ion.execute(program, x, ExecutionOptions(
            gradient=True, mitigation=zne(1, 3, fit=Extrapolation.EXPONENTIAL)))


def test_options_are_checked_against_the_program_and_device(ion):
    program = ion.prepare(bell_chain(), observable=OBSERVABLE)
    with pytest.raises(InvalidProgramError, match="repeat"):
        ion.check_mitigation(program, zne(1.0, 1.01))
    counts = ion.prepare(Circuit(1, (Operation("x", (0,)), Operation("measure", (0,), (),
                                                                     (0,))), 1), observable=None)
    with pytest.raises(InvalidProgramError, match="observable"):
        ion.check_mitigation(counts, zne(1, 3))
    ideal = SimulatedQpuDriver(*trapped_ion_chain("ion-ideal", noisy=False))
    with pytest.raises(FailedPreconditionError, match="do not decohere"):
        ideal.check_mitigation(ideal.prepare(bell_chain(), observable=OBSERVABLE),
                               MitigationOptions(dynamical_decoupling=DynamicalDecoupling(
                                   DecouplingSequence.XX)))
