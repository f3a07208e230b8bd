"""Identity and access: API tokens (:mod:`.tokens`), the authenticated caller
(:mod:`.principal`) and the one access policy (:mod:`.policy`).

The gRPC edge (:mod:`quantum_service.server.auth`) turns a bearer token into a
:class:`~quantum_service.security.principal.Principal`; the kernel only ever sees principals.
"""

from __future__ import annotations

from quantum_service.security.principal import Principal

__all__ = ["Principal"]
