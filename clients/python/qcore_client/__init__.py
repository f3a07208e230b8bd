"""qcore's Python SDK: clients of the quantum and classical services, a circuit builder,
observables, and the problems of qcore's main job.

>>> from qcore_client import Circuit, QuantumClient
"""

from __future__ import annotations

from qcore_client.circuit import Circuit, Parameter, ParameterExpression
from qcore_client.client import (
    AsyncClassicalClient,
    AsyncQuantumClient,
    AsyncSession,
    ClassicalClient,
    QuantumClient,
    Session,
    mitigation_options,
)
from qcore_client.observable import Observable
from qcore_client.tls import ClientTls

__all__ = [
    "Circuit",
    "Parameter",
    "ParameterExpression",
    "Observable",
    "QuantumClient",
    "AsyncQuantumClient",
    "ClassicalClient",
    "AsyncClassicalClient",
    "Session",
    "AsyncSession",
    "ClientTls",
    "mitigation_options",
]
