"""Multi-programming: several jobs on disjoint, well-calibrated qubit regions of one QPU.

Following Das et al., "A case for multi-programming quantum computers" (MICRO 2019), each job
gets a *region*: a connected set of physical qubits chosen for its calibrated quality. The job
is compiled onto a :class:`~quantum_service.compiler.CompileTarget` restricted to the region's
induced sub-graph of the coupling map (all-to-all devices: any set of qubits; contiguous ions are
preferred so that fewer region boundaries face each other), relabelled to the physical qubits,
and all jobs are merged into one circuit that the QPU runs once; the counts are split back per
job by their classical bits. A job's shots cost the device the *longest* job's schedule plus one
readout and reset, instead of every job's — the throughput gain.

Crosstalk is physics of the device, not of the merge: the noise model gives every job, packed
or not, the always-on ZZ phase between coupled qubits and the spectator errors of neighbouring
2-qubit gates (:mod:`quantum_service.devices.crosstalk`, applied in
:mod:`quantum_service.engines.executable`). Alone, a job's neighbours are unused qubits in
``|0>``, which imprint nothing; packed, its boundary qubits face another job's qubits.

Prediction and fallback, from the same model and the calibrated parameters. A job's predicted
fidelity is its region's estimated success probability times the dephasing fidelity
``1 - ½ sin²(Φ/2)`` of ``Φ = Σ_ab 2π ζ_ab T_ab``, summed over the coupled pairs ``(a, b)`` with
``a`` in its region and ``b`` in another, each over the part ``T_ab`` of the merged schedule
in which it can change what ``a``'s job measures
(:func:`~quantum_service.devices.crosstalk.sensitive_window_ns`; ``b`` in ``|1>`` half the
time; the phases add as they do for entangled neighbours, the worst case; ``Φ`` capped at
``π``), times ``1 - p_ab`` per 2-qubit gate of the other job on ``b`` (spectator error),
times, per qubit, the T1 decay ``1 - ½ (1 - e^{-ΔT/T1})`` over the time ``ΔT`` it waits for
the longest job before readout. A job is packed only if this is at most
``max_fidelity_loss`` (relative) below its ESP on the best region of the idle device;
otherwise it waits and runs alone. The same check applies to the jobs already packed. Ideal
devices have no noise and no crosstalk.

Which jobs qualify: one program, no observable, at most one parameter set (bound before
compiling), no readout mitigation, and the same ``shot_count`` as the rest of the pack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from quantum_service.circuits.ir import Circuit, Operation
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.contract import (
    DeviceParameters,
    PreparedProgram,
    QpuCapabilities,
    QpuDriver,
)
from quantum_service.contract.device_time import schedule_duration_ns
from quantum_service.devices.crosstalk import (
    UNKNOWN_EXCITATION,
    crosstalk_neighbours,
    crosstalk_pairs,
    dephasing_fidelity,
    drive_windows_ns,
    sensitive_window_ns,
    zz_phase_rad,
)
from quantum_service.errors import QcoreError
from quantum_service.kernel.estimate import estimated_success_probability

__all__ = [
    "RegionPlan",
    "MergedProgram",
    "supports_fixed_layout",
    "prepare_merged",
    "crosstalk_neighbours",
    "candidate_regions",
    "compile_on_region",
    "merge",
    "pack",
    "packing_factors",
    "split_counts",
]

#: Candidate regions compiled per job (best calibrated quality first).
_CANDIDATES = 6


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


def _qubit_quality(device: DeviceParameters, q: int) -> float:
    p = device.qubits[q]
    return float(np.log(max(p.single_qubit_gate_fidelity, 1e-12))
                 + np.log(max(p.readout_fidelity, 1e-12)))


def candidate_regions(caps: QpuCapabilities, device: DeviceParameters, size: int,
                      free: set[int]) -> list[tuple[int, ...]]:
    """Connected regions of ``size`` free qubits, best calibrated quality first (≤ 6).

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
        crosstalk_factor: predicted fidelity factor of packing (module docstring), in
            ``(0, 1]``; 1 until :func:`merge` sets it.
        clbit_offset: where its classical bits start in the merged program.
    """

    job_id: str
    region: tuple[int, ...]
    circuit: Circuit
    esp: float
    best_esp: float
    crosstalk_factor: float = 1.0
    clbit_offset: int = 0

    @property
    def predicted_fidelity(self) -> float:
        """``esp × crosstalk_factor``."""
        return self.esp * self.crosstalk_factor

    @property
    def fidelity_loss(self) -> float:
        """Relative loss vs the best region alone, in ``[0, 1]``."""
        return max(0.0, 1.0 - self.predicted_fidelity / self.best_esp)


@dataclass(slots=True)
class MergedProgram:
    """The merged circuit and its parts (in clbit order)."""

    circuit: Circuit
    plans: list[RegionPlan] = field(default_factory=list)


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


def packing_factors(plans: Sequence[RegionPlan], caps: QpuCapabilities,
                    device: DeviceParameters) -> list[float]:
    """Each plan's predicted fidelity factor when the plans run merged (module docstring).

    Args:
        plans: disjoint regions with their compiled circuits.
        caps: gate durations, the coupling map (neighbours) and the ``noisy`` flag.
        device: calibrated parameters (``zz_khz``, ``spectator_error``, T1).
    Returns:
        factors in ``(0, 1]``, in plan order; all 1 on ideal devices.
    """
    if not caps.noisy:
        return [1.0] * len(plans)
    owner = {q: i for i, plan in enumerate(plans) for q in plan.region}
    durations = [schedule_duration_ns(plan.circuit, caps) for plan in plans]
    total = max(durations, default=0.0)
    windows: dict[int, tuple[float, float]] = {}
    for plan in plans:  # disjoint qubits: each keeps its own schedule in the merged program
        windows.update(drive_windows_ns(plan.circuit, caps))
    neighbours = crosstalk_neighbours(caps)
    phases = [0.0] * len(plans)  # boundary ZZ phase each job receives, summed (worst case)
    for a, b in crosstalk_pairs(caps):
        i, j = owner.get(a), owner.get(b)
        if i is None or j is None or i == j:
            continue
        zz = device.pair(a, b).zz_khz
        for receiver, source, k in ((a, b, i), (b, a, j)):
            phases[k] += zz_phase_rad(zz, sensitive_window_ns(windows.get(receiver),
                                                              windows.get(source)))
    factors = [dephasing_fidelity(min(phase, np.pi)) for phase in phases]
    for i, plan in enumerate(plans):
        for op in plan.circuit.operations:
            if len(op.qubits) != 2 or op.name in ("measure", "barrier"):
                continue
            for q in op.qubits:
                for n in neighbours[q]:
                    k = owner.get(n)
                    if k is not None and k != i:
                        factors[k] *= 1.0 - device.pair(q, n).spectator_error
        wait = total - durations[i]
        if wait > 0:  # T1 decay of |1> (half the time) while it waits for its readout
            for q in plan.region:
                factors[i] *= 1.0 - UNKNOWN_EXCITATION * (
                    1.0 - float(np.exp(-wait * 1e-3 / device.qubits[q].t1_us)))
    return factors


def merge(plans: list[RegionPlan], caps: QpuCapabilities, device: DeviceParameters
          ) -> MergedProgram:
    """Merges ``plans`` into one circuit, layer by layer.

    Sets each plan's ``clbit_offset`` and ``crosstalk_factor`` (:func:`packing_factors`).
    """
    layered = [_layers(plan.circuit) for plan in plans]
    ops: list[Operation] = []
    for plan, factor in zip(plans, packing_factors(plans, caps, device)):
        plan.crosstalk_factor = factor
    for depth in range(max((len(x) for x in layered), default=0)):
        for layers in layered:
            if depth < len(layers):
                ops.extend(layers[depth])
    offset = 0
    for plan in plans:
        plan.clbit_offset = offset
        ops.extend(Operation("measure", op.qubits, (), tuple(c + offset for c in op.clbits))
                   for op in plan.circuit.operations if op.name == "measure")
        offset += plan.circuit.clbit_count
    circuit = Circuit(caps.qubit_count, tuple(ops), offset, (),
                      "multiprogram:" + "+".join(p.job_id for p in plans))
    return MergedProgram(circuit, list(plans))


def _candidates_on(circuit: Circuit, caps: QpuCapabilities, device: DeviceParameters,
                   free: set[int]) -> list[tuple[tuple[int, ...], Circuit, float]]:
    """``(region, compiled circuit, ESP)`` of the candidate regions in ``free`` that the
    circuit compiles onto, best ESP first."""
    found = []
    for region in candidate_regions(caps, device, circuit.qubit_count, free):
        try:
            physical = compile_on_region(circuit, caps, region)
        except QcoreError:
            continue
        found.append((region, physical, estimated_success_probability(physical, caps, device)))
    return sorted(found, key=lambda c: -c[2])


def pack(jobs: Sequence[tuple[str, Circuit]], caps: QpuCapabilities, device: DeviceParameters,
         *, max_jobs: int, max_fidelity_loss: float) -> MergedProgram | None:
    """Packs jobs (parameter-free circuits, in scheduling order) onto disjoint regions.

    The first job always gets its best region; each next one is added, on the free candidate
    region where the pack's worst predicted fidelity loss is smallest, when the active qubits
    stay within ``caps.max_simulated_qubits`` and no packed job's predicted fidelity loss
    exceeds ``max_fidelity_loss``. Dynamic circuits (mid-circuit measurement,
    reset or conditional operations, :attr:`Circuit.is_dynamic`) are never packed. Returns ``None``
    when fewer than two jobs fit.
    """
    capacity = min(caps.qubit_count, caps.max_simulated_qubits)
    widths = sorted(circuit.qubit_count for _, circuit in jobs)
    if len(widths) < 2 or widths[0] + widths[1] > capacity:
        return None  # no two jobs fit side by side: no region search
    free = set(range(caps.qubit_count))
    plans: list[RegionPlan] = []
    for job_id, circuit in jobs:
        if len(plans) >= max_jobs:
            break
        active = caps.qubit_count - len(free)
        if (active + circuit.qubit_count > caps.max_simulated_qubits
                or circuit.qubit_count > len(free)):
            continue
        if circuit.is_dynamic:  # merging moves measurements to the end: static programs only
            continue
        alone = _candidates_on(circuit, caps, device, set(range(caps.qubit_count)))
        found = _candidates_on(circuit, caps, device, free) if alone else []
        best: tuple[float, RegionPlan] | None = None
        for region, physical, esp in found:  # the region crosstalk harms least
            plan = RegionPlan(job_id, region, physical, esp, alone[0][2])
            trial = merge([*plans, plan], caps, device)
            worst = max(p.fidelity_loss for p in trial.plans)
            if worst <= max_fidelity_loss and (best is None or worst < best[0]):
                best = (worst, plan)
        if best is None:
            if not plans:
                return None
            continue
        plans.append(best[1])
        free -= set(best[1].region)
    if len(plans) < 2:
        return None
    return merge(plans, caps, device)


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
