"""Qiskit on qcore (optional extra ``qiskit``): a ``BackendV2`` and the V2 primitives.

>>> from qiskit import QuantumCircuit
>>> from qcore_client.qiskit import QcoreBackend, QcoreEstimatorV2, QcoreSamplerV2
>>> backend = QcoreBackend("ion-ideal-24")          # Target from the QPU's capabilities
>>> counts = backend.run(bell, shots=1000).result().get_counts()
>>> QcoreEstimatorV2(qpu_id="ion-ideal-24").run([(ansatz, SparsePauliOp("ZZ"), [[0.1]])])

Circuits travel as OpenQASM 3 (``qiskit.qasm3.dumps``); qcore compiles them for the QPU (native
gates, routing), so circuits need not be transpiled first. Counts keys are Qiskit's: the highest
clbit first. Observables (``SparsePauliOp``, ``Pauli``, labels) are converted with Qiskit's
little-endian label order: ``"XZ"`` is ``Z`` on qubit 0 and ``X`` on qubit 1, qcore's
``"Z0 X1"``.
"""

from __future__ import annotations

from qcore_client.qiskit.backend import QcoreBackend, QcoreJob
from qcore_client.qiskit.estimator import QcoreEstimatorV2
from qcore_client.qiskit.observables import to_qcore_observable
from qcore_client.qiskit.sampler import QcoreSamplerV2
from qcore_client.qiskit.target import target_from_qpu

__all__ = ["QcoreBackend", "QcoreJob", "QcoreSamplerV2", "QcoreEstimatorV2",
           "to_qcore_observable", "target_from_qpu"]
