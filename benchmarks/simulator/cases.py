"""The kernel cases, their sizes (full and ``--quick``) and the targets they are held to."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CASES", "Case"]


@dataclass(frozen=True, slots=True)
class Case:
    """One row group of the kernel tables.

    Attributes:
        key: identifier passed to the worker.
        workload: ``layered``, ``qft``, ``energy``, ``gradient``, ``vqe`` or ``session``.
        title: the report's description.
        qubits: full size; ``quick_qubits``: the ``--quick`` size.
        target: the target as text; ``target_s``: seconds (None: a ratio target, see notes).
        references: the peers' times the target was set from (another machine of this kind),
            as ``(backend, seconds)`` for backends this case measures.
        reference_note: other figures behind the target, as text.
    """

    key: str
    workload: str
    title: str
    qubits: int
    quick_qubits: int
    target: str
    target_s: float | None
    references: tuple[tuple[str, float], ...] = ()
    reference_note: str = ""


CASES: tuple[Case, ...] = (
    Case("layered20", "layered", "layered RY+RZ / CNOT ladder × 20 layers", 20, 12,
         "≤ 0.5 s", 0.5, (("pyqpanda3", 0.72), ("qulacs", 1.26), ("aer", 1.36))),
    Case("layered24", "layered", "layered RY+RZ / CNOT ladder × 20 layers", 24, 14,
         "≤ 10 s", 10.0, (("pyqpanda3", 14.7),)),
    Case("qft24", "qft", "QFT", 24, 14, "≤ 3 s", 3.0,
         (("qulacs", 5.8), ("pyqpanda3", 6.3), ("aer", 8.5)), "numba kernel 3.5 s"),
    Case("energy20", "energy", "⟨H⟩, 100 random Pauli strings, 4-layer HEA", 20, 12,
         "≤ 0.3 s", 0.3, (("qulacs", 0.40),)),
    Case("gradient20", "gradient", "full gradient, 160 parameters (adjoint)", 20, 12,
         "≤ 3 × energy", None, (("qulacs", 1.9), ("pyqpanda3", 4.3)),
         "Aer parameter shift 246 s"),
    Case("vqe12", "vqe", "VQE step, 100-term H, new parameters (in-process)", 12, 8,
         "—", None, (("qulacs", 2.3e-3),)),
    Case("session12", "session", "VQE step through a qcore gRPC session, 1 set/message",
         12, 8, "≤ 2.3 ms", 2.3e-3, (), "qulacs 2.3 ms in-process"),
    Case("session12x100", "session", "same, 100 sets per message (time per set)", 12, 8,
         "≤ 1 ms", 1e-3, (), "qulacs 2.3 ms in-process"),
)
