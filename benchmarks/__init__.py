"""Reproducible performance runs of qcore.

``python -m benchmarks.run`` (``make bench``) runs the user path (:mod:`benchmarks.user_path`:
OpenQASM text through a running quantum service) and the simulator kernels
(:mod:`benchmarks.simulator`) against peer simulators, and writes ``benchmarks/REPORT.md``.
"""
