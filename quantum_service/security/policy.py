"""The access policy of the quantum service: which RPCs need no token, which need an admin.

Object-level rules (a user sees and acts only on their own jobs and sessions; admins on all)
are :meth:`~quantum_service.security.principal.Principal.owns`, applied by the kernel.
"""

from __future__ import annotations

from quantum_service.errors import PermissionDeniedError
from quantum_service.security.principal import Principal

__all__ = ["OPEN_SERVICES", "ADMIN_METHODS", "is_open", "authorize_method"]

#: Services callable without a token: health checks and server reflection.
OPEN_SERVICES = frozenset({
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
})
#: Fleet operations only an admin may call (full method names).
ADMIN_METHODS = frozenset({"/qcore.v1.QuantumService/Calibrate"})


def _service(method: str) -> str:
    return method.lstrip("/").split("/", 1)[0]


def is_open(method: str) -> bool:
    """True when ``method`` (``/package.Service/Method``) needs no token."""
    return _service(method) in OPEN_SERVICES


def authorize_method(principal: Principal, method: str) -> None:
    """Checks that ``principal`` may call ``method`` at all.

    Raises:
        PermissionDeniedError: an admin-only method called by a non-admin (reason
            ``ADMIN_REQUIRED``).
    """
    if method in ADMIN_METHODS and not principal.is_admin:
        name = method.rsplit("/", 1)[-1]
        raise PermissionDeniedError(
            f"{name} is a fleet operation reserved to admins; user {principal.user!r} is not "
            "an admin (mint an admin token with `qcore token create --user NAME --admin`)",
            reason="ADMIN_REQUIRED")
