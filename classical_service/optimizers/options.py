"""Declared optimiser options and their validation.

Options arrive from clients as ``map<string, double>`` (``MinimizeRequest.options``), so every
option is a float; integer options must be integral and flags must be 0 or 1. Each optimiser
declares its options as :class:`OptionSpec` data, which gives both its defaults (reported by
``ListOptimizers``) and the checks run before any evaluation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["OptionKind", "OptionSpec", "resolve_options"]

OptionKind = Literal["real", "integer", "flag"]


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option of an optimiser.

    Attributes:
        default: Value used when the option is not given.
        description: What the option controls, with its unit.
        kind: ``"real"``, ``"integer"`` (an integral float) or ``"flag"`` (0 or 1).
        minimum, maximum: Bounds on the value; ``None`` for unbounded.
        exclusive_minimum, exclusive_maximum: Whether the bound itself is excluded.
    """

    default: float
    description: str
    kind: OptionKind = "real"
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False

    def allowed(self) -> str:
        """The accepted values in words, e.g. ``"a real number in (0, 1]"``."""
        if self.kind == "flag":
            return "0 or 1"
        low = "-inf" if self.minimum is None else f"{self.minimum:g}"
        high = "inf" if self.maximum is None else f"{self.maximum:g}"
        left = "(" if self.minimum is None or self.exclusive_minimum else "["
        right = ")" if self.maximum is None or self.exclusive_maximum else "]"
        noun = "an integer" if self.kind == "integer" else "a real number"
        return f"{noun} in {left}{low}, {high}{right}"

    def accepts(self, value: float) -> bool:
        """Whether ``value`` (a finite float) satisfies the kind and the bounds."""
        if self.kind == "flag":
            return value in (0.0, 1.0)
        if self.kind == "integer" and not value.is_integer():
            return False
        low, high = self.minimum, self.maximum
        below = low is not None and (value < low or (self.exclusive_minimum and value == low))
        above = high is not None and (value > high or (self.exclusive_maximum and value == high))
        return not (below or above)


def _listing(specs: Mapping[str, OptionSpec]) -> str:
    return ", ".join(f"{name}={spec.default:g}" for name, spec in sorted(specs.items()))


def resolve_options(
    optimizer_name: str,
    specs: Mapping[str, OptionSpec],
    options: Mapping[str, float] | None,
) -> dict[str, float]:
    """Checks ``options`` against ``specs`` and fills in the defaults.

    Args:
        optimizer_name: Used in error messages.
        specs: The optimiser's declared options.
        options: Option values given by the caller (``None`` or empty: all defaults). Numbers
            only; ``bool`` is accepted for flags.
    Returns:
        Every declared option name mapped to a float.
    Raises:
        ValueError: an unknown option name (the message lists the valid ones with their
            defaults), a non-numeric or non-finite value, or a value outside its range.
    """
    given = dict(options or {})
    unknown = sorted(str(name) for name in given if name not in specs)
    if unknown:
        valid = _listing(specs) if specs else "none"
        raise ValueError(
            f"unknown option(s) {', '.join(repr(n) for n in unknown)} for optimizer "
            f"{optimizer_name!r}; valid options (with defaults): {valid}"
        )
    resolved: dict[str, float] = {}
    for name, spec in specs.items():
        if name not in given:
            resolved[name] = float(spec.default)
            continue
        raw = given[name]
        is_bool = isinstance(raw, bool)
        if not isinstance(raw, numbers.Real) or (is_bool and spec.kind != "flag"):
            raise ValueError(
                f"option {name!r} of optimizer {optimizer_name!r} must be {spec.allowed()}, "
                f"got {raw!r} ({type(raw).__name__})"
            )
        value = float(raw)
        if not math.isfinite(value) or not spec.accepts(value):
            raise ValueError(
                f"option {name!r} of optimizer {optimizer_name!r} must be {spec.allowed()}, "
                f"got {raw!r}; it controls: {spec.description}"
            )
        resolved[name] = value
    return resolved
