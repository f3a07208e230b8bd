"""The SDK rejects malformed Pauli strings itself (ValueError naming the fix), before any
request is sent, with the rules the service applies."""

from __future__ import annotations

import pytest

from qcore_client.client import to_observable
from qcore_client.observable import Observable, canonical_pauli_string

BAD = {
    "Z²": "non-ASCII",        # str.isdigit() is True for a superscript two
    "Z١": "non-ASCII",        # int("١") == 1: must not name qubit 1
    "X0\u2003Z1": "non-ASCII",  # an em space is not a separator
    "Ｚ0": "non-ASCII",
    "Z+1": "bad Pauli factor 'Z+1'",
    "Z1_0": "bad Pauli factor",
    "z0": "bad Pauli factor",  # the SDK writes Pauli letters upper case
    "Q0": "bad Pauli factor",
    "Z": "bad Pauli factor",
    "Z1234567890": "at most 9 digits",
    "Z0\n": None,              # a trailing newline is whitespace, not part of the factor
}


@pytest.mark.parametrize("text", sorted(k for k, v in BAD.items() if v is not None))
def test_malformed_pauli_strings_raise_value_error(text):
    with pytest.raises(ValueError, match="X0 Z3") as info:
        canonical_pauli_string(text)
    assert BAD[text] in str(info.value)
    with pytest.raises(ValueError):
        Observable.from_dict({text: 1.0})
    with pytest.raises(ValueError):
        to_observable({text: 1.0})
    with pytest.raises(ValueError):
        to_observable([(text, 1.0)])


def test_ascii_strings_still_canonicalise():
    assert canonical_pauli_string("Z0\n") == "Z0"
    assert canonical_pauli_string(" Z3\tX01 I2 ") == "X1 Z3"
    assert canonical_pauli_string("Z123456789") == "Z123456789"
    message = to_observable({"Z3 X0": 0.5, "": -1.0})
    assert [(t.pauli_string, t.coefficient) for t in message.terms] == [("X0 Z3", 0.5),
                                                                         ("", -1.0)]
