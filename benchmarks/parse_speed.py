"""OpenQASM 2 parsing speed: qcore's ``parse_qasm`` against Qiskit's ``qiskit.qasm2.loads``.

Generated QASMBench-style programs of about 10 KB, 100 KB, 600 KB and 3 MB (``qelib1.inc``
gates with literal and ``pi`` expression parameters, user gate definitions, nested ones
included, called with register broadcasting, barriers and measurements) are parsed by both, the
best of ``--repeat`` interleaved runs each; then nesting bombs (each gate calls the previous
one two or three times) are parsed by ``parse_qasm``, each in a fresh process, and the time to
its outcome, the peak of Python allocations while parsing (``tracemalloc``) and the growth of
peak resident memory (``ru_maxrss``) are printed.

Not part of ``make bench``; run it alone:
``python benchmarks/parse_speed.py [--repeat 3]``. Needs ``qiskit`` (installed
with ``qiskit-aer``, the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from quantum_service.circuits.qasm import parse_qasm
from quantum_service.errors import InvalidProgramError

_HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
_DEFINITIONS = """gate majority a, b, c { cx c, b; cx c, a; ccx a, b, c; }
gate unmaj a, b, c { ccx a, b, c; cx c, a; cx a, b; }
gate zz(theta) a, b { cx a, b; rz(theta) b; cx a, b; }
gate layer(theta, phi) a, b { zz(theta) a, b; u3(phi, -phi/2, pi/4) a; ry(2*theta) b; }
"""


def generated_program(target_bytes: int, *, seed: int = 7, qubits: int = 24) -> str:
    """A valid OpenQASM 2 program of about ``target_bytes`` bytes (see the module docstring)."""
    rng = random.Random(seed)
    lines = [_HEADER + _DEFINITIONS, f"qreg q[{qubits}];", f"qreg r[{qubits}];",
             f"creg c[{qubits}];"]
    size = sum(len(line) + 1 for line in lines)
    while size < target_bytes:
        a, b, c = rng.sample(range(qubits), 3)
        kind = rng.randrange(10)
        if kind < 3:
            line = (f"u3({rng.uniform(-3, 3)!r},{rng.uniform(-3, 3)!r},{rng.uniform(-3, 3)!r}) "
                    f"q[{a}];")
        elif kind < 6:
            line = f"cx q[{a}],q[{b}];"
        elif kind == 6:
            line = f"rz(pi/{rng.randrange(1, 64)}) q[{a}];"
        elif kind == 7:
            line = f"majority q[{a}],q[{b}],q[{c}];"
        elif kind == 8:
            line = f"layer({rng.uniform(0, 1):.6f}, -pi/{rng.randrange(1, 9)}) q[{a}],r[{b}];"
        else:
            line = "h r;" if rng.random() < 0.5 else f"barrier q[{a}],r[{b}];"
        lines.append(line)
        size += len(line) + 1
    lines.append("measure q -> c;")
    return "\n".join(lines) + "\n"


def nesting_bomb(depth: int, calls: int) -> str:
    """Gate ``g{k}`` calls ``g{k-1}`` ``calls`` times; one call of ``g{depth}`` is
    ``2 * calls**depth`` gates."""
    definitions = ["gate g0 a, b { h a; cx a, b; }"] + [
        f"gate g{i + 1} a, b {{ {' '.join([f'g{i} b, a;'] * calls)} }}" for i in range(depth)]
    return _HEADER + "qreg q[2];\n" + "\n".join(definitions) + f"\ng{depth} q[0], q[1];\n"


def _time(function, text: str) -> float:
    start = time.perf_counter()
    function(text)
    return time.perf_counter() - start


def _outcome(function):
    """``function`` with its exception (a rejected program) caught: a rejection is timed too."""
    def run(text: str) -> None:
        with contextlib.suppress(Exception):  # both parsers reject some benchmark programs
            function(text)
    return run


def _bomb_child(depth: int, calls: int) -> None:
    text = nesting_bomb(depth, calls)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.perf_counter()
    try:
        parse_qasm(text)
        outcome = "accepted"
    except InvalidProgramError as exc:
        outcome = f"rejected ({exc.reason})"
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"{len(text)}\t{elapsed}\t{(after - before) / 1024}\t{peak / 2**20}\t{outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("qasm", nargs="*", help="more OpenQASM 2 files to compare on "
                        "(e.g. QASMBench programs)")
    parser.add_argument("--bomb-child", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bomb_child is not None:
        _bomb_child(*args.bomb_child)
        return
    import qiskit.qasm2

    def qiskit_loads(text: str) -> object:
        return qiskit.qasm2.loads(text,
                                  custom_instructions=qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS)

    print("| program | bytes | operations | qcore parse_qasm (s) | qiskit.qasm2.loads (s) | "
          "qiskit / qcore |")
    print("|---|---:|---:|---:|---:|---:|")
    programs = [(f"generated, {label}", generated_program(target)) for label, target in (
        ("10 KB", 10_000), ("100 KB", 100_000), ("600 KB", 600_000), ("3 MB", 3_000_000))]
    programs += [(Path(path).name, Path(path).read_text()) for path in args.qasm]
    for label, text in programs:
        try:
            operations: int | str = len(parse_qasm(text).operations)
        except InvalidProgramError as exc:
            operations = f"rejected ({exc.reason})"
        ours = theirs = float("inf")
        for _ in range(args.repeat):  # interleaved, so that load on the machine hits both
            ours = min(ours, _time(_outcome(parse_qasm), text))
            theirs = min(theirs, _time(_outcome(qiskit_loads), text))
        print(f"| {label} | {len(text)} | {operations} | {ours:.4f} | {theirs:.4f} | "
              f"{theirs / ours:.2f} |")
    print()
    for depth, calls in ((18, 3), (24, 2), (18, 2)):
        out = subprocess.run([sys.executable, __file__, "--bomb-child", str(depth), str(calls)],
                             capture_output=True, text=True, check=True).stdout.split("\t")
        print(f"Nesting bomb, depth {depth}, {calls} calls a level ({out[0]} bytes, "
              f"{2 * calls ** depth} gates if expanded): {out[4].strip()} in "
              f"{float(out[1]) * 1000:.1f} ms (under tracemalloc), peak traced allocations "
              f"{float(out[3]):.1f} MiB, peak resident memory +{float(out[2]):.1f} MiB")


if __name__ == "__main__":
    main()
