"""``python -m benchmarks.user_path.worker BACKEND [--address HOST:PORT]``: one backend's side of
the user-path run, in a process of its own.

Reads one JSON task per line on stdin and answers one JSON line on stdout (anything else a
library prints goes to stderr). Tasks:

* ``{"op": "version"}`` → ``{"ok": true, "version": ...}``
* ``{"op": "path", "case": UserCase.spec(), "variant": v}`` → ``{"ok": true, "total_s": s,
  "parts": {...}, "check": x, "sha256": ..., "note": ...}``: one timed run of the case on the
  program variant ``v`` (generated here, not timed; ``sha256`` of its text lets the runner
  check that every backend ran the same text).
* ``{"op": "parse_case", "case": UserCase.spec(), "variant": v}`` → ``{"ok": true,
  "total_s": s}`` (qcore): qcore's parser alone on that run's text.
* ``{"op": "parse", "size": bytes, "variant": v}`` → ``{"ok": true, "total_s": s, "size": n}``:
  the backend's parser alone (qcore, aer).
* ``{"op": "accept", "size": bytes, "variant": v}`` → ``{"ok": true, "accept_s": s,
  "result_s": s, "size": n}`` (qcore): a large program through the service.

A failure answers ``{"ok": false, "error": ...}`` and the worker carries on.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.simulator import workloads
from benchmarks.user_path import programs
from benchmarks.user_path.cases import QPU_ID, SHOT_COUNT, UserCase
from benchmarks.user_path.outcome import Outcome

BACKENDS = ("qcore", "aer", "qulacs")


def _program(case: UserCase, variant: int) -> programs.Program:
    return programs.build(case.program, case.qubits, variant, layers=case.layers,
                          gate_count=case.gate_count, measured=case.kind == "counts")


def session_parameters(parameter_count: int, variant: int) -> np.ndarray:
    """The parameter set of a session step, float64 ``(parameter_count,)`` in ``[-π, π)``."""
    return np.random.default_rng(50_000 + variant).uniform(-np.pi, np.pi, parameter_count)


class Worker:
    """Runs tasks for one backend; keeps an open session and per-case notes between tasks."""

    def __init__(self, backend: str, address: str, timeout_s: float) -> None:
        self.backend = backend
        self.sessions: dict[str, tuple[Callable[[np.ndarray], Outcome], Callable[[], None]]] = {}
        self.notes: dict[str, str] = {}
        self.qcore = None
        if backend == "qcore":
            from benchmarks.user_path.qcore_path import QcorePath

            self.qcore = QcorePath(address, qpu_id=QPU_ID, timeout_s=timeout_s)
        self.module = self._module(backend)

    @staticmethod
    def _module(backend: str):  # -> a backend module
        if backend == "qcore":
            from benchmarks.user_path import qcore_path

            return qcore_path
        if backend == "aer":
            from benchmarks.user_path import aer_path

            return aer_path
        from benchmarks.user_path import qulacs_path

        return qulacs_path

    def close(self) -> None:
        for _, close in self.sessions.values():
            with contextlib.suppress(Exception):
                close()
        if self.qcore is not None:
            self.qcore.close()

    # -- tasks -------------------------------------------------------------------------------

    def path(self, case: UserCase, variant: int) -> dict[str, Any]:
        if case.kind == "session":
            outcome = self._session_step(case, variant)
            return {"total_s": outcome.total_s, "parts": outcome.parts, "check": outcome.check,
                    "note": self.notes.get(case.key, "")}
        program = _program(case, variant)
        terms = workloads.random_pauli_terms(case.qubits, case.terms) if case.terms else []
        if self.backend == "qcore":
            assert self.qcore is not None
            outcome = (self.qcore.counts(program.text, shot_count=SHOT_COUNT)
                       if case.kind == "counts" else self.qcore.expectation(program.text, terms))
        elif self.backend == "aer":
            outcome = (self.module.counts(program.text, shot_count=SHOT_COUNT)
                       if case.kind == "counts"
                       else self.module.expectation(program.text, case.qubits, terms))
        else:
            outcome = self._qulacs(case, program, terms)
        return {"total_s": outcome.total_s, "parts": outcome.parts, "check": outcome.check,
                "sha256": hashlib.sha256(program.text.encode()).hexdigest(),
                "note": self.notes.get(case.key, "")}

    def _qulacs(self, case: UserCase, program: programs.Program,
                terms: list[tuple[str, float]]) -> Outcome:
        module = self.module

        def run(via_converter: bool) -> Outcome:
            if case.kind == "counts":
                return module.counts(program, shot_count=SHOT_COUNT,
                                     via_converter=via_converter)
            return module.expectation(program, terms, via_converter=via_converter)

        if case.key not in self.notes:
            try:
                return run(True)
            except module.ConverterError as error:
                self.notes[case.key] = (f"{error}; circuit built from the gate list through "
                                        "qulacs's API instead (timed in place of parsing)")
        return run(not self.notes.get(case.key))

    def _session_step(self, case: UserCase, variant: int) -> Outcome:
        gates, count = workloads.hea(case.qubits, layers=case.layers)
        if case.key not in self.sessions:
            terms = workloads.random_pauli_terms(case.qubits, case.terms)
            if self.backend == "qcore":
                assert self.qcore is not None
                self.sessions[case.key] = self.qcore.open_session(case.qubits, gates, count,
                                                                  terms)
            else:
                self.sessions[case.key] = self.module.open_session(case.qubits, gates, count,
                                                                   terms)
        step, _ = self.sessions[case.key]
        return step(session_parameters(count, variant))

    def parse(self, size: int, variant: int) -> dict[str, Any]:
        program = programs.sized_program(size, variant)
        return {"total_s": self.module.parse_seconds(program.text), "size": program.size_bytes,
                "gates": program.gate_count}

    def accept(self, size: int, variant: int) -> dict[str, Any]:
        assert self.qcore is not None, "accept runs on qcore only"
        program = programs.sized_program(size, variant)
        return {**self.qcore.accept(program.text, shot_count=SHOT_COUNT),
                "size": program.size_bytes, "gates": program.gate_count}

    def handle(self, task: dict[str, Any]) -> dict[str, Any]:
        op = task["op"]
        if op == "version":
            return {"version": self.module.version()}
        if op == "path":
            return self.path(UserCase(**task["case"]), int(task["variant"]))
        if op == "parse_case":
            program = _program(UserCase(**task["case"]), int(task["variant"]))
            return {"total_s": self.module.parse_seconds(program.text)}
        if op == "parse":
            return self.parse(int(task["size"]), int(task["variant"]))
        if op == "accept":
            return self.accept(int(task["size"]), int(task["variant"]))
        raise ValueError(f"unknown op {op!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("backend", choices=BACKENDS)
    parser.add_argument("--address", default="")
    parser.add_argument("--timeout-s", type=float, default=600.0)
    args = parser.parse_args(argv)
    out = sys.stdout
    sys.stdout = sys.stderr  # libraries' prints must not corrupt the protocol
    try:
        worker = Worker(args.backend, args.address, args.timeout_s)
    except Exception as error:  # noqa: BLE001 - reported to the runner
        out.write(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}) + "\n")
        out.flush()
        return 1
    out.write(json.dumps({"ok": True, "ready": args.backend}) + "\n")
    out.flush()
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                reply = {"ok": True, **worker.handle(json.loads(line))}
            except Exception as error:  # noqa: BLE001 - one failed task never ends the run
                reply = {"ok": False, "error": f"{type(error).__name__}: {error}",
                         "traceback": traceback.format_exc(limit=4)}
            out.write(json.dumps(reply, default=float) + "\n")
            out.flush()
    finally:
        worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
