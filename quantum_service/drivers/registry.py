"""The driver registry: QPU drivers come from *fleet providers* registered as entry points.

A fleet provider is a callable taking no arguments and returning a list of
:class:`~quantum_service.contract.QpuDriver` instances. Providers are published as Python
entry points in the group ``qcore.drivers`` (``importlib.metadata``), the mechanism of
PennyLane's device plugins; qcore registers its own four modalities the same way
(:data:`BUILTIN_PROVIDERS`). :func:`load_drivers` loads every provider, so a third party adds a
QPU by installing a package, without touching qcore.

Example: a package ``acme-qpu`` adds its device by declaring, in its ``pyproject.toml``::

    [project.entry-points."qcore.drivers"]
    acme = "acme_qpu.qcore_plugin:fleet"

with ``acme_qpu/qcore_plugin.py``::

    from quantum_service.contract import QpuDriver

    def fleet() -> list[QpuDriver]:
        return [AcmeDriver(host="10.0.0.7")]   # a QpuDriver subclass

After ``pip install acme-qpu`` the quantum service lists ``acme``'s QPUs next to qcore's.

Rules: qpu_ids are unique across all providers (a duplicate is an error that names both
providers); a provider that fails to import or to build its drivers is skipped with a logged
warning, so one broken plugin never takes the service down; a provider returning anything
but a list of drivers is an error. qcore's built-in providers are loaded even when qcore is
not installed as a distribution (a source checkout), and never twice when it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points

from quantum_service.contract import QpuDriver
from quantum_service.errors import FailedPreconditionError

__all__ = [
    "BUILTIN_PROVIDERS",
    "ENTRY_POINT_GROUP",
    "FleetProvider",
    "load_drivers",
    "provider_entry_points",
]

log = logging.getLogger(__name__)

#: Entry-point group of fleet providers.
ENTRY_POINT_GROUP = "qcore.drivers"

#: qcore's own distribution name (its installed entry points are the built-in providers).
_DISTRIBUTION = "qcore"

#: A fleet provider: returns the drivers of the QPUs it contributes.
FleetProvider = Callable[[], list[QpuDriver]]

#: qcore's own providers, one per modality: entry-point name → ``module:attribute``. These are
#: also the lines of qcore's ``[project.entry-points."qcore.drivers"]`` table.
BUILTIN_PROVIDERS: dict[str, str] = {
    "superconducting": "quantum_service.drivers.fleet:superconducting_drivers",
    "trapped_ion": "quantum_service.drivers.fleet:trapped_ion_drivers",
    "neutral_atom": "quantum_service.drivers.fleet:neutral_atom_drivers",
    "photonic": "quantum_service.drivers.fleet:photonic_drivers",
}


def provider_entry_points(*, include_installed: bool = True) -> list[EntryPoint]:
    """The fleet providers to load, in a deterministic order.

    qcore's built-in providers come first (in :data:`BUILTIN_PROVIDERS` order), then installed
    providers sorted by name and value. qcore's own distribution's entry points (qcore itself,
    once installed, possibly from an older checkout) and any installed entry point with the
    same value as a built-in one are not listed: the built-ins stand for them.

    Args:
        include_installed: also list the entry points of installed distributions.
    """
    builtin = [EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)
               for name, value in BUILTIN_PROVIDERS.items()]
    if not include_installed:
        return builtin
    known = set(BUILTIN_PROVIDERS.values())
    installed: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        own = ep.dist is not None and ep.dist.name == _DISTRIBUTION
        if not own and ep.value not in known:
            installed.setdefault(ep.value, ep)  # one distribution may be seen on two paths
    return builtin + sorted(installed.values(), key=lambda ep: (ep.name, ep.value))


def load_drivers(providers: Iterable[EntryPoint] | None = None) -> list[QpuDriver]:
    """Loads every fleet provider and returns their drivers, provider by provider.

    Args:
        providers: entry points to load; default :func:`provider_entry_points`.
    Returns:
        the drivers, in provider order, each provider's in its own order.
    Raises:
        FailedPreconditionError: two drivers share a qpu_id (reason ``DUPLICATE_QPU_ID``), or a
            provider returned something other than a list of ``QpuDriver`` (reason
            ``INVALID_DRIVER_PROVIDER``).
    """
    drivers: list[QpuDriver] = []
    owner: dict[str, str] = {}
    for ep in provider_entry_points() if providers is None else providers:
        label = f"{ep.name} = {ep.value}"
        try:
            provider = ep.load()
            provided = provider()
        except Exception as exc:  # a broken plugin must not take the service down
            log.warning("skipping QPU driver provider %r: %s: %s", label,
                        type(exc).__name__, exc)
            continue
        if not isinstance(provided, list | tuple) or not all(
                isinstance(d, QpuDriver) for d in provided):
            raise FailedPreconditionError(
                f"QPU driver provider {label!r} must return a list of QpuDriver instances, "
                f"got {type(provided).__name__}", reason="INVALID_DRIVER_PROVIDER")
        for driver in provided:
            qpu_id = driver.capabilities.qpu_id
            if qpu_id in owner:
                raise FailedPreconditionError(
                    f"qpu_id {qpu_id!r} is provided twice: by {owner[qpu_id]!r} and by "
                    f"{label!r}; rename one QPU or uninstall one provider",
                    reason="DUPLICATE_QPU_ID")
            owner[qpu_id] = label
            drivers.append(driver)
        log.debug("provider %r: %d QPU(s)", label, len(provided))
    return drivers
