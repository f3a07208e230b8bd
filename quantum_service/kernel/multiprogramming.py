"""Multi-programming: several jobs on disjoint, well-calibrated qubit regions of one QPU.

Following Das et al., "A case for multi-programming quantum computers" (MICRO 2019), each job
gets a *region*: a connected set of physical qubits chosen for its calibrated quality. The job
is compiled onto a :class:`~quantum_service.compiler.CompileTarget` restricted to the region's
induced sub-graph of the coupling map (all-to-all devices: any set of qubits; contiguous ions are
preferred so that fewer region boundaries face each other), relabelled to the physical qubits,
and all jobs are merged into one circuit that the QPU runs once; the counts are split back per
job by their classical bits. A job's shots cost the device the *longest* job's schedule plus one
readout and reset, instead of every job's — the throughput gain.

Crosstalk. Qubits of different regions that are neighbours (coupled on the coupling map; adjacent
in the chain on all-to-all trapped-ion devices) disturb each other: when a qubit is driven by a
two-qubit gate, its neighbour in another region picks up a spectator phase ``rz(ε)`` in that
layer (the merged circuit carries these gates). Magnitudes, per modality:

* superconducting ``ε = 0.09 rad``: residual ZZ ``ζ/2π ≈ 50 kHz`` over a 300 ns two-qubit gate
  (``2π·ζ·t``); ZZ rates of 10–100 kHz between fixed-frequency transmons (Sundaresan et al.,
  PRX Quantum 1, 020318 (2020)); simultaneous gates on neighbouring pairs raise error rates
  several-fold (Murali et al., "Software mitigation of crosstalk on noisy intermediate-scale
  quantum computers", ASPLOS 2020);
* trapped ions ``ε = 0.03 rad``: addressing-beam spill-over of ~1–3 % of the Rabi frequency on
  the neighbouring ion (Debnath et al., Nature 536, 63 (2016));
* neutral atoms ``ε = 0.05 rad`` (Rydberg-laser light shift on neighbours); photonic 0.

Fallback. A job is packed only if its predicted fidelity — its region's estimated success
probability times ``cos²(ε/2)`` per spectator phase it receives — is at most
``max_fidelity_loss`` (relative) below its ESP on the best region of the idle device; otherwise
it waits and runs alone. The same check applies to the jobs already packed. Ideal devices have no
noise and no crosstalk.

Which jobs qualify: one program, no observable, at most one parameter set (bound before
compiling), no readout mitigation, and the same ``shot_count`` as the rest of the pack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.contract import (
    DeviceParameters,
    Modality,
    PreparedProgram,
    QpuCapabilities,
    QpuDriver,
)
from quantum_service.errors import QcoreError
from quantum_service.kernel.estimate import estimated_success_probability

__all__ = [
    "CROSSTALK_PHASE_RAD",
    "RegionPlan",
    "MergedProgram",
    "supports_fixed_layout",
    "prepare_merged",
    "crosstalk_neighbours",
    "candidate_regions",
    "compile_on_region",
    "merge",
    "pack",
    "split_counts",
]

#: Spectator phase per driven neighbouring qubit and layer, radians (sources above).
CROSSTALK_PHASE_RAD = {
    Modality.SUPERCONDUCTING: 0.09,
    Modality.TRAPPED_ION: 0.03,
    Modality.NEUTRAL_ATOM: 0.05,
    Modality.PHOTONIC: 0.0,
}

#: Candidate regions compiled per job (best calibrated quality first).
_CANDIDATES = 3


def supports_fixed_layout(driver: QpuDriver) -> bool:
    """Whether ``driver`` runs a physical circuit on the qubits it names: drivers declaring
    the :class:`~quantum_service.contract.driver.FixedLayout` ability, and all-to-all devices
    (the compiler keeps the trivial layout where there is no coupling map)."""
    return driver.fixed_layout() is not None or driver.capabilities.coupling_map is None


def prepare_merged(driver: QpuDriver, circuit: Circuit) -> PreparedProgram:
    """Prepares a merged physical circuit, keeping its layout (see
    :func:`supports_fixed_layout`)."""
    fixed = driver.fixed_layout()
    if fixed is not None:
        return fixed.prepare_physical(circuit, observable=None)
    return driver.prepare(circuit, observable=None)


def crosstalk_neighbours(caps: QpuCapabilities) -> dict[int, set[int]]:
    """Each qubit's crosstalk neighbours: coupled qubits, or chain neighbours when all-to-all."""
    out: dict[int, set[int]] = {q: set() for q in range(caps.qubit_count)}
    edges = caps.coupling_map or tuple((q, q + 1) for q in range(caps.qubit_count - 1))
    for a, b in edges:
        out[a].add(b)
        out[b].add(a)
    return out


def _qubit_quality(device: DeviceParameters, q: int) -> float:
    p = device.qubits[q]
    return float(np.log(max(p.single_qubit_gate_fidelity, 1e-12))
                 + np.log(max(p.readout_fidelity, 1e-12)))


def candidate_regions(caps: QpuCapabilities, device: DeviceParameters, size: int,
                      free: set[int]) -> list[tuple[int, ...]]:
    """Connected regions of ``size`` free qubits, best calibrated quality first (≤ 3).

    Coupling-map devices: grown greedily from every free qubit, adding the free neighbour with
    the best coupling fidelity to the region plus its own quality. All-to-all devices:
    windows of consecutive free qubits. Quality: Σ log(1q fidelity × readout fidelity) of the
    qubits plus Σ log(2q fidelity) of the region's couplings.
    """
    regions: set[tuple[int, ...]] = set()
    if caps.coupling_map is None:
        for start in range(caps.qubit_count - size + 1):
            window = tuple(range(start, start + size))
            if free.issuperset(window):
                regions.add(window)
    else:
        neighbours = crosstalk_neighbours(caps)
        for seed in sorted(free):
            region = [seed]
            while len(region) < size:
                frontier = {n for q in region for n in neighbours[q] if n in free} - set(region)
                if not frontier:
                    break
                best = max(sorted(frontier), key=lambda n: _qubit_quality(device, n) + max(
                    np.log(device.pair(n, q).two_qubit_gate_fidelity)
                    for q in region if q in neighbours[n]))
                region.append(best)
            if len(region) == size:
                regions.add(tuple(sorted(region)))

    def quality(region: tuple[int, ...]) -> float:
        total = sum(_qubit_quality(device, q) for q in region)
        if caps.coupling_map is not None:
            inside = set(region)
            total += sum(np.log(device.pair(a, b).two_qubit_gate_fidelity)
                         for a, b in caps.coupling_map if a in inside and b in inside)
        return total

    return sorted(regions, key=lambda r: (-quality(r), r))[:_CANDIDATES]


def compile_on_region(circuit: Circuit, caps: QpuCapabilities, region: Sequence[int]
                      ) -> Circuit:
    """Compiles ``circuit`` onto ``region`` and relabels it to physical qubits.

    The target is ``region``'s induced sub-graph (local qubit ``i`` = ``region[i]``). Returns a
    circuit of ``caps.qubit_count`` qubits using only ``region``'s qubits.

    Raises:
        InvalidProgramError: the circuit does not fit or cannot be routed in the region.
    """
    local = {q: i for i, q in enumerate(region)}
    edges = None
    if caps.coupling_map is not None:
        edges = tuple((local[a], local[b]) for a, b in caps.coupling_map
                      if a in local and b in local)
    target = CompileTarget(qubit_count=len(region), native_gates=caps.native_gate_names,
                           coupling_map=edges)
    compiled = compile_circuit(circuit, target).circuit
    ops = [replace(op, qubits=tuple(region[q] for q in op.qubits)) for op in compiled.operations]
    return compiled.with_operations(ops, qubit_count=caps.qubit_count)


@dataclass(slots=True)
class RegionPlan:
    """One job's place in a merged program.

    Attributes:
        job_id: the job.
        region: its physical qubits (sorted).
        circuit: the job compiled onto ``region`` (full device width).
        esp: estimated success probability on ``region`` (crosstalk excluded).
        best_esp: ESP on the best region of the idle device.
        crosstalk_events: spectator phases it receives in the merged program.
        clbit_offset: where its classical bits start in the merged program.
    """

    job_id: str
    region: tuple[int, ...]
    circuit: Circuit
    esp: float
    best_esp: float
    crosstalk_events: int = 0
    clbit_offset: int = 0

    def predicted_fidelity(self, phase_rad: float) -> float:
        """``esp × cos²(ε/2)^crosstalk_events``."""
        return self.esp * float(np.cos(phase_rad / 2)) ** (2 * self.crosstalk_events)

    def fidelity_loss(self, phase_rad: float) -> float:
        """Relative loss vs the best region alone, in ``[0, 1]``."""
        return max(0.0, 1.0 - self.predicted_fidelity(phase_rad) / self.best_esp)


@dataclass(slots=True)
class MergedProgram:
    """The merged circuit and its parts (in clbit order)."""

    circuit: Circuit
    plans: list[RegionPlan] = field(default_factory=list)
    phase_rad: float = 0.0


def _layers(circuit: Circuit) -> list[list[Operation]]:
    level: dict[int, int] = {}
    layers: list[list[Operation]] = []
    for op in circuit.operations:
        if op.name in ("measure", "barrier"):
            continue
        layer = max((level.get(q, 0) for q in op.qubits), default=0)
        for q in op.qubits:
            level[q] = layer + 1
        while len(layers) <= layer:
            layers.append([])
        layers[layer].append(op)
    return layers


def merge(plans: list[RegionPlan], caps: QpuCapabilities, *, phase_rad: float
          ) -> MergedProgram:
    """Merges ``plans`` into one circuit, layer by layer, with spectator-phase crosstalk.

    Sets each plan's ``clbit_offset`` and ``crosstalk_events``. No crosstalk is inserted when
    ``phase_rad == 0`` or the device is ideal.
    """
    neighbours = crosstalk_neighbours(caps)
    owner = {q: i for i, plan in enumerate(plans) for q in plan.region}
    layered = [_layers(plan.circuit) for plan in plans]
    ops: list[Operation] = []
    crosstalk = phase_rad > 0 and caps.noisy
    for plan in plans:
        plan.crosstalk_events = 0
    for depth in range(max((len(x) for x in layered), default=0)):
        driven: set[int] = set()
        for layers in layered:
            if depth < len(layers):
                ops.extend(layers[depth])
                driven.update(q for op in layers[depth] if len(op.qubits) == 2
                              for q in op.qubits)
        if not crosstalk:
            continue
        spectators = sorted({n for q in driven for n in neighbours[q]
                             if n in owner and owner[n] != owner[q]})
        for n in spectators:
            ops.append(Operation("rz", (n,), (ParameterExpression(phase_rad),)))
            plans[owner[n]].crosstalk_events += 1
    offset = 0
    for plan in plans:
        plan.clbit_offset = offset
        ops.extend(Operation("measure", op.qubits, (), tuple(c + offset for c in op.clbits))
                   for op in plan.circuit.operations if op.name == "measure")
        offset += plan.circuit.clbit_count
    circuit = Circuit(caps.qubit_count, tuple(ops), offset, (),
                      "multiprogram:" + "+".join(p.job_id for p in plans))
    return MergedProgram(circuit, list(plans), phase_rad if crosstalk else 0.0)


def _best_on(circuit: Circuit, caps: QpuCapabilities, device: DeviceParameters,
             free: set[int]) -> tuple[tuple[int, ...], Circuit, float] | None:
    best = None
    for region in candidate_regions(caps, device, circuit.qubit_count, free):
        try:
            physical = compile_on_region(circuit, caps, region)
        except QcoreError:
            continue
        esp = estimated_success_probability(physical, caps, device)
        if best is None or esp > best[2]:
            best = (region, physical, esp)
    return best


def pack(jobs: Sequence[tuple[str, Circuit]], caps: QpuCapabilities, device: DeviceParameters,
         *, max_jobs: int, max_fidelity_loss: float, phase_rad: float) -> MergedProgram | None:
    """Packs jobs (parameter-free circuits, in scheduling order) onto disjoint regions.

    The first job always gets its best region; each next one is added when a region is free,
    the active qubits stay within ``caps.max_simulated_qubits`` and no packed job's predicted
    fidelity loss exceeds ``max_fidelity_loss``. Dynamic circuits (mid-circuit measurement,
    reset or conditional operations, :attr:`Circuit.is_dynamic`) are never packed. Returns ``None``
    when fewer than two jobs fit.
    """
    free = set(range(caps.qubit_count))
    plans: list[RegionPlan] = []
    for job_id, circuit in jobs:
        if len(plans) >= max_jobs:
            break
        active = caps.qubit_count - len(free)
        if active + circuit.qubit_count > caps.max_simulated_qubits:
            continue
        if circuit.is_dynamic:  # merging moves measurements to the end: static programs only
            continue
        alone = _best_on(circuit, caps, device, set(range(caps.qubit_count)))
        found = _best_on(circuit, caps, device, free) if alone is not None else None
        if found is None:
            if not plans:
                return None
            continue
        region, physical, esp = found
        plan = RegionPlan(job_id, region, physical, esp, alone[2])
        trial = merge([*plans, plan], caps, phase_rad=phase_rad)
        if any(p.fidelity_loss(trial.phase_rad) > max_fidelity_loss for p in trial.plans):
            if not plans:
                return None
            continue
        plans.append(plan)
        free -= set(region)
    if len(plans) < 2:
        return None
    return merge(plans, caps, phase_rad=phase_rad)


def split_counts(counts: dict[str, int], merged: MergedProgram) -> list[dict[str, int]]:
    """Marginal counts of each plan from the merged program's counts (clbit 0 rightmost)."""
    total = merged.circuit.clbit_count
    out: list[dict[str, int]] = []
    for plan in merged.plans:
        width = plan.circuit.clbit_count
        lo, hi = total - plan.clbit_offset - width, total - plan.clbit_offset
        part: dict[str, int] = {}
        for bits, n in counts.items():
            key = bits[lo:hi]
            part[key] = part.get(key, 0) + n
        out.append(part)
    return out
