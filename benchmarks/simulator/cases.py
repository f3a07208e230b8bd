"""The benchmark cases, their sizes (full and ``--quick``) and the targets they are held to."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CASES", "Case"]


@dataclass(frozen=True, slots=True)
class Case:
    """One row of the report.

    Attributes:
        key: identifier passed to the worker.
        workload: ``layered``, ``qft``, ``energy``, ``gradient``, ``vqe`` or ``session``.
        title: the report's description.
        qubits: full size; ``quick_qubits``: the ``--quick`` size.
        target: the target as text; ``target_s``: seconds (None: a ratio target, see notes).
        peers_reference: the peers' figures the targets were set from (another machine of
            this kind), as text.
    """

    key: str
    workload: str
    title: str
    qubits: int
    quick_qubits: int
    target: str
    target_s: float | None
    peers_reference: str


CASES: tuple[Case, ...] = (
    Case("layered20", "layered", "layered RY+RZ / CNOT ladder × 20 layers", 20, 12,
         "≤ 0.5 s", 0.5, "pyqpanda3 0.72 s, qulacs 1.26 s, Aer 1.36 s"),
    Case("layered24", "layered", "layered RY+RZ / CNOT ladder × 20 layers", 24, 14,
         "≤ 10 s", 10.0, "pyqpanda3 14.7 s"),
    Case("qft24", "qft", "QFT", 24, 14, "≤ 3 s", 3.0,
         "numba kernel 3.5 s, qulacs 5.8 s, pyqpanda3 6.3 s, Aer 8.5 s"),
    Case("energy20", "energy", "⟨H⟩, 100 random Pauli strings, 4-layer HEA", 20, 12,
         "≤ 0.3 s", 0.3, "qulacs 0.40 s"),
    Case("gradient20", "gradient", "full gradient, 160 parameters (adjoint)", 20, 12,
         "≤ 3 × energy", None, "qulacs 1.9 s, pyqpanda3 4.3 s, Aer param-shift 246 s"),
    Case("vqe12", "vqe", "VQE step, 100-term H, new parameters (in-process)", 12, 8,
         "—", None, "qulacs 2.3 ms"),
    Case("session12", "session", "VQE step through a qcore gRPC session, 1 set/message",
         12, 8, "≤ 2.3 ms", 2.3e-3, "qulacs 2.3 ms in-process"),
    Case("session12x100", "session", "same, 100 sets per message (time per set)", 12, 8,
         "≤ 1 ms", 1e-3, "qulacs 2.3 ms in-process"),
)
