"""Neutral-atom QPUs: atoms in optical tweezers, Rydberg-blockade CZ, atom loss.

Physics modelled here (device parameter values and their sources are in
:mod:`quantum_service.drivers.fleet`):

* **Coupling map from geometry.** Two atoms can run the Rydberg CZ when they lie within the
  blockade radius ``R_b = (C6 / Ω)^(1/6)``, where ``C6/R^6`` is the van der Waals interaction
  of two Rydberg atoms and ``Ω`` the Rydberg Rabi frequency (both in units of 2π·Hz):
  Jaksch et al., PRL 85, 2208 (2000); Saffman, Walker & Mølmer, Rev. Mod. Phys. 82, 2313 (2010),
  §IV.A. :class:`AtomArray` turns positions in µm and ``R_b`` into undirected edges.
* **CZ duration.** The time-optimal single-pulse CZ lasts ``T = 7.612 / Ω`` (Ω in rad/s):
  Jandura & Pupillo, PRX Quantum 3, 010353 (2022), the gate used by Evered et al.,
  Nature 622, 268 (2023) at 99.5 % fidelity.
* **Atom loss.** In every shot each *used* atom (an atom the compiled program touches, measures
  or reads an observable on) is lost independently with probability ``λ`` (tweezer loss during
  the circuit and imaging; Bluvstein et al., Nature 626, 58 (2024) and Evered et al. (2023)
  report per-atom loss of order 0.5–1 % per cycle). A lost atom is dark at imaging and reads
  as ``0``. Two readout modes:

  - ``post_select_lost_atoms=True`` (default): the device images occupancy after the circuit
    (a lossless, spin-resolved readout identifies an empty site, as in erasure-aware readout:
    arXiv:2506.20661 (2025); erasure detection: Scholl et al., Nature 622, 273 (2023)) and
    discards every shot in which a used atom was lost: a shot is kept with probability
    ``(1 - λ)^k`` for ``k`` used atoms, ``discarded_shot_counts`` reports the rest (see
    :mod:`quantum_service.drivers.postselection`);
  - ``post_select_lost_atoms=False``: a lost atom is indistinguishable from ``0`` and its
    shot is kept. Loss then acts as an extra, state-independent readout assignment error:
    ``p'(1|0) = (1 - λ) p(1|0)`` and ``p'(0|1) = λ + (1 - λ) p(0|1)`` per atom, which the
    simulated driver applies to counts and expectation values alike.

  Loss in this model is independent of the qubit state (a simplification: loss from Rydberg
  decay during a CZ is state dependent in real devices).

Not modelled: atom rearrangement between gates (the coupling map is static), crosstalk from
the blockade of spectator atoms during parallel gates, and mid-circuit readout.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from quantum_service.contract import (
    ATOM_LOSS,
    POST_SELECTION,
    DeviceParameters,
    Modality,
    QpuCapabilities,
    QubitParameters,
)
from quantum_service.drivers.postselection import PostSelectedQpuDriver
from quantum_service.errors import FailedPreconditionError

__all__ = [
    "TIME_OPTIMAL_CZ_OMEGA_T",
    "AtomArray",
    "NeutralAtomQpuDriver",
    "blockade_radius_um",
    "lost_atom_readout_errors",
    "time_optimal_cz_duration_ns",
]

#: ``Ω·T`` of the time-optimal Rydberg CZ (Jandura & Pupillo, PRX Quantum 3, 010353 (2022)).
TIME_OPTIMAL_CZ_OMEGA_T = 7.612


def blockade_radius_um(*, c6_hz_um6: float, rabi_frequency_hz: float) -> float:
    """Rydberg blockade radius ``R_b = (C6 / Ω)^(1/6)`` (Saffman et al., RMP 82, 2313 (2010)).

    Args:
        c6_hz_um6: van der Waals coefficient ``C6 / h`` in Hz·µm⁶ (> 0).
        rabi_frequency_hz: Rydberg Rabi frequency ``Ω / 2π`` in Hz (> 0).
    Returns:
        ``R_b`` in µm.
    Raises:
        ValueError: a non-positive argument.
    """
    if c6_hz_um6 <= 0 or rabi_frequency_hz <= 0:
        raise ValueError("C6 and the Rabi frequency must be positive")
    return (c6_hz_um6 / rabi_frequency_hz) ** (1.0 / 6.0)


def time_optimal_cz_duration_ns(rabi_frequency_hz: float) -> float:
    """Duration of the time-optimal CZ, ``T = 7.612 / Ω`` with ``Ω = 2π·rabi_frequency_hz``.

    Source: Jandura & Pupillo, PRX Quantum 3, 010353 (2022).

    Raises:
        ValueError: ``rabi_frequency_hz <= 0``.
    """
    if rabi_frequency_hz <= 0:
        raise ValueError("the Rabi frequency must be positive")
    return TIME_OPTIMAL_CZ_OMEGA_T / (2.0 * math.pi * rabi_frequency_hz) * 1e9


@dataclass(frozen=True, slots=True)
class AtomArray:
    """Atom positions and the blockade radius; the coupling map follows from them.

    Attributes:
        positions_um: ``(x, y)`` of atom ``i`` in µm; atom ``i`` is qubit ``i``.
        blockade_radius_um: pairs closer than this (inclusive) can run a CZ.
    """

    positions_um: tuple[tuple[float, float], ...]
    blockade_radius_um: float

    @staticmethod
    def square(rows: int, cols: int, *, spacing_um: float, blockade_radius_um: float
               ) -> AtomArray:
        """A ``rows × cols`` square array; atom ``r * cols + c`` sits at ``(c, r) · spacing``."""
        positions = tuple((c * spacing_um, r * spacing_um)
                          for r, c in itertools.product(range(rows), range(cols)))
        return AtomArray(positions, blockade_radius_um)

    @property
    def atom_count(self) -> int:
        return len(self.positions_um)

    def distance_um(self, a: int, b: int) -> float:
        (xa, ya), (xb, yb) = self.positions_um[a], self.positions_um[b]
        return math.hypot(xa - xb, ya - yb)

    def coupling_map(self) -> tuple[tuple[int, int], ...]:
        """Edges ``(a, b)``, ``a < b``, with ``distance <= blockade_radius_um`` (sorted)."""
        return tuple((a, b) for a, b in itertools.combinations(range(self.atom_count), 2)
                     if self.distance_um(a, b) <= self.blockade_radius_um)


def lost_atom_readout_errors(p01: float, p10: float, loss: float) -> tuple[float, float]:
    """Readout assignment errors including atom loss that reads as ``0``.

    Args:
        p01: probability of reading 1 for an atom in 0 (no loss).
        p10: probability of reading 0 for an atom in 1 (no loss).
        loss: probability ``λ`` that the atom is lost before imaging.
    Returns:
        ``((1 - λ) p01, λ + (1 - λ) p10)``.
    """
    return (1.0 - loss) * p01, loss + (1.0 - loss) * p10


class NeutralAtomQpuDriver(PostSelectedQpuDriver):
    """A simulated neutral-atom QPU (see the module docstring for the model).

    Args:
        capabilities: the device's capabilities; ``coupling_map`` must equal
            ``array.coupling_map()`` and ``modality`` must be ``NEUTRAL_ATOM``.
        parameters: true physical parameters (readout errors without loss).
        array: atom positions and blockade radius.
        atom_loss_probability: ``λ`` in ``[0, 1)``, per used atom and shot.
        post_select_lost_atoms: discard shots with a lost atom (``True``) or read lost atoms
            as ``0`` (``False``).
        simulator_options: passed on to :class:`SimulatedQpuDriver` (drift options).
    Raises:
        FailedPreconditionError: inconsistent device description (reason
            ``INVALID_DEVICE_MODEL``).
    """

    def __init__(self, capabilities: QpuCapabilities, parameters: DeviceParameters, *,
                 array: AtomArray, atom_loss_probability: float,
                 post_select_lost_atoms: bool = True, **simulator_options: Any) -> None:
        _check_model(capabilities, parameters, array, atom_loss_probability)
        if not post_select_lost_atoms and atom_loss_probability > 0 and not capabilities.noisy:
            raise FailedPreconditionError(
                f"neutral-atom QPU {capabilities.qpu_id!r} is declared noiseless, so its readout "
                "is exact and cannot show lost atoms as 0: post-select lost atoms or declare "
                "the device noisy", reason="INVALID_DEVICE_MODEL")
        self._array = array
        self._loss = float(atom_loss_probability)
        self._post_select = bool(post_select_lost_atoms)
        if not self._post_select and self._loss > 0:
            parameters = _with_loss_in_readout(parameters, self._loss)
        super().__init__(capabilities, parameters, **simulator_options)

    @property
    def array(self) -> AtomArray:
        return self._array

    @property
    def atom_loss_probability(self) -> float:
        return self._loss

    @property
    def supports(self) -> dict[str, bool]:
        """Capability flags (``QpuDescription.supports``)."""
        return {ATOM_LOSS: self._loss > 0, POST_SELECTION: self._post_select,
                "gradients": True, "mid_circuit_measurement": self.capabilities.dynamic_circuits}

    @property
    def properties(self) -> dict[str, float]:
        """Modality-specific numbers (``QpuDescription.properties``)."""
        spacing = min((self._array.distance_um(a, b) for a, b in
                       itertools.combinations(range(self._array.atom_count), 2)), default=0.0)
        return {"blockade_radius_um": self._array.blockade_radius_um,
                "min_atom_spacing_um": spacing, "atom_loss_per_shot": self._loss}

    def circuit_keep_probability(self, operations: Sequence[tuple[str, tuple[int, ...]]],
                                 active_qubits: Sequence[int]) -> float:
        """``(1 - λ)^k`` for ``k`` used atoms when post-selecting, else 1 (a lost atom then
        reads as 0 through the readout errors)."""
        if not self._post_select:
            return 1.0
        return (1.0 - self._loss) ** len(active_qubits)


def _check_model(caps: QpuCapabilities, parameters: DeviceParameters, array: AtomArray,
                 loss: float) -> None:
    problems: list[str] = []
    if caps.modality is not Modality.NEUTRAL_ATOM:
        problems.append(f"modality is {caps.modality.value}, not neutral_atom")
    if array.atom_count != caps.qubit_count or len(parameters.qubits) != caps.qubit_count:
        problems.append(f"{array.atom_count} atoms and {len(parameters.qubits)} qubit "
                        f"parameter sets for {caps.qubit_count} qubits")
    elif caps.coupling_map != array.coupling_map():
        problems.append("the coupling map differs from the pairs within the blockade radius")
    if not 0.0 <= loss < 1.0:
        problems.append(f"atom loss probability {loss} is outside [0, 1)")
    if problems:
        raise FailedPreconditionError(
            f"neutral-atom QPU {caps.qpu_id!r}: " + "; ".join(problems) + " (build it with "
            "quantum_service.drivers.fleet.neutral_atom_array)", reason="INVALID_DEVICE_MODEL")


def _with_loss_in_readout(parameters: DeviceParameters, loss: float) -> DeviceParameters:
    qubits: tuple[QubitParameters, ...] = tuple(
        replace(q, readout_p01=p01, readout_p10=p10)
        for q in parameters.qubits
        for p01, p10 in [lost_atom_readout_errors(q.readout_p01, q.readout_p10, loss)])
    return replace(parameters, qubits=qubits)
