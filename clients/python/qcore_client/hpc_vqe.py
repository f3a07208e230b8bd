"""A VQE driven from a batch job through one session (``make hpc-local``; docs/hpc.md).

Starts a qcore stack (:class:`~qcore_client.launcher.LocalStack`: broker, quantum and
classical services) whose quantum service reads its executor from the environment
(``QCORE_QUANTUM_EXECUTOR=local`` for a Dask LocalCluster, ``slurm`` for dask-jobqueue
workers on a Slurm allocation, ``scheduler`` with ``QCORE_DASK_SCHEDULER``), opens one session
on the ideal QPU and minimises the energy of a transverse-field Ising chain
``H = -Σ Z_i Z_{i+1} - g Σ X_i`` (open boundary) from ``--starts`` starting points at once:
each iteration sends all of them as one parameter batch with gradients (the batch the
executor spreads over its workers) and moves each by Adam (Kingma & Ba, arXiv:1412.6980).
The exact ground energy (dense diagonalisation) is the reference. Writes a JSON summary and
stops everything it started.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from qcore_client.client import QuantumClient
from qcore_client.launcher import LocalStack

__all__ = ["ising_observable", "ansatz_qasm", "exact_ground_energy", "main"]


def ising_observable(n: int, g: float) -> list[tuple[str, float]]:
    """``-Σ Z_i Z_{i+1} - g Σ X_i`` on ``n`` qubits (open chain)."""
    return ([(f"Z{i} Z{i + 1}", -1.0) for i in range(n - 1)]
            + [(f"X{i}", -g) for i in range(n)])


def ansatz_qasm(n: int, layers: int) -> str:
    """A hardware-efficient ansatz: ``layers`` × (ry on every qubit, a cx ladder), then ry;
    parameters ``t0 .. t{n(layers+1)-1}``."""
    count = n * (layers + 1)
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";']
    lines += [f"input float[64] t{k};" for k in range(count)]
    lines.append(f"qubit[{n}] q;")
    k = 0
    for layer in range(layers + 1):
        for q in range(n):
            lines.append(f"ry(t{k}) q[{q}];")
            k += 1
        if layer < layers:
            lines += [f"cx q[{q}], q[{q + 1}];" for q in range(n - 1)]
    return "\n".join(lines) + "\n"


def exact_ground_energy(n: int, g: float) -> float:
    """The lowest eigenvalue of :func:`ising_observable` by dense diagonalisation."""
    z = np.array([1.0, -1.0])
    dim = 1 << n
    index = np.arange(dim)
    h = np.zeros((dim, dim))
    for i in range(n - 1):
        h[index, index] -= z[(index >> i) & 1] * z[(index >> (i + 1)) & 1]
    for i in range(n):
        h[index, index ^ (1 << i)] -= g
    return float(np.linalg.eigvalsh(h)[0])


def run_vqe(address: str, token: str, *, n: int, layers: int, g: float, starts: int,
            iterations: int, seed: int) -> dict[str, object]:
    """The batched multi-start VQE through one session; returns its summary."""
    rng = np.random.default_rng(seed)
    params = rng.uniform(-0.3, 0.3, size=(starts, n * (layers + 1)))
    first, second = np.zeros_like(params), np.zeros_like(params)
    rate, beta1, beta2 = 0.1, 0.9, 0.999
    started = time.perf_counter()
    with QuantumClient(address, token=token) as client, client.session(
            ansatz_qasm(n, layers), ising_observable(n, g), qpu_id="ion-ideal-24") as session:
        for step in range(1, iterations + 1):
            energies, grads = session.evaluate(params, gradient=True)
            first = beta1 * first + (1 - beta1) * grads
            second = beta2 * second + (1 - beta2) * grads**2
            params -= rate * (first / (1 - beta1**step)) / (
                np.sqrt(second / (1 - beta2**step)) + 1e-8)
        energies = session.evaluate(params)
        engine = session.last.engine
    best = float(np.min(energies))
    exact = exact_ground_energy(n, g)
    return {"qubit_count": n, "layers": layers, "field_g": g, "starts": starts,
            "iterations": iterations, "energy": best, "exact_energy": exact,
            "error": best - exact, "engine": engine,
            "wall_s": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=8)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--field", type=float, default=1.0)
    parser.add_argument("--starts", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("var/hpc"))
    parser.add_argument("--out", type=Path, default=Path("out/hpc_vqe.json"))
    args = parser.parse_args(argv)
    with LocalStack(workdir=args.workdir) as stack:
        summary = run_vqe(stack.quantum_address, stack.token, n=args.qubits,
                          layers=args.layers, g=args.field, starts=args.starts,
                          iterations=args.iterations, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
