"""The machine a run measured: CPU, memory, load, library versions, and memory bandwidth.

Bandwidth follows McCalpin's STREAM kernels ("Memory Bandwidth and Machine Balance in Current
High Performance Computers", IEEE TCCA Newsletter, 1995): *copy* ``a = b`` (16 bytes per
float64 element counted: one read, one write) with NumPy (one thread), and *triad*
``a = b + s c`` (24 bytes) with a numba ``prange`` loop on the run's thread count. Arrays are
256 MiB each, far above the caches; the best of several runs is reported, as STREAM does.
"""

from __future__ import annotations

import os
import platform
import time
from importlib.metadata import PackageNotFoundError, version

import numba
import numpy as np
from numba import njit, prange

__all__ = ["bandwidth", "machine_info"]

_BYTES = 256 << 20


@njit(parallel=True, cache=True)
def _triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, s: float) -> None:
    for i in prange(a.size):
        a[i] = b[i] + s * c[i]


def bandwidth(*, runs: int = 10) -> dict[str, float]:
    """``{"copy_gb_s": ..., "triad_gb_s": ...}``, GB = 1e9 bytes, best of ``runs``."""
    n = _BYTES // 8
    a, b, c = np.zeros(n), np.ones(n), np.full(n, 2.0)
    _triad(a, b, c, 3.0)
    copy_best = triad_best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        np.copyto(a, b)
        copy_best = min(copy_best, time.perf_counter() - start)
        start = time.perf_counter()
        _triad(a, b, c, 3.0)
        triad_best = min(triad_best, time.perf_counter() - start)
    return {"copy_gb_s": 16 * n / copy_best / 1e9, "triad_gb_s": 24 * n / triad_best / 1e9}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return float("nan")


def _dist(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, object]:
    """CPU, cores, memory, OS, Python and library versions, numba threading."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(_memory_gib(), 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": numba.config.THREADING_LAYER,
        "qulacs": _dist("qulacs"),
        "qiskit-aer": _dist("qiskit-aer"),
        "qiskit": _dist("qiskit"),
        "pyqpanda3": _dist("pyqpanda3"),
        "grpcio": _dist("grpcio"),
    }
