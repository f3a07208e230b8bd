"""Photonic QPUs: dual-rail qubits in a programmable interferometer, heralded CZ, photon loss.

Physics modelled here (device parameter values and their sources are in
:mod:`quantum_service.drivers.fleet`):

* **Dual-rail qubits.** Qubit ``q`` is one photon in two waveguide modes, ``|0⟩ = |1,0⟩``,
  ``|1⟩ = |0,1⟩`` (Knill, Laflamme & Milburn, Nature 409, 46 (2001); Kok et al., Rev. Mod.
  Phys. 79, 135 (2007)). Single-qubit gates are linear optics: a phase shifter on one rail is
  ``rz``, a Mach–Zehnder interferometer (two beam splitters and a phase) is ``r(θ, φ)``; the
  interferometer is programmable between any modes, so the device is all-to-all.
* **Heralded CZ.** Linear optics entangles only probabilistically. The CZ succeeds with
  probability ``p_h`` and ancilla detectors herald success; a failed herald discards the shot.
  qcore's default ``p_h = 1/4`` is the heralded CNOT/CZ with an entangled ancilla photon pair of
  Pittman, Jacobs & Franson, PRA 64, 062311 (2001); the post-selected coincidence-basis CZ has
  ``1/9`` (Ralph et al., PRA 65, 062324 (2002); Okamoto et al., PRL 95, 210506 (2005)) and
  Knill's two-ancilla heralded CZ ``2/27`` (Knill, PRA 66, 052306 (2002)).
* **Photon loss.** Photon ``q`` survives source, interferometer and detector with probability
  ``η_q = η_source · η_detector · (1 - l)^{c_q}``, where ``c_q`` counts the native gates (one
  component stage each) on its path and ``l`` is the loss per component. Loss in dual rail is
  detected (no photon in either rail), so the shot is discarded.
* **Kept shots.** A shot is kept with probability ``p_keep = p_h^{n_2q} · Π_q η_q`` for
  ``n_2q`` CZ gates and the photons ``q`` the program uses; herald failure and loss are
  independent of the qubit state, so the kept shots follow the device's (noisy) state and
  exact expectation values are those of that state (see
  :mod:`quantum_service.drivers.postselection`). Device time counts every attempted shot.
* **Gate errors** conditional on success (partial photon distinguishability, interferometer
  phase errors) are the depolarizing errors of the simulated driver; photons do not decohere
  on chip (``T1``, ``T2`` effectively infinite).

Not modelled: multi-photon emission, dark counts beyond the readout assignment error,
feed-forward, and the fusion-based architectures of large photonic machines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantum_service.contract import (
    HERALDED_TWO_QUBIT_GATES,
    PHOTON_LOSS,
    POST_SELECTION,
    DeviceParameters,
    Modality,
    QpuCapabilities,
)
from quantum_service.drivers.postselection import PostSelectedQpuDriver
from quantum_service.errors import FailedPreconditionError

__all__ = ["PhotonicLossModel", "PhotonicQpuDriver", "photonic_keep_probability"]


@dataclass(frozen=True, slots=True)
class PhotonicLossModel:
    """Probabilistic parts of a photonic QPU.

    Attributes:
        two_qubit_herald_success: ``p_h``, probability that one CZ heralds success, in (0, 1].
        photon_loss_per_component: ``l``, loss of one component stage, in [0, 1).
        source_efficiency: probability that the source delivers the photon into the chip.
        detector_efficiency: probability that a detector clicks on an arriving photon.
    """

    two_qubit_herald_success: float = 0.25
    photon_loss_per_component: float = 0.0
    source_efficiency: float = 1.0
    detector_efficiency: float = 1.0

    def __post_init__(self) -> None:
        bad = []
        if not 0.0 < self.two_qubit_herald_success <= 1.0:
            bad.append(f"two_qubit_herald_success={self.two_qubit_herald_success} not in (0, 1]")
        if not 0.0 <= self.photon_loss_per_component < 1.0:
            bad.append(f"photon_loss_per_component={self.photon_loss_per_component} not in "
                       "[0, 1)")
        for name, value in (("source_efficiency", self.source_efficiency),
                            ("detector_efficiency", self.detector_efficiency)):
            if not 0.0 < value <= 1.0:
                bad.append(f"{name}={value} not in (0, 1]")
        if bad:
            raise FailedPreconditionError("photonic loss model: " + "; ".join(bad),
                                          reason="INVALID_DEVICE_MODEL")


def photonic_keep_probability(gates: list[tuple[int, ...]], photon_count: int,
                              model: PhotonicLossModel) -> float:
    """``p_h^{n_2q} · Π_q η_source η_detector (1 - l)^{c_q}`` (see the module docstring).

    Args:
        gates: the qubits of each native gate, qubits in ``[0, photon_count)``.
        photon_count: photons (qubits) the program uses.
        model: the device's loss model.
    Returns:
        probability in ``[0, 1]`` that one attempted shot is kept.
    """
    components = np.zeros(photon_count, dtype=np.int64)
    two_qubit = 0
    for qubits in gates:
        components[list(qubits)] += 1
        two_qubit += len(qubits) == 2
    per_photon = (model.source_efficiency * model.detector_efficiency
                  * (1.0 - model.photon_loss_per_component) ** components)
    return float(model.two_qubit_herald_success ** two_qubit * np.prod(per_photon))


class PhotonicQpuDriver(PostSelectedQpuDriver):
    """A simulated dual-rail photonic QPU (see the module docstring for the model).

    Args:
        capabilities: all-to-all (``coupling_map=None``), modality ``PHOTONIC``.
        parameters: true gate and readout errors (conditional on a kept shot).
        loss_model: herald success and photon loss.
        simulator_options: passed on to :class:`SimulatedQpuDriver` (drift options).
    Raises:
        FailedPreconditionError: inconsistent device description (reason
            ``INVALID_DEVICE_MODEL``).
    """

    def __init__(self, capabilities: QpuCapabilities, parameters: DeviceParameters, *,
                 loss_model: PhotonicLossModel, **simulator_options: Any) -> None:
        if capabilities.modality is not Modality.PHOTONIC or capabilities.coupling_map is not None:
            raise FailedPreconditionError(
                f"photonic QPU {capabilities.qpu_id!r} must have modality photonic and an "
                "all-to-all coupling map (build it with "
                "quantum_service.drivers.fleet.photonic_dual_rail)",
                reason="INVALID_DEVICE_MODEL")
        super().__init__(capabilities, parameters, **simulator_options)
        self._loss_model = loss_model

    @property
    def loss_model(self) -> PhotonicLossModel:
        return self._loss_model

    @property
    def supports(self) -> dict[str, bool]:
        """Capability flags (``QpuDescription.supports``)."""
        return {HERALDED_TWO_QUBIT_GATES: True, PHOTON_LOSS: True,
                POST_SELECTION: True, "gradients": True,
                "mid_circuit_measurement": self.capabilities.dynamic_circuits}

    @property
    def properties(self) -> dict[str, float]:
        """Modality-specific numbers (``QpuDescription.properties``)."""
        m = self._loss_model
        return {"two_qubit_herald_success": m.two_qubit_herald_success,
                "photon_loss_per_component": m.photon_loss_per_component,
                "source_efficiency": m.source_efficiency,
                "detector_efficiency": m.detector_efficiency}

    def circuit_keep_probability(self, operations: Sequence[tuple[str, tuple[int, ...]]],
                                 active_qubits: Sequence[int]) -> float:
        """``p_h^{n_2q} · Π_q η_q`` over the photons (active qubits) of the shot: every pulse
        is one component a photon passes, every two-qubit gate one herald."""
        index = {q: i for i, q in enumerate(active_qubits)}
        gates = [tuple(index[q] for q in qubits) for _, qubits in operations]
        return photonic_keep_probability(gates, len(index), self._loss_model)
