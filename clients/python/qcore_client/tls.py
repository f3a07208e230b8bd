"""TLS on the client side: when the SDK and the CLI connect with TLS, and with which files.

A client built without ``tls=`` connects with TLS when ``QCORE_TLS_CA`` names a CA bundle (the
CA that signed the services' certificates, e.g. ``var/certs/ca.pem`` of ``qcore certs
create``), and presents the client certificate ``QCORE_TLS_CLIENT_CERT`` with its key
``QCORE_TLS_CLIENT_KEY`` when both are set (for services that require one: mutual TLS).
Without these variables it connects in plaintext, as to ``make run``'s local services.

``tls=ClientTls(ca=...)`` chooses explicitly, ``ClientTls()`` trusts the system's roots (a
service with a certificate of a public CA), ``tls=False`` forces plaintext.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import grpc

from broker.tls import aio_channel, channel_credentials, sync_channel

__all__ = [
    "TLS_CA_ENV",
    "TLS_CLIENT_CERT_ENV",
    "TLS_CLIENT_KEY_ENV",
    "ClientTls",
    "TlsChoice",
    "resolve_tls",
    "open_channel",
    "open_aio_channel",
    "tls_failure_hint",
]

TLS_CA_ENV = "QCORE_TLS_CA"
TLS_CLIENT_CERT_ENV = "QCORE_TLS_CLIENT_CERT"
TLS_CLIENT_KEY_ENV = "QCORE_TLS_CLIENT_KEY"


@dataclass(frozen=True, slots=True)
class ClientTls:
    """The TLS files of a client.

    Attributes:
        ca: PEM CA bundle the server's certificate must chain to; None: the system's roots.
        cert: PEM client certificate chain (mutual TLS), with ``key``.
        key: PEM private key of ``cert``.
    """

    ca: Path | str | None = None
    cert: Path | str | None = None
    key: Path | str | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        """gRPC channel credentials from the files.

        Raises:
            TlsConfigError: only one of ``cert`` and ``key``, or a file that cannot be read.
        """
        return channel_credentials(ca=self.ca, cert=self.cert, key=self.key)


#: What a client's ``tls=`` takes: files, None (the environment decides) or False (plaintext).
TlsChoice = ClientTls | bool | None


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None


def resolve_tls(tls: TlsChoice = None) -> ClientTls | None:
    """The TLS files to connect with, or None for plaintext.

    Args:
        tls: a :class:`ClientTls` is used as given; ``False`` is plaintext; ``True`` or None
            read ``QCORE_TLS_CA``, ``QCORE_TLS_CLIENT_CERT`` and ``QCORE_TLS_CLIENT_KEY``
            (None: plaintext when none of them is set; True: TLS with the system's roots
            then).
    """
    if isinstance(tls, ClientTls):
        return tls
    if tls is False:
        return None
    ca, cert, key = (_env_path(TLS_CA_ENV), _env_path(TLS_CLIENT_CERT_ENV),
                     _env_path(TLS_CLIENT_KEY_ENV))
    if tls is None and ca is None and cert is None and key is None:
        return None
    return ClientTls(ca=ca, cert=cert, key=key)


def _credentials(tls: TlsChoice) -> grpc.ChannelCredentials | None:
    files = resolve_tls(tls)
    return None if files is None else files.credentials()


def open_channel(address: str, tls: TlsChoice = None) -> grpc.Channel:
    """A synchronous channel to ``address``, with TLS as :func:`resolve_tls` says.

    Raises:
        TlsConfigError: a TLS file cannot be read or is not PEM.
    """
    return sync_channel(address, _credentials(tls))


def open_aio_channel(address: str, tls: TlsChoice = None, *,
                     interceptors: list[grpc.aio.ClientInterceptor] | None = None
                     ) -> grpc.aio.Channel:
    """A ``grpc.aio`` channel to ``address``, with TLS as :func:`resolve_tls` says.

    Raises:
        TlsConfigError: a TLS file cannot be read or is not PEM.
    """
    return aio_channel(address, _credentials(tls), interceptors=interceptors)


# Substrings of gRPC's status details (BoringSSL / gRPC core) of a failed TLS handshake.
_VERIFY_FAILED = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed")
_HANDSHAKE_FAILED = ("handshake failed", "Handshake failed", "WRONG_VERSION_NUMBER",
                     "TSI_PROTOCOL_FAILURE", "SSL_ERROR")


def tls_failure_hint(error: grpc.RpcError, tls: ClientTls | None = None) -> str | None:
    """One sentence on what to change when ``error`` looks like a failed TLS handshake, else
    None.

    Args:
        error: the error of a call.
        tls: the TLS files the call's channel used (None: plaintext).

    A server certificate that does not chain to the CA in use (``CERTIFICATE_VERIFY_FAILED``)
    asks for ``--tls-ca`` / ``QCORE_TLS_CA``. A server that closes the connection at once
    ("Socket closed": gRPC shows the client no more) may serve TLS to a plaintext client, or
    require a client certificate the client did not present; the hint names the option that
    would change that.
    """
    if error.code() != grpc.StatusCode.UNAVAILABLE:
        return None
    details = error.details() or ""
    if any(marker in details for marker in _VERIFY_FAILED):
        return (f"the server's certificate was not verified: pass --tls-ca (or set "
                f"{TLS_CA_ENV}) with the CA bundle that signed it")
    if any(marker in details for marker in _HANDSHAKE_FAILED):
        return ("the TLS handshake failed: check that the server serves TLS and that its "
                "certificate names the host you connect to")
    if "Socket closed" in details:
        if tls is None:
            return (f"the server closed the connection: if it serves TLS, pass --tls-ca (or "
                    f"set {TLS_CA_ENV})")
        if tls.cert is None:
            return (f"the server closed the TLS connection: if it requires client "
                    f"certificates (mutual TLS), pass --tls-cert and --tls-key (or set "
                    f"{TLS_CLIENT_CERT_ENV} and {TLS_CLIENT_KEY_ENV})")
    return None
