"""The user-path cases, their full and ``--quick`` sizes, and the targets they are held to."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = [
    "ACCEPT_TARGET_S",
    "PARSE_SIZES",
    "QPU_ID",
    "RATIO_TARGET",
    "SHOT_COUNT",
    "UserCase",
    "accept_size",
    "parse_sizes",
    "user_cases",
]

#: The QPU every qcore job and session runs on: noiseless, all-to-all trapped-ion model.
QPU_ID = "ion-ideal-24"
#: Shots of every counts job (qcore, Aer and qulacs alike).
SHOT_COUNT = 1000
#: Target of every user-path row: qcore's median ÷ the best peer's median at most this
#: (qcore at least 1.4× faster than the fastest peer).
RATIO_TARGET = 1 / 1.4
#: Target of the large submission: SubmitJob returns (job accepted) within this many seconds.
ACCEPT_TARGET_S = 10.0

#: Program sizes of the parse-time table, bytes (full run; ``--quick`` in :func:`parse_sizes`).
PARSE_SIZES = (10_000, 100_000, 600_000, 3_000_000)
_QUICK_PARSE_SIZES = (10_000, 30_000, 60_000, 120_000)


@dataclass(frozen=True, slots=True)
class UserCase:
    """One row group of the user-path table.

    Attributes:
        key: identifier (also sent to the workers).
        title: the report's description.
        kind: ``counts`` (1000 shots), ``expectation`` (exact ⟨H⟩, shot_count 0) or
            ``session`` (one evaluation in an open session).
        program: a :data:`~benchmarks.user_path.programs.PROGRAM_KINDS` entry, or ``hea``
            (the session's parametric ansatz, :func:`benchmarks.simulator.workloads.hea`).
        qubits: width.
        layers: layers of ``layered`` and ``hea`` programs.
        gate_count: approximate gates of a ``deep`` program.
        terms: Pauli terms of the observable (``expectation``, ``session``).
    """

    key: str
    title: str
    kind: str
    program: str
    qubits: int
    layers: int = 20
    gate_count: int = 0
    terms: int = 0

    def spec(self) -> dict[str, object]:
        """The case as a JSON-able dict (what the workers receive)."""
        return asdict(self)


def user_cases(*, quick: bool) -> tuple[UserCase, ...]:
    """The cases at full size, or small ones for ``--quick`` (a smoke test)."""
    n20, n16, deep = (10, 8, 1_500) if quick else (20, 16, 24_000)
    session_n = 6 if quick else 12
    return (
        UserCase("qft", f"QFT-{n20} of a basis state, measured", "counts", "qft", n20),
        UserCase("layered", f"RY/RZ + CNOT ladder × 20 layers, {n20} qubits, measured",
                 "counts", "layered", n20, layers=20),
        UserCase("qv", f"quantum-volume-style, {n20} qubits × depth {n20} (u3/cx), measured",
                 "counts", "qv", n20),
        UserCase("deep", f"deep {n16}-qubit circuit, ~{round(deep / 1000, 1):g}k gates, "
                 "measured", "counts", "deep", n16, gate_count=deep),
        UserCase("energy", f"exact ⟨H⟩, 100 Pauli terms, layered {n20} qubits × 20 layers",
                 "expectation", "layered", n20, layers=20, terms=100),
        UserCase("session", f"session step: one parameter set, 4-layer HEA, {session_n} "
                 "qubits, 100-term ⟨H⟩", "session", "hea", session_n, layers=4, terms=100),
    )


def parse_sizes(*, quick: bool) -> tuple[int, ...]:
    """Requested program sizes of the parse-time table, bytes."""
    return _QUICK_PARSE_SIZES if quick else PARSE_SIZES


def accept_size(*, quick: bool) -> int:
    """Requested size of the large submission, bytes (3 MB; 200 kB with ``--quick``)."""
    return 200_000 if quick else 3_000_000
