"""Reproducible performance runs of qcore.

``python -m benchmarks.run`` (``make bench``) runs the simulator and hybrid-path benchmarks of
:mod:`benchmarks.simulator` against peer simulators and writes ``benchmarks/REPORT.md``.
"""
