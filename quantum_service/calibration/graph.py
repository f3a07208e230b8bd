"""The dependency graph of calibration nodes and the plan of a calibration run.

Nodes are calibration procedures on one qubit or one pair; a node runs only after the nodes it
depends on are fresh (Kelly et al., "Physical qubit calibration on a directed acyclic graph",
arXiv:1803.03226 (2018); Qibocal's protocol graph). A run recalibrates the stale nodes and every
calibration node downstream of them, in topological order, on the affected qubits and pairs
only; nodes whose result does not depend on their parents' values (T1, RB, XEB) rerun only
when stale themselves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from quantum_service.calibration.experiments import ExperimentSettings, settings_for
from quantum_service.contract import Modality, QpuCapabilities
from quantum_service.errors import FailedPreconditionError

__all__ = ["SigmaCeiling", "CalibrationNode", "CalibrationGraph", "Task", "default_graph",
           "CALIBRATED_MODALITIES"]

#: Modalities with a calibration graph (all four).
CALIBRATED_MODALITIES = frozenset({Modality.SUPERCONDUCTING, Modality.TRAPPED_ION,
                                   Modality.NEUTRAL_ATOM, Modality.PHOTONIC})

#: ``(node name, target)``: a qubit index or a pair ``(a, b)`` with ``a < b``.
Task = tuple[str, int | tuple[int, int]]


@dataclass(frozen=True, slots=True)
class SigmaCeiling:
    """When a node's new estimate of one field is good enough to install.

    A fitted value ``v`` with one-sigma uncertainty ``σ`` is accepted when
    ``low <= v < high`` (its physical range) and ``σ <= ceiling(v)``, the smallest of
    ``absolute``, ``relative · |v|`` and ``infidelity · (1 - v)`` (terms left at ``inf`` do not
    apply).

    Attributes:
        field: the estimate's field name (of ``QubitParameters`` or ``PairParameters``).
        absolute: ceiling in the field's unit (Hz, rad, probability).
        relative: ceiling as a fraction of the value (amplitudes, T1, T2).
        infidelity: ceiling as a fraction of the infidelity ``1 - v`` (gate fidelities).
        low, high: physical range of the value, ``[low, high)``.
    """

    field: str
    absolute: float = math.inf
    relative: float = math.inf
    infidelity: float = math.inf
    low: float = -math.inf
    high: float = math.inf

    def ceiling(self, value: float) -> float:
        """The largest accepted one-sigma uncertainty of ``value`` (the field's unit)."""
        return min(self.absolute, self.relative * abs(value),
                   self.infidelity * (1.0 - value) if math.isfinite(self.infidelity)
                   else math.inf)

    def problem(self, value: float, sigma: float) -> tuple[str, str] | None:
        """``(reason, detail)`` when ``value ± sigma`` is rejected, else ``None``; reasons
        ``OUT_OF_RANGE`` and ``SIGMA_ABOVE_CEILING`` (as ``CalibrationRejection.reason``)."""
        if not (math.isfinite(value) and self.low <= value < self.high):
            return "OUT_OF_RANGE", (f"{self.field} = {value:.6g} outside "
                                    f"[{self.low:.6g}, {self.high:.6g})")
        limit = self.ceiling(value)
        if not (math.isfinite(sigma) and sigma <= limit):
            return "SIGMA_ABOVE_CEILING", f"σ({self.field}) = {sigma:.3g} > {limit:.3g}"
        return None


@dataclass(frozen=True, slots=True)
class CalibrationNode:
    """A calibration procedure. ``scope`` is ``"qubit"`` or ``"pair"``; a pair node depends on
    qubit nodes of both its qubits and on pair nodes of the same pair.

    ``follows_parents=False`` marks nodes whose result does not depend on their parents'
    values, only on their being good enough — characterisation (RB, XEB: they set no pulse
    parameter) and T1 (the fit absorbs the π pulse's contrast): they are not rerun just because
    a dependency was, only when they are stale themselves (their canary, the schedule, on
    demand); they still run only after their dependencies are fresh.

    ``ceilings`` are the acceptance rules of the fields the node fits (see
    :func:`default_graph` for the values and their reasons); a node without ceilings installs
    whatever its experiment fits.
    """

    name: str
    scope: str
    depends_on: tuple[str, ...] = ()
    follows_parents: bool = True
    ceilings: tuple[SigmaCeiling, ...] = ()


class CalibrationGraph:
    """A DAG of calibration nodes over a device's qubits and pairs.

    Args:
        nodes: the nodes; dependencies must name nodes of the graph.
        qubit_count: qubits of the device.
        pairs: the pairs pair nodes act on.
    Raises:
        ValueError: unknown dependency or a cycle.
    """

    def __init__(self, nodes: Iterable[CalibrationNode], *, qubit_count: int,
                 pairs: Iterable[tuple[int, int]]) -> None:
        by_name = {node.name: node for node in nodes}
        for node in by_name.values():
            for dep in node.depends_on:
                if dep not in by_name:
                    raise ValueError(f"node {node.name!r} depends on unknown node {dep!r}")
                if by_name[dep].scope == "pair" and node.scope == "qubit":
                    raise ValueError(f"qubit node {node.name!r} cannot depend on pair node {dep!r}")
        order: list[CalibrationNode] = []
        state: dict[str, int] = {}

        def visit(name: str) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise ValueError(f"calibration graph has a cycle through {name!r}")
            state[name] = 1
            for dep in by_name[name].depends_on:
                visit(dep)
            state[name] = 2
            order.append(by_name[name])

        for name in by_name:
            visit(name)
        self.nodes: tuple[CalibrationNode, ...] = tuple(order)
        self._by_name = by_name
        self.qubit_count = qubit_count
        self.pairs = tuple(sorted((min(a, b), max(a, b)) for a, b in pairs))

    def node(self, name: str) -> CalibrationNode:
        return self._by_name[name]

    def tasks(self) -> list[Task]:
        """Every (node, target) of the device, in a valid execution order."""
        out: list[Task] = []
        for node in self.nodes:
            targets = range(self.qubit_count) if node.scope == "qubit" else self.pairs
            out += [(node.name, t) for t in targets]
        return out

    def dependencies(self, task: Task) -> list[Task]:
        """The tasks that must be fresh before ``task`` runs."""
        name, target = task
        node = self._by_name[name]
        deps: list[Task] = []
        for dep in node.depends_on:
            if self._by_name[dep].scope == "qubit" and isinstance(target, tuple):
                deps += [(dep, target[0]), (dep, target[1])]
            else:
                deps.append((dep, target))
        return deps

    def plan(self, stale: Iterable[Task]) -> list[Task]:
        """The stale tasks and everything downstream of them (except characterisation nodes,
        see :class:`CalibrationNode`), in execution order."""
        planned = set(stale)
        out = []
        for task in self.tasks():
            follows = self._by_name[task[0]].follows_parents
            if task in planned or (follows and any(d in planned
                                                   for d in self.dependencies(task))):
                planned.add(task)
                out.append(task)
        return out

    def check_ready(self, task: Task, fresh: set[Task]) -> None:
        """Raises FailedPreconditionError unless every dependency of ``task`` is fresh."""
        missing = [d for d in self.dependencies(task) if d not in fresh]
        if missing:
            raise FailedPreconditionError(
                f"calibration node {task} needs {missing} to be fresh first",
                reason="CALIBRATION_ORDER")


def default_graph(caps: QpuCapabilities, settings: ExperimentSettings | None = None
                  ) -> CalibrationGraph:
    """The graph of a device, from its modality and native gates.

    Per qubit ``readout → rabi → ramsey``, then on transmons ``→ t1 → t2_echo → rb_1q``;
    trapped-ion and neutral-atom qubits (T1 effectively infinite, T2 ~ 1 s) skip
    ``t1``/``t2_echo`` — their decays need seconds of device time per point — and photonic
    dual-rail qubits also skip ``ramsey`` (a photon has no transition frequency to track; the
    Mach–Zehnder angle is calibrated by ``rabi``). Per pair ``cphase`` (``cz`` devices) or
    ``ms_angle`` (``rxx`` devices) after the frequency node of both qubits, then ``xeb_2q``
    after those and ``rb_1q`` of both qubits. ``t1``, ``rb_1q`` and ``xeb_2q`` do not follow
    their parents (``follows_parents=False``).

    σ ceilings (:class:`SigmaCeiling`), from ``settings`` (default
    :func:`~.experiments.settings_for` the modality). A node's fit must resolve the drift its
    canary flags: one sigma no larger than that canary's threshold (3–4σ of the canary's own
    shot noise, :class:`~.experiments.ExperimentSettings`), else a freshly calibrated value
    could already read as drifted, and the fit cannot tell a drifted value from a fresh one.
    Hence ``readout`` ``p01``/``p10`` ≤ ``readout_threshold`` (0.015 on transmons; binomial
    σ of 2000 shots is ≤ 0.011 for any ``p`` ≤ 0.45), ``rabi`` ≤ ``amplitude_threshold`` of
    the amplitude (0.3 %), ``ramsey`` ≤ ``frequency_threshold_hz`` (3 kHz; the 41-point, 4 µs
    sweep gives ~1.3 kHz), ``t1`` ≤ ``t1_relative_threshold`` of T1 (30 %), and the
    2-qubit phase nodes (``cphase``, ``ms_angle``, ``ecr_phase``) ≤ ``phase_threshold_rad``
    (0.03 rad; the 3-CZ conditional Ramsey gives ~0.007 rad). Nodes without a canary:
    ``t2_echo`` ≤ 50 % of T2 (T2 only sets sweep spans — the echo's 2.5 T2, the Ramsey
    canary's ``0.2 T2`` cap — which a factor-2 error keeps within their design range);
    ``rb_1q`` and ``xeb_2q`` ≤ the infidelity ``1 - F`` itself (a benchmark must at least
    resolve the error rate it reports: Magesan et al., PRL 106, 180504 (2011)). Physical
    ranges: probabilities in ``[0, 0.5)`` (above, the states are swapped), amplitudes and
    times positive, fidelities in ``[0, 1)`` (a noisy gate's fidelity of exactly 1 is a fit
    stuck on its bound), phases in ``[-π, π)``.

    Calibration programs run through ``execute_native``, which does not post-select: on
    photonic devices they are accounted as heralded shots and on neutral-atom devices as
    loss-free shots (the experiments' statistics are those of the kept shots either way).

    Raises:
        ValueError: the modality is not in :data:`CALIBRATED_MODALITIES`.
    """
    if caps.modality not in CALIBRATED_MODALITIES:
        raise ValueError(f"no calibration graph for modality {caps.modality.value!r}")
    s = settings if settings is not None else settings_for(caps.modality)
    natives = caps.native_gate_names
    probability = {"absolute": s.readout_threshold, "low": 0.0, "high": 0.5}
    positive = {"low": 0.0}
    fidelity = {"infidelity": 1.0, "low": 0.0, "high": 1.0}
    phase = (SigmaCeiling("two_qubit_phase_rad", absolute=s.phase_threshold_rad,
                          low=-math.pi, high=math.pi),)
    nodes = [CalibrationNode("readout", "qubit", ceilings=(
                 SigmaCeiling("readout_p01", **probability),
                 SigmaCeiling("readout_p10", **probability))),
             CalibrationNode("rabi", "qubit", ("readout",), ceilings=(
                 SigmaCeiling("pi_pulse_amplitude", relative=s.amplitude_threshold,
                              **positive),))]
    frequency = "rabi"
    if caps.modality is not Modality.PHOTONIC:
        nodes.append(CalibrationNode("ramsey", "qubit", ("rabi",), ceilings=(
            SigmaCeiling("frequency_hz", absolute=s.frequency_threshold_hz, **positive),)))
        frequency = "ramsey"
    rb = (SigmaCeiling("single_qubit_gate_fidelity", **fidelity),)
    if caps.modality is Modality.SUPERCONDUCTING:
        nodes += [CalibrationNode("t1", "qubit", ("ramsey",), follows_parents=False,
                                  ceilings=(SigmaCeiling("t1_us", relative=s.t1_relative_threshold,
                                                         **positive),)),
                  CalibrationNode("t2_echo", "qubit", ("t1",), ceilings=(
                      SigmaCeiling("t2_us", relative=0.5, **positive),)),
                  CalibrationNode("rb_1q", "qubit", ("t2_echo",), follows_parents=False,
                                  ceilings=rb)]
    else:
        nodes.append(CalibrationNode("rb_1q", "qubit", (frequency,), follows_parents=False,
                                     ceilings=rb))
    entangler = ("cphase" if "cz" in natives else "ecr_phase" if "ecr" in natives
                 else "ms_angle" if "rxx" in natives else None)
    if entangler is not None:
        nodes += [CalibrationNode(entangler, "pair", (frequency,), ceilings=phase),
                  CalibrationNode("xeb_2q", "pair", ("rb_1q", entangler),
                                  follows_parents=False, ceilings=(
                                      SigmaCeiling("two_qubit_gate_fidelity", **fidelity),))]
    pairs: Iterable[tuple[int, int]]
    if caps.coupling_map is not None:
        pairs = caps.coupling_map
    else:
        n = caps.qubit_count
        pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    return CalibrationGraph(nodes, qubit_count=caps.qubit_count, pairs=pairs)
