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
* ``na-array-16`` — 16 ⁸⁷Rb atoms in a 4×4 tweezer array at 5 µm spacing, native
  ``{rz, r, cz}``. The coupling map is derived from the geometry: the blockade radius
  ``R_b = (C6/Ω)^(1/6) ≈ 7.6 µm`` for ``C6/h = 862 690 MHz·µm⁶`` (Rb 70S; the value of QuEra
  Aquila's Amazon Braket capabilities, ``5.42e-24 rad·m⁶/s``) and ``Ω/2π = 4.6 MHz`` (Evered et
  al., Nature 622, 268 (2023)), so nearest and diagonal neighbours couple (42 edges). ``cz``
  263 ns (time-optimal gate, ``T = 7.612/Ω``, Jandura & Pupillo, PRX Quantum 3, 010353 (2022)),
  fidelity 0.995 (Evered et al. 2023); ``r`` (Raman rotation) 1 µs, fidelity 0.999; ``rz``
  virtual (phase tracked in the control frame). Readout (fluorescence imaging) 10 ms, readout
  error ≈ 5e-3; reset (loading, rearrangement, cooling) 200 ms, i.e. a few shots per second
  as on Aquila (Wurtz et al., arXiv:2306.11727 (2023)). T1 ≈ 4 s, T2 ≈ 1 s with dynamical
  decoupling (Bluvstein et al., Nature 604, 451 (2022); Nature 626, 58 (2024)). Atom loss
  0.5 % per used atom and shot (Bluvstein et al. 2024); shots with a lost atom are discarded.
* ``ph-dualrail-8`` — 8 dual-rail photonic qubits (16 modes) in a programmable interferometer,
  all-to-all, native ``{rz, r, cz}``. ``cz`` heralded with success 1/4 (Pittman, Jacobs &
  Franson, PRA 64, 062311 (2001)), fidelity 0.97 given success (limited by photon
  distinguishability; Hong–Ou–Mandel visibilities of quantum-dot sources are 0.9–0.99:
  Somaschi et al., Nat. Photonics 10, 340 (2016); Tomm et al., Nat. Nanotechnol. 16, 399
  (2021)); ``r`` (Mach–Zehnder stage) and ``rz`` (phase shifter) fidelity 0.999. Photon loss
  1 % per component stage (low-loss silicon-nitride interferometers: Taballione et al.,
  Quantum 7, 1071 (2023)); source efficiency 0.57 into fibre (Tomm et al. 2021); detector
  efficiency 0.90 (superconducting nanowire detectors reach 0.9–0.98: Reddy et al., Optica 7,
  1649 (2020)). Durations are optical path lengths (``rz`` 5 ps, ``r`` 10 ps, ``cz`` 50 ps);
  one attempted shot takes one period of an 80 MHz pulsed source (readout 12.5 ns, no reset);
  readout error 1e-3; photons do not decohere on chip (T1 = T2 = ∞ in practice); the
  photon frequency is 330 THz (≈ 910 nm, InGaAs quantum-dot emission, Tomm et al. 2021).

The modality physics (blockade coupling, atom loss, heralding, photon loss) lives in
:mod:`quantum_service.drivers.neutral_atom` and :mod:`quantum_service.drivers.photonic`.
Each ``*_drivers()`` function below is a *fleet provider*: registered as a ``qcore.drivers``
entry point, it returns the drivers of one modality (see
:mod:`quantum_service.drivers.registry`).

Per-qubit values are spread around the medians with a fixed seed per device, so every run of
qcore sees the same fleet.
"""

from __future__ import annotations

import itertools

import numpy as np

from quantum_service.contract import (
    DeviceParameters,
    Modality,
    NativeGateInfo,
    PairParameters,
    QpuCapabilities,
    QpuDriver,
    QubitParameters,
)
from quantum_service.drivers.neutral_atom import (
    AtomArray,
    NeutralAtomQpuDriver,
    blockade_radius_um,
    time_optimal_cz_duration_ns,
)
from quantum_service.drivers.photonic import PhotonicLossModel, PhotonicQpuDriver
from quantum_service.drivers.simulated import SimulatedQpuDriver

__all__ = [
    "RB70S_C6_HZ_UM6",
    "default_fleet",
    "neutral_atom_array",
    "neutral_atom_drivers",
    "photonic_drivers",
    "photonic_dual_rail",
    "square_lattice",
    "superconducting_drivers",
    "superconducting_grid",
    "trapped_ion_chain",
    "trapped_ion_drivers",
]

#: ``C6/h`` of two ⁸⁷Rb atoms in 70S₁/₂, Hz·µm⁶ (Amazon Braket's QuEra Aquila capabilities:
#: ``C6 = 5.42e-24 rad·m⁶/s = 2π × 862 690 MHz·µm⁶``).
RB70S_C6_HZ_UM6 = 862_690e6


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
        # classical feed-forward after readout: ~0.5-1 us (Corcoles et al., PRL 127, 100501)
        dynamic_circuits=True, feed_forward_latency_ns=700.0,
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
        QubitParameters(frequency_hz=12.642812118e9, t1_us=1e10 if noisy else 1e12,
                        t2_us=1e6 if noisy else 1e12,
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
        # mid-circuit readout with conditional gates, tens of us (Pino et al., Nature 592, 209)
        dynamic_circuits=True, feed_forward_latency_ns=50_000.0,
        description=f"trapped-ion chain of {n} 171Yb+ ions, all-to-all "
                    f"({'noisy' if noisy else 'ideal'}; IonQ Harmony-class parameters)",
    )
    return caps, DeviceParameters(qubits, {}, 0.975 if noisy else 1.0)


def default_fleet() -> list[tuple[QpuCapabilities, DeviceParameters]]:
    """The devices of the fleet that plain :class:`SimulatedQpuDriver` runs: a noisy
    superconducting grid, a noisy ion chain and an ideal (noiseless) 24-qubit ion device.

    The full fleet, all four modalities, comes from
    :func:`quantum_service.drivers.registry.load_drivers`."""
    return [
        superconducting_grid(),
        trapped_ion_chain(),
        trapped_ion_chain("ion-ideal-24", qubit_count=24, noisy=False, seed=24),
    ]


def neutral_atom_array(qpu_id: str = "na-array-16", *, rows: int = 4, cols: int = 4,
                       spacing_um: float = 5.0, rabi_frequency_hz: float = 4.6e6,
                       atom_loss_probability: float = 0.005, post_select_lost_atoms: bool = True,
                       noisy: bool = True, seed: int = 87, drift: bool = True
                       ) -> NeutralAtomQpuDriver:
    """A neutral-atom QPU on a square tweezer array (see the module docstring for sources).

    Args:
        rows, cols: array shape; atom ``r * cols + c`` at ``(c, r) · spacing_um``.
        spacing_um: lattice spacing in µm.
        rabi_frequency_hz: Rydberg ``Ω/2π``; sets the blockade radius and the CZ duration.
        atom_loss_probability: per used atom and shot (0 when ``noisy`` is false).
        post_select_lost_atoms: discard shots with a lost atom, else read lost atoms as 0.
        noisy: ``False`` for an ideal device (no gate, readout or loss errors).
        seed: fixes the per-atom spread of the parameters.
        drift: whether the true parameters drift (``DRIFT_RATES[NEUTRAL_ATOM]``; noisy only).
    """
    n = rows * cols
    rng = np.random.default_rng(seed)
    radius = blockade_radius_um(c6_hz_um6=RB70S_C6_HZ_UM6, rabi_frequency_hz=rabi_frequency_hz)
    array = AtomArray.square(rows, cols, spacing_um=spacing_um, blockade_radius_um=radius)
    edges = array.coupling_map()
    ro = np.clip(_spread(rng, 5e-3, 0.3, n), 1e-3, 3e-2) if noisy else np.zeros(n)
    e1 = np.clip(_spread(rng, 1e-3, 0.2, n), 2e-4, 5e-3) if noisy else np.zeros(n)
    t2 = _spread(rng, 1e6, 0.2, n) if noisy else np.full(n, 1e12)
    qubits = tuple(
        QubitParameters(frequency_hz=6.834682610904e9, t1_us=4e6 if noisy else 1e12,
                        t2_us=float(b), readout_p01=float(0.6 * r), readout_p10=float(1.4 * r),
                        single_qubit_gate_fidelity=float(1 - e))
        for r, e, b in zip(ro, e1, t2)
    )
    e2 = np.clip(_spread(rng, 5e-3, 0.25, len(edges)), 2e-3, 2e-2) if noisy else np.zeros(
        len(edges))
    pairs = {(a, b): PairParameters(a, b, float(1 - e)) for (a, b), e in zip(edges, e2)}
    caps = QpuCapabilities(
        qpu_id=qpu_id, modality=Modality.NEUTRAL_ATOM, qubit_count=n, coupling_map=edges,
        native_gates=(
            NativeGateInfo("rz", 1, 1, 0.0), NativeGateInfo("r", 1, 2, 1000.0),
            NativeGateInfo("cz", 2, 0, time_optimal_cz_duration_ns(rabi_frequency_hz)),
        ),
        readout_duration_ns=10e6, reset_duration_ns=200e6, noisy=noisy,
        max_simulated_qubits=10 if noisy else 24,
        # mid-circuit imaging and feed-forward, ~1 ms (Bluvstein et al., Nature 626, 58 (2024))
        dynamic_circuits=True, feed_forward_latency_ns=1e6,
        description=f"neutral 87Rb atoms, {rows}x{cols} tweezer array at {spacing_um:g} um, "
                    f"Rydberg blockade radius {radius:.2f} um "
                    f"({'noisy' if noisy else 'ideal'}; Harvard/QuEra-class parameters)",
    )
    return NeutralAtomQpuDriver(
        caps, DeviceParameters(qubits, pairs, 0.995 if noisy else 1.0), array=array,
        atom_loss_probability=atom_loss_probability if noisy else 0.0,
        post_select_lost_atoms=post_select_lost_atoms, drift=drift)


def photonic_dual_rail(qpu_id: str = "ph-dualrail-8", *, qubit_count: int = 8,
                       loss_model: PhotonicLossModel | None = None, noisy: bool = True,
                       seed: int = 8, drift: bool = True) -> PhotonicQpuDriver:
    """A dual-rail photonic QPU, all-to-all (see the module docstring for sources).

    Args:
        qubit_count: photons; the interferometer has ``2 * qubit_count`` modes.
        loss_model: herald success and losses; default: the ``ph-dualrail-8`` values. The
            herald is probabilistic on ideal devices too (linear optics), loss is not.
        noisy: ``False`` for an ideal device (no gate or readout errors, no photon loss).
        seed: fixes the per-qubit spread of the parameters.
        drift: whether the true parameters drift (``DRIFT_RATES[PHOTONIC]``; noisy only).
    """
    n = qubit_count
    rng = np.random.default_rng(seed)
    if loss_model is None:
        loss_model = (PhotonicLossModel(two_qubit_herald_success=0.25,
                                        photon_loss_per_component=0.01,
                                        source_efficiency=0.57, detector_efficiency=0.90)
                      if noisy else PhotonicLossModel(two_qubit_herald_success=0.25))
    ro = np.clip(_spread(rng, 1e-3, 0.3, n), 2e-4, 5e-3) if noisy else np.zeros(n)
    e1 = np.clip(_spread(rng, 1e-3, 0.2, n), 2e-4, 5e-3) if noisy else np.zeros(n)
    qubits = tuple(
        QubitParameters(frequency_hz=3.3e14, t1_us=1e12, t2_us=1e12, readout_p01=float(r),
                        readout_p10=float(r), single_qubit_gate_fidelity=float(1 - e))
        for r, e in zip(ro, e1)
    )
    caps = QpuCapabilities(
        qpu_id=qpu_id, modality=Modality.PHOTONIC, qubit_count=n, coupling_map=None,
        native_gates=(
            NativeGateInfo("rz", 1, 1, 0.005), NativeGateInfo("r", 1, 2, 0.01),
            NativeGateInfo("cz", 2, 0, 0.05),
        ),
        readout_duration_ns=12.5, reset_duration_ns=0.0, noisy=noisy,
        max_simulated_qubits=min(n, 10) if noisy else n,
        # detecting a dual-rail photon destroys it: no mid-circuit measurement or feed-forward
        dynamic_circuits=False,
        description=f"dual-rail photonic qubits, {n} photons in a {2 * n}-mode programmable "
                    f"interferometer, heralded CZ (p = {loss_model.two_qubit_herald_success:g}) "
                    f"({'noisy' if noisy else 'ideal'}; quantum-dot source, SiN chip)",
    )
    return PhotonicQpuDriver(caps, DeviceParameters(qubits, {}, 0.97 if noisy else 1.0),
                             loss_model=loss_model, drift=drift)


# -- fleet providers (entry points of group ``qcore.drivers``) -------------------------------


def superconducting_drivers() -> list[QpuDriver]:
    """Fleet provider: ``sc-grid-16``."""
    return [SimulatedQpuDriver(*superconducting_grid())]


def trapped_ion_drivers() -> list[QpuDriver]:
    """Fleet provider: ``ion-chain-11`` and the ideal ``ion-ideal-24``."""
    return [SimulatedQpuDriver(*trapped_ion_chain()),
            SimulatedQpuDriver(*trapped_ion_chain("ion-ideal-24", qubit_count=24, noisy=False,
                                                  seed=24))]


def neutral_atom_drivers() -> list[QpuDriver]:
    """Fleet provider: ``na-array-16``."""
    return [neutral_atom_array()]


def photonic_drivers() -> list[QpuDriver]:
    """Fleet provider: ``ph-dualrail-8``."""
    return [photonic_dual_rail()]
