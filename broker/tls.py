"""TLS from PEM files: gRPC server and channel credentials, and the MQTT client's SSL context.

``broker`` is shared by both services and the clients, so the one place that turns certificate
files into credentials lives here:

* a gRPC server with a certificate chain and key serves TLS; with a client CA as well it
  requires a client certificate signed by that CA (mutual TLS) and refuses the handshake of a
  client without one;
* a gRPC channel with a CA verifies the server's certificate against it (the system's roots
  when the CA is ``None``), and presents a client certificate when one is given;
* an MQTT connection (``mqtts://``) verifies the broker's certificate the same way.

Files are read when the credentials are made (a service's start, a client's construction), so a
missing or unreadable file fails at once with :class:`~broker.errors.TlsConfigError` naming it,
never at the first call.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from pathlib import Path

import grpc

from broker.errors import TlsConfigError

__all__ = [
    "read_pem",
    "server_credentials",
    "channel_credentials",
    "bind_port",
    "sync_channel",
    "aio_channel",
    "mqtt_ssl_context",
]

_PEM_MARKER = b"-----BEGIN "


def read_pem(path: Path | str, what: str) -> bytes:
    """The bytes of a PEM file.

    Args:
        path: the file.
        what: what it holds, for the error message (``"server certificate"``).
    Raises:
        TlsConfigError: the file cannot be read or holds no PEM block.
    """
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    if _PEM_MARKER not in data:
        raise TlsConfigError(f"the {what} {path} is not a PEM file (no '-----BEGIN' line)")
    return data


def server_credentials(*, cert: Path | str, key: Path | str,
                       client_ca: Path | str | None = None) -> grpc.ServerCredentials:
    """Credentials of a TLS gRPC server.

    Args:
        cert: PEM certificate chain of the server (its certificate first).
        key: PEM private key of that certificate.
        client_ca: PEM CA bundle; when given, every client must present a certificate it
            signed (mutual TLS), and a client without one fails the handshake.
    Raises:
        TlsConfigError: a file cannot be read or is not PEM.
    """
    pair = (read_pem(key, "server private key"), read_pem(cert, "server certificate"))
    roots = None if client_ca is None else read_pem(client_ca, "client CA bundle")
    return grpc.ssl_server_credentials([pair], root_certificates=roots,
                                       require_client_auth=roots is not None)


def channel_credentials(*, ca: Path | str | None = None, cert: Path | str | None = None,
                        key: Path | str | None = None) -> grpc.ChannelCredentials:
    """Credentials of a TLS gRPC channel.

    Args:
        ca: PEM CA bundle the server's certificate must chain to; ``None``: the system's roots.
        cert, key: PEM client certificate chain and its private key, for a server that
            requires one (mutual TLS); both or neither.
    Raises:
        TlsConfigError: only one of ``cert`` and ``key``, or a file that cannot be read.
    """
    if (cert is None) != (key is None):
        raise TlsConfigError("a client certificate needs its key and a key its certificate: "
                             "give both or neither")
    return grpc.ssl_channel_credentials(
        root_certificates=None if ca is None else read_pem(ca, "CA bundle"),
        private_key=None if key is None else read_pem(key, "client private key"),
        certificate_chain=None if cert is None else read_pem(cert, "client certificate"))


def bind_port(server: grpc.aio.Server, address: str,
              credentials: grpc.ServerCredentials | None) -> int:
    """Adds a listening port to ``server`` (TLS with ``credentials``, plaintext with None) and
    returns the port bound (``host:0`` picks a free one)."""
    if credentials is None:
        return server.add_insecure_port(address)
    return server.add_secure_port(address, credentials)


def sync_channel(address: str, credentials: grpc.ChannelCredentials | None) -> grpc.Channel:
    """A synchronous channel to ``address``: TLS with ``credentials``, plaintext with None."""
    if credentials is None:
        return grpc.insecure_channel(address)
    return grpc.secure_channel(address, credentials)


def aio_channel(address: str, credentials: grpc.ChannelCredentials | None, *,
                interceptors: Sequence[grpc.aio.ClientInterceptor] | None = None
                ) -> grpc.aio.Channel:
    """A ``grpc.aio`` channel to ``address``: TLS with ``credentials``, plaintext with None."""
    if credentials is None:
        return grpc.aio.insecure_channel(address, interceptors=interceptors)
    return grpc.aio.secure_channel(address, credentials, interceptors=interceptors)


def mqtt_ssl_context(*, ca: Path | str | None = None, cert: Path | str | None = None,
                     key: Path | str | None = None) -> ssl.SSLContext:
    """The client SSL context of an ``mqtts://`` connection: TLS 1.2 or later, the broker's
    certificate verified against ``ca`` (the system's roots when None) and its host name
    checked; ``cert``/``key`` (both or neither) present a client certificate.

    Raises:
        TlsConfigError: only one of ``cert`` and ``key``, or a file that cannot be read or is
            not a certificate bundle.
    """
    if (cert is None) != (key is None):
        raise TlsConfigError("an MQTT client certificate needs its key: give both or neither")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        if ca is not None:
            read_pem(ca, "MQTT CA bundle")  # a clear message for a missing file
            context.load_verify_locations(cafile=str(Path(ca).expanduser()))
        if cert is not None and key is not None:
            context.load_cert_chain(str(Path(cert).expanduser()), str(Path(key).expanduser()))
    except ssl.SSLError as exc:
        raise TlsConfigError(f"cannot load the MQTT TLS files: {exc}") from None
    return context
