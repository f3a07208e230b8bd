"""Calibration of simulated QPUs: experiments run on the device, fits, a dependency graph of
calibration nodes, drift detection and triggers, and readout-error mitigation.

Modules: :mod:`.programs` (experiment circuits), :mod:`.fitting` (curve fits with
uncertainties), :mod:`.experiments` (one function per calibration node), :mod:`.graph` (the
node DAG and freshness), :mod:`.canary` (cheap drift checks), :mod:`.manager`
(:class:`~quantum_service.calibration.manager.CalibrationManager`, the kernel hook),
:mod:`.mitigation` (readout-error mitigation). Imported lazily: drivers use
:mod:`.mitigation` without pulling in the rest.
"""
