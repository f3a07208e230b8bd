"""The TLS settings both services share (``QCORE_TLS_CERT``, ``QCORE_TLS_KEY``,
``QCORE_TLS_CLIENT_CA``), as a pydantic-settings base class of their settings."""

from __future__ import annotations

from pathlib import Path

import grpc
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings

from broker.tls import server_credentials

__all__ = ["CERT_ENV", "KEY_ENV", "CLIENT_CA_ENV", "ServerTlsSettings"]

#: The service's PEM certificate chain.
CERT_ENV = "QCORE_TLS_CERT"
#: Its PEM private key.
KEY_ENV = "QCORE_TLS_KEY"
#: PEM CA bundle of client certificates; set: mutual TLS.
CLIENT_CA_ENV = "QCORE_TLS_CLIENT_CA"


class ServerTlsSettings(BaseSettings):
    """TLS of a gRPC server: plaintext unless ``tls_cert`` and ``tls_key`` are set.

    ``tls_client_ca`` (with both) requires every client to present a certificate that CA
    signed (mutual TLS). A client certificate is transport security only: callers are still
    identified by their bearer token, never by the certificate's subject.
    """

    tls_cert: Path | None = Field(None, validation_alias=CERT_ENV,
                                  description="PEM certificate chain served to clients")
    tls_key: Path | None = Field(None, validation_alias=KEY_ENV,
                                 description="PEM private key of tls_cert")
    tls_client_ca: Path | None = Field(
        None, validation_alias=CLIENT_CA_ENV, description="PEM CA bundle; set: clients must "
        "present a certificate it signed (mutual TLS)")

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> ServerTlsSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(f"TLS needs both {CERT_ENV} and {KEY_ENV} (or neither)")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError(f"{CLIENT_CA_ENV} (mutual TLS) needs {CERT_ENV} and {KEY_ENV}")
        return self

    @property
    def serves_tls(self) -> bool:
        """Whether the server listens with TLS."""
        return self.tls_cert is not None

    @property
    def tls_mode(self) -> str:
        """``"plaintext"``, ``"TLS"`` or ``"mutual TLS"`` (for logs)."""
        if self.tls_cert is None:
            return "plaintext"
        return "TLS" if self.tls_client_ca is None else "mutual TLS"

    def server_credentials(self) -> grpc.ServerCredentials | None:
        """The server's TLS credentials, or None for a plaintext port.

        Raises:
            TlsConfigError: a file cannot be read or is not PEM.
        """
        if self.tls_cert is None or self.tls_key is None:
            return None
        return server_credentials(cert=self.tls_cert, key=self.tls_key,
                                  client_ca=self.tls_client_ca)
