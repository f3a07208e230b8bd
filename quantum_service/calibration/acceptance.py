"""Accepting or rejecting a calibration node's new estimates.

A node's experiment writes its fitted values and one-sigma uncertainties into the
:class:`~.experiments.ExperimentContext`; :func:`run_checked` then holds them against the node's
:class:`~.graph.SigmaCeiling` rules. A fit that fails, has a value outside its physical range or
an uncertainty above its ceiling is undone and the node retried once with
:data:`RETRY_SHOT_FACTOR` times the shots (uncertainties shrink by ``sqrt`` of it); when the
retry fails too the previous estimates are kept (stale) and the rejection is returned, to be
recorded on the calibration snapshot (``CalibrationSnapshot.rejections``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from quantum_service.calibration.experiments import ExperimentContext
from quantum_service.calibration.graph import CalibrationNode
from quantum_service.contract import CalibrationRejection
from quantum_service.errors import FailedPreconditionError

__all__ = ["RETRY_SHOT_FACTOR", "run_checked", "check_estimates"]

#: Shots (and random sequences) of a node's retry relative to its first attempt: a 4× retry
#: halves shot-noise-limited uncertainties, enough for a fit that missed its ceiling by < 2×.
RETRY_SHOT_FACTOR = 4

#: ``(context, target)`` → None: one calibration experiment (``QUBIT_EXPERIMENTS`` entries).
Experiment = Callable[[ExperimentContext, int], None] | Callable[
    [ExperimentContext, tuple[int, int]], None]


def check_estimates(ctx: ExperimentContext, node: CalibrationNode,
                    target: int | tuple[int, int]) -> tuple[str, str] | None:
    """``(reason, detail)`` of the first of ``node``'s fields in ``ctx`` that breaks its
    ceiling or range, or ``None`` when all are accepted (or the node has no ceilings)."""
    if isinstance(target, int):
        values = asdict(ctx.estimates.qubits[target])
        errors = ctx.uncertainties.get(target, {})
    else:
        values = asdict(ctx.estimates.pair(*target))
        errors = ctx.pair_uncertainties.get(target, {})
    for rule in node.ceilings:
        problem = rule.problem(float(values[rule.field]),
                               float(errors.get(rule.field, float("inf"))))
        if problem is not None:
            return problem
    return None


def _attempt(ctx: ExperimentContext, node: CalibrationNode, target: int | tuple[int, int],
             experiment: Experiment) -> tuple[str, str] | None:
    """Runs ``experiment`` once; on rejection restores the estimates and uncertainties it
    changed and returns ``(reason, detail)``."""
    estimates = ctx.estimates
    qubit_errors = {q: dict(e) for q, e in ctx.uncertainties.items()}
    pair_errors = {p: dict(e) for p, e in ctx.pair_uncertainties.items()}
    try:
        experiment(ctx, target)  # type: ignore[arg-type]
        problem = check_estimates(ctx, node, target)
    except FailedPreconditionError as exc:
        problem = ("FIT_FAILED", str(exc))
    if problem is not None:
        ctx.estimates = estimates
        ctx.uncertainties = qubit_errors
        ctx.pair_uncertainties = pair_errors
    return problem


def run_checked(ctx: ExperimentContext, node: CalibrationNode, target: int | tuple[int, int],
                experiment: Experiment) -> CalibrationRejection | None:
    """Runs ``experiment`` for ``node`` on ``target``, retried once with
    :data:`RETRY_SHOT_FACTOR` times the shots when its estimates are rejected.

    Returns:
        ``None`` when the estimates (first attempt or retry) were accepted and stay in
        ``ctx``; otherwise the rejection (reason of the retry, both details), with ``ctx``'s
        estimates and uncertainties as they were before the node.
    """
    first = _attempt(ctx, node, target, experiment)
    if first is None:
        return None
    settings = ctx.settings
    ctx.settings = settings.scaled(RETRY_SHOT_FACTOR)
    try:
        second = _attempt(ctx, node, target, experiment)
    finally:
        ctx.settings = settings
    if second is None:
        return None
    return CalibrationRejection(node.name, target, second[0],
                                f"{first[1]}; retry with {RETRY_SHOT_FACTOR}x shots: {second[1]}")
