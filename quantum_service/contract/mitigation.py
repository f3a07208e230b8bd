"""Error-mitigation options a job or session asks for, and what mitigation reports back.

Part of the driver contract (:mod:`quantum_service.contract`): the kernel validates the options
and passes them in ``ExecutionOptions.mitigation``; a driver that declares the matching
``supports`` flag (:data:`ZERO_NOISE_EXTRAPOLATION`, :data:`PAULI_TWIRLING`,
:data:`DYNAMICAL_DECOUPLING`) applies them to the program it compiled and returns one
:class:`MitigationRecord` per parameter set. The circuit transformations and fits are in
:mod:`quantum_service.mitigation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "DEFAULT_SCALE_FACTORS",
    "DYNAMICAL_DECOUPLING",
    "DecouplingSequence",
    "DynamicalDecoupling",
    "Extrapolation",
    "Folding",
    "MitigationOptions",
    "MitigationRecord",
    "PAULI_TWIRLING",
    "PauliTwirling",
    "ZERO_NOISE_EXTRAPOLATION",
    "ZeroNoiseExtrapolation",
]

#: ``supports`` flag: the driver folds its compiled circuits and extrapolates to zero noise.
ZERO_NOISE_EXTRAPOLATION = "zero_noise_extrapolation"
#: ``supports`` flag: the driver twirls its native two-qubit gates with random Pauli frames.
PAULI_TWIRLING = "pauli_twirling"
#: ``supports`` flag: the device's idle qubits decohere (dephasing, ZZ crosstalk) and the driver
#: fills idle windows with decoupling pulses.
DYNAMICAL_DECOUPLING = "dynamical_decoupling"

#: Noise scale factors when a request names none.
DEFAULT_SCALE_FACTORS = (1.0, 3.0, 5.0)


class Folding(str, Enum):
    """How a circuit is folded to scale its noise (Giurgica-Tiron et al., arXiv:2005.10921)."""

    #: ``C → C (C† C)^n`` plus a partial fold of the last gates.
    GLOBAL = "global"
    #: each gate ``G → G (G† G)^n``, one more fold on the first gates for the remainder.
    LOCAL = "local"


class Extrapolation(str, Enum):
    """The fit that extrapolates the scaled expectation values to zero noise."""

    #: least-squares straight line.
    LINEAR = "linear"
    #: the polynomial of degree ``n - 1`` through all ``n`` points (Temme, Bravyi & Gambetta,
    #: PRL 119, 180509 (2017)).
    RICHARDSON = "richardson"
    #: ``E(λ) = a + b e^{-cλ}`` with ``a`` the observable's maximally mixed value.
    EXPONENTIAL = "exponential"


class DecouplingSequence(str, Enum):
    """Pulse sequence played on an idle qubit (Viola, Knill & Lloyd, PRL 82, 2417 (1999))."""

    #: two π pulses about X (Hahn echo / CPMG).
    XX = "xx"
    #: X, Y, X, Y (XY4; Maudsley, J. Magn. Reson. 69, 488 (1986)).
    XY4 = "xy4"


@dataclass(frozen=True, slots=True)
class ZeroNoiseExtrapolation:
    """Zero-noise extrapolation by unitary folding of the compiled circuit.

    Attributes:
        scale_factors: noise scale factors λ >= 1, at least two distinct ones; odd integers
            fold whole gates, other values fold part of the circuit (the achieved factor is
            reported in :attr:`MitigationRecord.scale_factors`).
        folding: global or local folding.
        extrapolation: the zero-noise fit.
    """

    scale_factors: tuple[float, ...] = DEFAULT_SCALE_FACTORS
    folding: Folding = Folding.GLOBAL
    extrapolation: Extrapolation = Extrapolation.RICHARDSON


@dataclass(frozen=True, slots=True)
class PauliTwirling:
    """Pauli twirling of the native two-qubit gates (Wallman & Emerson, PRA 94, 052325 (2016)).

    Attributes:
        randomization_count: random Pauli frames per circuit, >= 1; the shots are split evenly
            among them (at least one shot each).
    """

    randomization_count: int = 8


@dataclass(frozen=True, slots=True)
class DynamicalDecoupling:
    """Dynamical decoupling of idle qubits.

    Attributes:
        sequence: the pulses played in each idle window long enough to hold them.
    """

    sequence: DecouplingSequence = DecouplingSequence.XX


@dataclass(frozen=True, slots=True)
class MitigationOptions:
    """The mitigation asked for; ``None`` fields are off.

    Attributes:
        zero_noise_extrapolation: fold and extrapolate.
        pauli_twirling: twirl two-qubit gates.
        dynamical_decoupling: decouple idle qubits.
    """

    zero_noise_extrapolation: ZeroNoiseExtrapolation | None = None
    pauli_twirling: PauliTwirling | None = None
    dynamical_decoupling: DynamicalDecoupling | None = None

    @property
    def active(self) -> bool:
        """Whether any circuit-level mitigation is on."""
        return (self.zero_noise_extrapolation is not None or self.pauli_twirling is not None
                or self.dynamical_decoupling is not None)

    @property
    def scale_factors(self) -> tuple[float, ...]:
        """The requested noise scale factors (``(1.0,)`` without ZNE)."""
        zne = self.zero_noise_extrapolation
        return zne.scale_factors if zne is not None else (1.0,)

    @property
    def randomization_count(self) -> int:
        """Pauli frames per scale factor (1 without twirling)."""
        twirl = self.pauli_twirling
        return twirl.randomization_count if twirl is not None else 1

    def required_flags(self) -> tuple[str, ...]:
        """The ``supports`` flags a QPU needs to run these options."""
        flags = []
        if self.zero_noise_extrapolation is not None:
            flags.append(ZERO_NOISE_EXTRAPOLATION)
        if self.pauli_twirling is not None:
            flags.append(PAULI_TWIRLING)
        if self.dynamical_decoupling is not None:
            flags.append(DYNAMICAL_DECOUPLING)
        return tuple(flags)


@dataclass(frozen=True, slots=True)
class MitigationRecord:
    """What mitigation did for one parameter set.

    Attributes:
        scale_factors: achieved noise scale factors, in request order (``(1.0,)`` without ZNE).
        expectation_values: the expectation value measured at each scale factor, float64,
            averaged over twirling frames (readout-mitigated when readout mitigation is on).
        standard_errors: their standard errors (0 for exact values).
        extrapolation: the fit used (``None`` without ZNE); an exponential fit whose points do
            not lie on one side of its asymptote falls back to :attr:`Extrapolation.LINEAR`.
        randomization_count: Pauli frames per scale factor (1 without twirling).
        decoupling_pulse_count: decoupling pulses inserted into the circuit of the first scale
            factor (first Pauli frame).
    """

    scale_factors: tuple[float, ...]
    expectation_values: tuple[float, ...]
    standard_errors: tuple[float, ...]
    extrapolation: Extrapolation | None = None
    randomization_count: int = 1
    decoupling_pulse_count: int = 0
