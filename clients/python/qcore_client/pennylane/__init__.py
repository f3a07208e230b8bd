"""PennyLane on qcore (optional extra ``pennylane``): the ``qcore.qpu`` device.

>>> import pennylane as qml
>>> dev = qml.device("qcore.qpu", wires=2, qpu_id="ion-ideal-24")   # via the entry point
>>> # or: from qcore_client.pennylane import QcoreDevice; dev = QcoreDevice(wires=2, ...)
"""

from __future__ import annotations

from qcore_client.pennylane.device import QcoreDevice

__all__ = ["QcoreDevice"]
