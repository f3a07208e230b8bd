"""Simulator and hybrid-path benchmarks: qcore against qulacs, Qiskit Aer and pyqpanda3.

Run with ``python -m benchmarks.run``; see :mod:`benchmarks.run` for the options and
``benchmarks/REPORT.md`` for the latest results.
"""
