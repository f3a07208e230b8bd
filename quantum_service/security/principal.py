"""The authenticated caller of an RPC."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as established from a verified API token.

    Attributes:
        user: the user name jobs, sessions and quotas are accounted to (non-empty).
        is_admin: may read, watch, list and cancel every user's jobs and run fleet operations
            (``Calibrate``).
    """

    user: str
    is_admin: bool = False

    def owns(self, owner: str) -> bool:
        """True when this caller may see and act on an object owned by ``owner``."""
        return self.is_admin or self.user == owner
