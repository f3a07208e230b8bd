"""``MitigationOptions`` messages to domain options (:func:`quantum_service.convert.
mitigation_from_proto`): defaults, and every rejection before queueing."""

from __future__ import annotations

import math

import pytest

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.contract import (
    DecouplingSequence,
    Extrapolation,
    Folding,
    MitigationRecord,
)
from quantum_service.convert import mitigation_from_proto, mitigation_record_to_proto
from quantum_service.errors import InvalidProgramError
from quantum_service.kernel.validation import parse_job


def test_defaults():
    options = mitigation_from_proto(common_pb2.MitigationOptions(
        zero_noise_extrapolation=common_pb2.ZeroNoiseExtrapolation(),
        pauli_twirling=common_pb2.PauliTwirling(),
        dynamical_decoupling=common_pb2.DynamicalDecoupling()))
    zne = options.zero_noise_extrapolation
    assert zne.scale_factors == (1.0, 3.0, 5.0)
    assert zne.folding is Folding.GLOBAL and zne.extrapolation is Extrapolation.RICHARDSON
    assert options.pauli_twirling.randomization_count == 8
    assert options.dynamical_decoupling.sequence is DecouplingSequence.XX
    assert options.scale_factors == (1.0, 3.0, 5.0) and options.randomization_count == 8


@pytest.mark.parametrize("factors, words", [
    ([0.5, 3.0], "from 1"), ([1.0, 22.0], "to 21"), ([1.0, math.nan], "finite"),
    ([1.0, math.inf], "finite"), ([2.0], "2 to 8 distinct"), ([1.0, 1.0], "2 to 8 distinct"),
    ([1, 2, 3, 4, 5, 6, 7, 8, 9], "2 to 8 distinct"),
])
def test_bad_scale_factors(factors, words):
    with pytest.raises(InvalidProgramError, match=words) as caught:
        mitigation_from_proto(common_pb2.MitigationOptions(
            zero_noise_extrapolation=common_pb2.ZeroNoiseExtrapolation(scale_factors=factors)))
    assert caught.value.reason == "INVALID_MITIGATION"


@pytest.mark.parametrize("message, words", [
    (common_pb2.MitigationOptions(), "names no technique"),
    (common_pb2.MitigationOptions(pauli_twirling=common_pb2.PauliTwirling(
        randomization_count=65)), "from 1 to 64"),
    (common_pb2.MitigationOptions(zero_noise_extrapolation=common_pb2.ZeroNoiseExtrapolation(
        extrapolation=7)), "ExtrapolationMethod"),
    (common_pb2.MitigationOptions(dynamical_decoupling=common_pb2.DynamicalDecoupling(
        sequence=3)), "DecouplingSequence"),
])
def test_bad_options(message, words):
    with pytest.raises(InvalidProgramError, match=words):
        mitigation_from_proto(message)


def test_record_round_trip():
    record = MitigationRecord((1.0, 3.0), (0.9, 0.7), (0.01, 0.02), Extrapolation.LINEAR, 4, 6)
    message = mitigation_record_to_proto(record)
    assert list(message.scale_factors) == [1.0, 3.0]
    assert list(message.expectation_values) == [0.9, 0.7]
    assert message.extrapolation == common_pb2.EXTRAPOLATION_METHOD_LINEAR
    assert message.randomization_count == 4 and message.decoupling_pulse_count == 6


def test_mitigation_needs_exactly_one_observable():
    bell = ('OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; h q[0]; cx q[0],q[1];')
    request = qs_pb2.SubmitJobRequest(shot_count=100, programs=[common_pb2.Program(
        openqasm=bell)])
    request.mitigation.zero_noise_extrapolation.scale_factors.extend([1.0, 3.0])
    request.observable.terms.add(pauli_string="Z0 Z1", coefficient=1.0)
    assert parse_job(request).mitigation is not None
    request.ClearField("observable")
    with pytest.raises(InvalidProgramError, match="add an observable") as info:
        parse_job(request)
    assert info.value.reason == "INVALID_MITIGATION"
    for pauli in ("Z0", "Z1"):
        request.observables.add().terms.add(pauli_string=pauli, coefficient=1.0)
    with pytest.raises(InvalidProgramError, match="one mitigated job or session per") as info:
        parse_job(request)
    assert info.value.reason == "INVALID_MITIGATION"
