"""The user path: OpenQASM 2 text submitted to a running qcore quantum service over gRPC,
against Qiskit Aer and qulacs doing the same whole task, parse included.

Run with ``python -m benchmarks.run`` (``--parts user`` for this part alone); see
:mod:`benchmarks.user_path.runner` for how it is measured and :mod:`benchmarks.user_path.report`
for the targets.
"""
