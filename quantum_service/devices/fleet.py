"""The default fleet of simulated QPUs.

Parameters are representative of published devices (order of magnitude, not a copy of one
day's calibration):

* ``sc-grid-16`` — superconducting transmons on a 4×4 square lattice with native
  ``{rz, sx, x, cz}``. ``rz`` is virtual (0 ns, frame change); ``sx``/``x`` 36 ns; ``cz`` 300 ns;
  readout 1.5 µs; reset 1 µs. T1 ≈ 120 µs, T2 ≈ 90 µs, 1q error ≈ 3e-4, 2q error ≈ 8e-3, readout
  error ≈ 1.5e-2. Sources: IBM Quantum Eagle/Heron processor calibration data as published on
  IBM Quantum Platform (2023–2024: sx 36 ns, 2q gates 70–660 ns, median T1 100–300 µs,
  readout error ~1e-2); Krantz et al., "A quantum engineer's guide to superconducting qubits",
  Appl. Phys. Rev. 6, 021318 (2019).
* ``ion-chain-11`` — an 11-ion trapped-ion chain, all-to-all, native ``{r, rz, rxx}`` (``r`` is
  a resonant rotation about an equatorial axis, ``rxx`` a Mølmer–Sørensen gate). ``r`` 10 µs;
  ``rxx`` 200 µs; ``rz`` virtual; readout 130 µs; reset (Doppler cooling + optical pumping)
  50 µs. T1 effectively infinite (1e10 µs), T2 ≈ 1 s; 1q fidelity 0.998, 2q fidelity 0.975,
  readout error 5e-3. Source: IonQ Harmony specifications (11 qubits; 1q 10 µs, 2q 210 µs,
  1q 99.5 %, 2q 97.5 %, SPAM 99.75 %); Wright et al., "Benchmarking an 11-qubit quantum
  computer", Nat. Commun. 10, 5464 (2019).
* ``ion-ideal-24`` — a noiseless 24-qubit trapped-ion model (same native gates and timings as
  ``ion-chain-11``, no errors): the reference device for exact results.

Per-qubit values are spread around the medians with a fixed seed per device, so every run of
qcore sees the same fleet.
"""

from __future__ import annotations

import itertools

import numpy as np

from quantum_service.devices.model import DeviceParameters, PairParameters, QubitParameters
from quantum_service.drivers.base import Modality, NativeGateInfo, QpuCapabilities

__all__ = ["default_fleet", "square_lattice", "superconducting_grid", "trapped_ion_chain"]


def square_lattice(rows: int, cols: int) -> tuple[tuple[int, int], ...]:
    """Edges of a rows×cols square lattice; qubit ``r * cols + c``."""
    edges = []
    for r, c in itertools.product(range(rows), range(cols)):
        q = r * cols + c
        if c + 1 < cols:
            edges.append((q, q + 1))
        if r + 1 < rows:
            edges.append((q, q + cols))
    return tuple(edges)


def _spread(rng: np.random.Generator, median: float, relative: float, n: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, relative, n))


def superconducting_grid(qpu_id: str = "sc-grid-16", *, rows: int = 4, cols: int = 4,
                         noisy: bool = True, seed: int = 16
                         ) -> tuple[QpuCapabilities, DeviceParameters]:
    """A transmon device on a square lattice (see the module docstring for sources)."""
    n = rows * cols
    rng = np.random.default_rng(seed)
    t1 = _spread(rng, 120.0, 0.25, n)
    t2 = np.minimum(_spread(rng, 90.0, 0.3, n), 1.9 * t1)
    ro = np.clip(_spread(rng, 0.015, 0.4, n), 0.003, 0.08)
    e1 = np.clip(_spread(rng, 3e-4, 0.3, n), 5e-5, 3e-3)
    qubits = tuple(
        QubitParameters(frequency_hz=float(f), t1_us=float(a), t2_us=float(b),
                        readout_p01=float(0.7 * r), readout_p10=float(1.3 * r),
                        single_qubit_gate_fidelity=float(1 - e))
        for f, a, b, r, e in zip(_spread(rng, 4.8e9, 0.03, n), t1, t2, ro, e1)
    )
    edges = square_lattice(rows, cols)
    e2 = np.clip(_spread(rng, 8e-3, 0.35, len(edges)), 2e-3, 5e-2)
    pairs = {(a, b): PairParameters(a, b, float(1 - e)) for (a, b), e in zip(edges, e2)}
    caps = QpuCapabilities(
        qpu_id=qpu_id, modality=Modality.SUPERCONDUCTING, qubit_count=n, coupling_map=edges,
        native_gates=(
            NativeGateInfo("rz", 1, 1, 0.0), NativeGateInfo("sx", 1, 0, 36.0),
            NativeGateInfo("x", 1, 0, 36.0), NativeGateInfo("cz", 2, 0, 300.0),
        ),
        readout_duration_ns=1500.0, reset_duration_ns=1000.0, noisy=noisy,
        max_simulated_qubits=10 if noisy else 24,
        description=f"superconducting transmons, {rows}x{cols} square lattice "
                    f"({'noisy' if noisy else 'ideal'}; IBM Eagle/Heron-class parameters)",
    )
    return caps, DeviceParameters(qubits, pairs)


def trapped_ion_chain(qpu_id: str = "ion-chain-11", *, qubit_count: int = 11,
                      noisy: bool = True, seed: int = 11
                      ) -> tuple[QpuCapabilities, DeviceParameters]:
    """An all-to-all trapped-ion chain (see the module docstring for sources)."""
    rng = np.random.default_rng(seed)
    n = qubit_count
    ro = np.clip(_spread(rng, 5e-3, 0.3, n), 1e-3, 3e-2) if noisy else np.zeros(n)
    e1 = np.clip(_spread(rng, 2e-3, 0.2, n), 5e-4, 1e-2) if noisy else np.zeros(n)
    qubits = tuple(
        QubitParameters(frequency_hz=12.642812118e9, t1_us=1e10, t2_us=1e6 if noisy else 1e12,
                        readout_p01=float(r), readout_p10=float(r),
                        single_qubit_gate_fidelity=float(1 - e))
        for r, e in zip(ro, e1)
    )
    caps = QpuCapabilities(
        qpu_id=qpu_id, modality=Modality.TRAPPED_ION, qubit_count=n, coupling_map=None,
        native_gates=(
            NativeGateInfo("r", 1, 2, 10_000.0), NativeGateInfo("rz", 1, 1, 0.0),
            NativeGateInfo("rxx", 2, 1, 200_000.0),
        ),
        readout_duration_ns=130_000.0, reset_duration_ns=50_000.0, noisy=noisy,
        max_simulated_qubits=10 if noisy else 24,
        description=f"trapped-ion chain of {n} 171Yb+ ions, all-to-all "
                    f"({'noisy' if noisy else 'ideal'}; IonQ Harmony-class parameters)",
    )
    return caps, DeviceParameters(qubits, {}, 0.975 if noisy else 1.0)


def default_fleet() -> list[tuple[QpuCapabilities, DeviceParameters]]:
    """The QPUs a fresh qcore owns: a noisy superconducting grid, a noisy ion chain, and an
    ideal (noiseless) 24-qubit ion device."""
    return [
        superconducting_grid(),
        trapped_ion_chain(),
        trapped_ion_chain("ion-ideal-24", qubit_count=24, noisy=False, seed=24),
    ]
