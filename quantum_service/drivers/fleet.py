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
* ``sc-wukong-72`` — modelled on Origin Quantum's Origin Wukong (in service since
  2024-01-06). Published: 72 computing qubits and 126 coupler qubits on the "Wukong" chip
  (KF C72-300), i.e. one tunable coupler per nearest-neighbour pair (Xinhua, 2024-01-06 and
  2024-01-15; Global Times via Pakistan Today, 2024-01-06). The layout is not published in
  those sources; 126 couplers are exactly the edges of a 6×12 square lattice, which we take
  (the lattice of the same tunable-coupler architecture in USTC's Zuchongzhi, Wu et al.,
  PRL 127, 180501 (2021)). Native ``{rz, sx, x, cz}`` (tunable-coupler CZ; assumed). Gate
  times are not published: we assume 30 ns for ``sx``/``x`` and 60 ns for ``cz`` (the same
  architecture runs 25–28 ns single-qubit and 42–45 ns CZ gates on Zuchongzhi 3.0/Willow,
  Quantum Computing Report, 2025-01-04), readout 2 µs and active reset 1 µs (assumed).
  Qubit figures are not in Origin Quantum's press material; we take T1 ≈ 15 µs and
  T2 ≈ 5 µs (assumed from the task's 10–20 µs; a third-party benchmark, ALLONE Lab's
  "Benchmarking Wukong", reports an average T2 of 2.2 µs, range 0.8–3.1 µs, which is likely
  T2* of Ramsey), 1q error 3e-3 (fidelity 99.7 %; that benchmark reports ~99.2 %), CZ error
  3e-2 (fidelity 97 %; reported ~97.8 %), readout error 3e-2 (reported 1.2–4.7 %; 97.74 %
  readout fidelity on Zuchongzhi 2.1, Sci. Bull. 67, 240 (2022)); frequency 4.5 GHz (assumed).
* ``sc-eagle-127`` — modelled on IBM Eagle r3 (ibm_sherbrooke, ibm_brisbane, ibm_kyiv):
  127 fixed-frequency transmons on the heavy-hex lattice (Chamberland et al., PRX 10, 011022
  (2020); :func:`~quantum_service.drivers.lattices.heavy_hex_lattice`, 144 edges, degree
  ≤ 3). Native ``{ecr, rz, sx, x}`` (IBM Quantum Platform native gates of Eagle backends;
  ``rz`` virtual). Durations from Eagle r3 backend properties (IBM Quantum Platform,
  2023–2024): ``sx``/``x`` 50–60 ns (we take 60 ns), ``ecr`` 533–660 ns (we take 660 ns),
  readout 1.2–4 µs (we take 4 µs), reset 1 µs (assumed, as ``sc-grid-16``). Median T1
  250 µs and T2 150 µs (published ranges 100–300 µs and 100–200 µs), 1q error 2.5e-4, ECR
  error 8e-3 (0.7–1 %), readout error 1.5e-2 (1–2 %); frequency 4.8 GHz. The
  coherent error of a drifted ECR is modelled, as for every fixed 2-qubit gate, as an
  uncompensated conditional phase (:mod:`quantum_service.engines.executable`), which the
  ``ecr_phase`` calibration node measures (:mod:`quantum_service.calibration.experiments`).
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

Crosstalk (:mod:`quantum_service.devices.crosstalk`), per coupled pair (``PairParameters.zz_khz``,
``spectator_error``): ``sc-grid-16`` and ``sc-eagle-127`` have fixed-coupling-class static ZZ,
median ``ζ/2π = 30 kHz`` (tens of kHz: Sundaresan et al., PRX Quantum 1, 020318 (2020)),
``sc-wukong-72`` tunable couplers idling at a suppressed ``5 kHz`` (a few kHz: Sung et al.,
PRX 11, 021058 (2021); Wukong's value is not published, assumed), each spread log-normally
(σ = 0.4) over the pairs; spectator Z error ``1e-3`` per neighbouring 2-qubit gate on the
transmon devices (Sycamore's 2-qubit error rises from 0.36 % isolated to 0.62 % simultaneous,
Arute et al., Nature 574, 505 (2019)); ``2.5e-4`` between neighbouring ions (1–3 % beam
spill-over, Debnath et al., Nature 536, 63 (2016)) and no static ZZ; neutral atoms in ground
states and photons neither.

The modality physics (blockade coupling, atom loss, heralding, photon loss) lives in
:mod:`quantum_service.drivers.neutral_atom` and :mod:`quantum_service.drivers.photonic`.
Each ``*_drivers()`` function below is a *fleet provider*: registered as a ``qcore.drivers``
entry point, it returns the drivers of one modality (see
:mod:`quantum_service.drivers.registry`).

Per-qubit values are spread around the medians with a fixed seed per device, so every run of
qcore sees the same fleet (:class:`TransmonMedians` for the transmon devices).

Every QPU declares ``max_simulated_qubits`` = its width: noisy programs wider than the exact
density matrix (:data:`quantum_service.engines.select.DENSITY_MATRIX_MAX_QUBITS`) run as
quantum trajectories, on a matrix-product state on ``sc-wukong-72`` and ``sc-eagle-127``
(:func:`quantum_service.engines.select.select_engine`).
"""

from __future__ import annotations

from dataclasses import dataclass

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
from quantum_service.drivers.lattices import heavy_hex_lattice, square_lattice
from quantum_service.drivers.neutral_atom import (
    AtomArray,
    NeutralAtomQpuDriver,
    blockade_radius_um,
    time_optimal_cz_duration_ns,
)
from quantum_service.drivers.photonic import PhotonicLossModel, PhotonicQpuDriver
from quantum_service.drivers.simulated import SimulatedQpuDriver

__all__ = [
    "EAGLE_MEDIANS",
    "GRID_MEDIANS",
    "ION_SPECTATOR_ERROR",
    "SC_SPECTATOR_ERROR",
    "RB70S_C6_HZ_UM6",
    "TransmonMedians",
    "WUKONG_MEDIANS",
    "ibm_eagle",
    "origin_wukong",
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

#: Z-error probability of a transmon next to a driven 2-qubit gate (module docstring).
SC_SPECTATOR_ERROR = 1e-3

#: The same for an ion next to a Mølmer–Sørensen gate (module docstring).
ION_SPECTATOR_ERROR = 2.5e-4

#: ``C6/h`` of two ⁸⁷Rb atoms in 70S₁/₂, Hz·µm⁶ (Amazon Braket's QuEra Aquila capabilities:
#: ``C6 = 5.42e-24 rad·m⁶/s = 2π × 862 690 MHz·µm⁶``).
RB70S_C6_HZ_UM6 = 862_690e6


def _spread(rng: np.random.Generator, median: float, relative: float, n: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, relative, n))


@dataclass(frozen=True, slots=True)
class TransmonMedians:
    """Medians (and log-normal relative spreads) of a transmon device's parameters.

    Per-qubit values are clipped to ``[0.2, 16/3]`` × the readout median (at most 0.3),
    ``[1/6, 10]`` × the 1q median and ``[1/4, 6.25]`` × the 2q median (at most 0.2).

    Attributes:
        t1_us, t2_us: coherence times, µs (T2 is capped at 1.9 T1 per qubit).
        readout_error: mean of ``p(1|0)`` and ``p(0|1)``; ``p(1|0) = 0.7 e``,
            ``p(0|1) = 1.3 e`` (relaxation during readout makes ``p(0|1)`` the larger).
        single_qubit_error, two_qubit_error: average gate infidelities.
        frequency_hz: qubit frequency.
        zz_khz: always-on ZZ rate ``ζ/2π`` per coupled pair, kHz (spread log-normally).
        spectator_error: Z-error probability of a neighbour per 2-qubit gate (all pairs).
        t1_spread, t2_spread, readout_spread, single_qubit_spread, two_qubit_spread,
            zz_spread: σ of the log-normal spread of each value across qubits or pairs.
    """

    t1_us: float
    t2_us: float
    readout_error: float
    single_qubit_error: float
    two_qubit_error: float
    frequency_hz: float
    zz_khz: float = 0.0
    spectator_error: float = 0.0
    t1_spread: float = 0.25
    t2_spread: float = 0.3
    readout_spread: float = 0.4
    single_qubit_spread: float = 0.3
    two_qubit_spread: float = 0.35
    zz_spread: float = 0.4


def _transmon_parameters(medians: TransmonMedians, n: int, edges: tuple[tuple[int, int], ...],
                         seed: int) -> DeviceParameters:
    """Per-qubit and per-pair values spread log-normally around ``medians`` (fixed seed)."""
    m = medians
    rng = np.random.default_rng(seed)
    t1 = _spread(rng, m.t1_us, m.t1_spread, n)
    t2 = np.minimum(_spread(rng, m.t2_us, m.t2_spread, n), 1.9 * t1)
    ro = np.clip(_spread(rng, m.readout_error, m.readout_spread, n), 0.2 * m.readout_error,
                 min(0.3, 16 / 3 * m.readout_error))
    e1 = np.clip(_spread(rng, m.single_qubit_error, m.single_qubit_spread, n),
                 m.single_qubit_error / 6, 10 * m.single_qubit_error)
    qubits = tuple(
        QubitParameters(frequency_hz=float(f), t1_us=float(a), t2_us=float(b),
                        readout_p01=float(0.7 * r), readout_p10=float(1.3 * r),
                        single_qubit_gate_fidelity=float(1 - e))
        for f, a, b, r, e in zip(_spread(rng, m.frequency_hz, 0.03, n), t1, t2, ro, e1)
    )
    e2 = np.clip(_spread(rng, m.two_qubit_error, m.two_qubit_spread, len(edges)),
                 m.two_qubit_error / 4, min(0.2, 6.25 * m.two_qubit_error))
    zz = _spread(rng, m.zz_khz, m.zz_spread, len(edges))
    pairs = {(a, b): PairParameters(a, b, float(1 - e), zz_khz=float(z),
                                    spectator_error=m.spectator_error)
             for (a, b), e, z in zip(edges, e2, zz)}
    return DeviceParameters(qubits, pairs)


#: ``sc-grid-16``'s medians (module docstring).
GRID_MEDIANS = TransmonMedians(t1_us=120.0, t2_us=90.0, readout_error=0.015,
                               single_qubit_error=3e-4, two_qubit_error=8e-3,
                               frequency_hz=4.8e9, zz_khz=30.0,
                               spectator_error=SC_SPECTATOR_ERROR)


def superconducting_grid(qpu_id: str = "sc-grid-16", *, rows: int = 4, cols: int = 4,
                         noisy: bool = True, seed: int = 16
                         ) -> tuple[QpuCapabilities, DeviceParameters]:
    """A transmon device on a square lattice (see the module docstring for sources)."""
    n = rows * cols
    edges = square_lattice(rows, cols)
    caps = QpuCapabilities(
        qpu_id=qpu_id, modality=Modality.SUPERCONDUCTING, qubit_count=n, coupling_map=edges,
        native_gates=(
            NativeGateInfo("rz", 1, 1, 0.0), NativeGateInfo("sx", 1, 0, 36.0),
            NativeGateInfo("x", 1, 0, 36.0), NativeGateInfo("cz", 2, 0, 300.0),
        ),
        readout_duration_ns=1500.0, reset_duration_ns=1000.0, noisy=noisy,
        max_simulated_qubits=n,
        # classical feed-forward after readout: ~0.5-1 us (Corcoles et al., PRL 127, 100501)
        dynamic_circuits=True, feed_forward_latency_ns=700.0,
        description=f"superconducting transmons, {rows}x{cols} square lattice "
                    f"({'noisy' if noisy else 'ideal'}; IBM Eagle/Heron-class parameters)",
    )
    return caps, _transmon_parameters(GRID_MEDIANS, n, edges, seed)


#: ``sc-wukong-72``'s medians (module docstring: which are published, which assumed).
WUKONG_MEDIANS = TransmonMedians(t1_us=15.0, t2_us=5.0, readout_error=0.03,
                                 single_qubit_error=3e-3, two_qubit_error=0.03,
                                 frequency_hz=4.5e9, zz_khz=5.0,
                                 spectator_error=SC_SPECTATOR_ERROR)


def origin_wukong(qpu_id: str = "sc-wukong-72", *, noisy: bool = True, seed: int = 72
                  ) -> tuple[QpuCapabilities, DeviceParameters]:
    """A 72-qubit tunable-coupler transmon device modelled on Origin Wukong: a 6×12 square
    lattice (126 couplers), native ``{rz, sx, x, cz}`` (see the module docstring for sources
    and assumptions)."""
    rows, cols = 6, 12
    n = rows * cols
    edges = square_lattice(rows, cols)
    caps = QpuCapabilities(
        qpu_id=qpu_id, modality=Modality.SUPERCONDUCTING, qubit_count=n, coupling_map=edges,
        native_gates=(
            NativeGateInfo("rz", 1, 1, 0.0), NativeGateInfo("sx", 1, 0, 30.0),
            NativeGateInfo("x", 1, 0, 30.0), NativeGateInfo("cz", 2, 0, 60.0),
        ),
        readout_duration_ns=2000.0, reset_duration_ns=1000.0, noisy=noisy,
        max_simulated_qubits=n,
        dynamic_circuits=True, feed_forward_latency_ns=700.0,
        description=f"superconducting transmons with tunable couplers, {rows}x{cols} square "
                    f"lattice ({'noisy' if noisy else 'ideal'}; Origin Wukong-class "
                    f"parameters)",
    )
    return caps, _transmon_parameters(WUKONG_MEDIANS, n, edges, seed)


#: ``sc-eagle-127``'s medians (module docstring).
EAGLE_MEDIANS = TransmonMedians(t1_us=250.0, t2_us=150.0, readout_error=0.015,
                                single_qubit_error=2.5e-4, two_qubit_error=8e-3,
                                frequency_hz=4.8e9, zz_khz=30.0,
                                spectator_error=SC_SPECTATOR_ERROR)


def ibm_eagle(qpu_id: str = "sc-eagle-127", *, noisy: bool = True, seed: int = 127
              ) -> tuple[QpuCapabilities, DeviceParameters]:
    """A 127-qubit fixed-frequency transmon device modelled on IBM Eagle r3: the heavy-hex
    lattice of :func:`~quantum_service.drivers.lattices.heavy_hex_lattice` (144 edges),
    native ``{rz, sx, x, ecr}`` (see the module docstring for sources)."""
    n, edges = heavy_hex_lattice()
    caps = QpuCapabilities(
        qpu_id=qpu_id, modality=Modality.SUPERCONDUCTING, qubit_count=n, coupling_map=edges,
        native_gates=(
            NativeGateInfo("rz", 1, 1, 0.0), NativeGateInfo("sx", 1, 0, 60.0),
            NativeGateInfo("x", 1, 0, 60.0), NativeGateInfo("ecr", 2, 0, 660.0),
        ),
        readout_duration_ns=4000.0, reset_duration_ns=1000.0, noisy=noisy,
        max_simulated_qubits=n,
        dynamic_circuits=True, feed_forward_latency_ns=700.0,
        description=f"superconducting fixed-frequency transmons, 127-qubit heavy-hex lattice "
                    f"({'noisy' if noisy else 'ideal'}; IBM Eagle r3-class parameters)",
    )
    return caps, _transmon_parameters(EAGLE_MEDIANS, n, edges, seed)


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
        max_simulated_qubits=n,
        # mid-circuit readout with conditional gates, tens of us (Pino et al., Nature 592, 209)
        dynamic_circuits=True, feed_forward_latency_ns=50_000.0,
        description=f"trapped-ion chain of {n} 171Yb+ ions, all-to-all "
                    f"({'noisy' if noisy else 'ideal'}; IonQ Harmony-class parameters)",
    )
    return caps, DeviceParameters(qubits, {}, 0.975 if noisy else 1.0,
                                  default_spectator_error=ION_SPECTATOR_ERROR if noisy else 0.0)


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
        max_simulated_qubits=n,
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
        max_simulated_qubits=n,
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
    """Fleet provider: ``sc-grid-16``, ``sc-wukong-72`` and ``sc-eagle-127``."""
    return [SimulatedQpuDriver(*superconducting_grid()),
            SimulatedQpuDriver(*origin_wukong(), seed=72),
            SimulatedQpuDriver(*ibm_eagle(), seed=127)]


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
