"""API tokens, stored hashed in the quantum service's SQLite file (table ``api_tokens``).

A token is ``"qc_" + secrets.token_urlsafe(32)`` (256 random bits). Only its SHA-256 digest is
stored, so a copy of the database file yields no usable token; a presented token is hashed and
looked up by digest, and the digests are compared with :func:`hmac.compare_digest`. Plain
SHA-256 (no salt, no slow KDF) is sound here because the tokens are high-entropy random
strings, not passwords (the reasoning of GitHub's and PyPI's API tokens).

Tokens are minted by whoever can write the database file: ``qcore token create`` and the local
launcher (:func:`ensure_token_file`) open the file directly; no RPC mints tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from quantum_service.security.principal import Principal

__all__ = ["TokenStore", "hash_token", "new_token", "ensure_token_file", "TOKEN_PREFIX"]

TOKEN_PREFIX = "qc_"
_USER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    is_admin INTEGER NOT NULL,
    create_time TEXT NOT NULL
);
"""


def new_token() -> str:
    """A fresh random token: ``"qc_"`` + 43 URL-safe characters (32 random bytes)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 digest of ``token`` (UTF-8), the form stored in ``api_tokens``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """The ``api_tokens`` table of the quantum service's SQLite file.

    Args:
        path: the SQLite file (``QuantumSettings.db_path``) or ``":memory:"``; parent folders
            are created.
    """

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                     timeout=10.0)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def create(self, user: str, *, admin: bool = False) -> str:
        """Mints a token for ``user`` and stores its digest; returns the raw token (shown
        once, never stored).

        Raises:
            ValueError: ``user`` is not 1–64 characters of letters, digits and ``._@-``
                starting with a letter or digit.
        """
        if not _USER_PATTERN.match(user):
            raise ValueError(f"user name {user!r} must be 1-64 characters of letters, digits "
                             "and ._@- starting with a letter or digit")
        token = new_token()
        with self._lock:
            self._conn.execute("INSERT INTO api_tokens VALUES (?,?,?,?)",
                               (hash_token(token), user, int(admin),
                                datetime.now(UTC).isoformat()))
        return token

    def verify(self, token: str) -> Principal | None:
        """The principal ``token`` was minted for, or ``None`` for an unknown token."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = hash_token(token)
        with self._lock:
            row = self._conn.execute(
                "SELECT token_sha256, user, is_admin FROM api_tokens WHERE token_sha256 = ?",
                (digest,)).fetchone()
        if row is None or not hmac.compare_digest(row[0], digest):
            return None
        return Principal(user=row[1], is_admin=bool(row[2]))

    def revoke_user(self, user: str) -> int:
        """Deletes every token of ``user``; returns how many there were."""
        with self._lock:
            return self._conn.execute("DELETE FROM api_tokens WHERE user = ?", (user,)).rowcount


def ensure_token_file(db_path: str | Path, token_path: str | Path, *, user: str = "admin",
                      admin: bool = True) -> str:
    """The token in ``token_path`` if the store at ``db_path`` knows it, else a new token for
    ``user`` minted into the store and written to ``token_path`` with mode 0600.

    This is how ``make run`` / ``make services`` get a local admin token with no manual step.

    Returns:
        the raw token.
    """
    token_path = Path(token_path)
    store = TokenStore(db_path)
    try:
        if token_path.is_file():
            existing = token_path.read_text(encoding="utf-8").strip()
            if existing and store.verify(existing) is not None:
                return existing
        token = store.create(user, admin=admin)
    finally:
        store.close()
    token_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    os.chmod(token_path, 0o600)  # an existing file keeps its mode through O_CREAT
    return token
