"""Circuit-level error mitigation on compiled (native-gate) circuits.

* :mod:`.folding` — unitary folding ``G → G (G† G)^n`` that scales a circuit's noise for
  zero-noise extrapolation (Giurgica-Tiron et al., arXiv:2005.10921);
* :mod:`.extrapolation` — linear, Richardson and exponential zero-noise fits with propagated
  standard errors (Temme, Bravyi & Gambetta, PRL 119, 180509 (2017));
* :mod:`.twirling` — random Pauli frames around two-qubit Clifford gates (Wallman & Emerson,
  PRA 94, 052325 (2016));
* :mod:`.decoupling` — decoupling pulses in the idle windows of a schedule.

Every transformation takes and returns a circuit on physical qubits in the device's native
gates, so it runs *after* compilation and routing: nothing cancels the inserted gates, and the
device's per-gate noise sees every one of them. The options are the contract's
(:mod:`quantum_service.contract.mitigation`).
"""

from __future__ import annotations

from quantum_service.mitigation.decoupling import insert_decoupling
from quantum_service.mitigation.extrapolation import extrapolate, extrapolation_weights
from quantum_service.mitigation.folding import fold_circuit, inverse_gate
from quantum_service.mitigation.twirling import twirl_circuit

__all__ = ["extrapolate", "extrapolation_weights", "fold_circuit",
           "insert_decoupling", "inverse_gate", "twirl_circuit"]
