"""Qiskit observables → qcore observables.

Qiskit labels are little-endian (the rightmost letter acts on qubit 0): ``SparsePauliOp("XZ")``
is ``Z`` on qubit 0 and ``X`` on qubit 1, which qcore writes ``"Z0 X1"`` (qubit 0 is the
least-significant bit of a basis-state index in both; ``quantum_service/circuits/ir.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from qiskit.quantum_info import Pauli, SparsePauliOp

from qcore_client.observable import Observable

__all__ = ["to_qcore_observable"]


def to_qcore_observable(observable: SparsePauliOp | Pauli | str | Mapping[str, complex], *,
                        qubit_count: int | None = None) -> Observable:
    """A qcore :class:`~qcore_client.observable.Observable` from a Qiskit observable.

    Args:
        observable: a ``SparsePauliOp``, a ``Pauli``, a dense Qiskit label (``"XZI"``) or a
            ``{label: coefficient}`` mapping of dense labels, as Qiskit's ``ObservablesArray``
            elements are.
        qubit_count: register width; default the observable's ``num_qubits``.
    Raises:
        ValueError: a complex coefficient (not Hermitian), or a label Qiskit cannot read.
    """
    if isinstance(observable, Pauli):
        observable = SparsePauliOp(observable)
    elif isinstance(observable, str):
        observable = SparsePauliOp(observable)
    elif isinstance(observable, Mapping):
        observable = SparsePauliOp.from_list(list(observable.items())) if observable else \
            SparsePauliOp("I" * max(1, qubit_count or 1), 0.0)
    if not isinstance(observable, SparsePauliOp):
        raise TypeError(f"cannot use {type(observable).__name__} as an observable: pass a "
                        "SparsePauliOp, a Pauli or a label")
    result = Observable.from_sparse_source(observable.simplify(atol=0.0))
    if qubit_count is not None:
        result = Observable(result.terms, qubit_count=qubit_count)
    return result
