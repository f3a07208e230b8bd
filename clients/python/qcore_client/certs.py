"""A local certificate authority for qcore's TLS: a CA, a server certificate, a client certificate.

``qcore certs create --out var/certs`` (and ``make certs``) writes, with the ``cryptography``
library:

=================  ==========================================================================
``ca.pem``         the CA certificate (self-signed): ``QCORE_TLS_CA`` of clients, and
                   ``QCORE_TLS_CLIENT_CA`` of services that require client certificates
``ca.key``         the CA's private key (mode 0600); keep it off the service hosts
``server.pem``     the services' certificate (``QCORE_TLS_CERT``), subject alternative names
                   from ``hosts`` (``localhost`` and ``127.0.0.1`` by default), serverAuth
``server.key``     its private key (``QCORE_TLS_KEY``, mode 0600)
``client.pem``     a client certificate (``QCORE_TLS_CLIENT_CERT``), clientAuth
``client.key``     its private key (``QCORE_TLS_CLIENT_KEY``, mode 0600)
=================  ==========================================================================

Keys are ECDSA P-256, signatures SHA-256, the profile RFC 5280's (CA: basicConstraints
``CA:TRUE, pathlen:0``, keyCertSign; leaves: ``CA:FALSE``, digitalSignature, an extended key
usage). This is a development CA: a deployment on a network uses its organisation's CA the same
way, through the same variables.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["DEFAULT_HOSTS", "CertificateFiles", "create_certificates"]

#: Names the server certificate is valid for unless others are given.
DEFAULT_HOSTS = ("localhost", "127.0.0.1")
_FILES = ("ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key")


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    """Where :func:`create_certificates` wrote each file (see the module docstring)."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qcore local CA"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _san(hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _write(path: Path, data: bytes, *, private: bool) -> None:
    # A key is created 0600 before any byte is written, never readable by others in between.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(path, flags, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    if private:
        path.chmod(0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _leaf(common_name: str, *, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
          usage: x509.ObjectIdentifier, hosts: Sequence[str], now: datetime.datetime,
          days: int) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=True, content_commitment=False, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=False,
                   crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_key.public_key()), critical=False))
    if hosts:
        builder = builder.add_extension(_san(hosts), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def create_certificates(out: Path | str, *, hosts: Sequence[str] = DEFAULT_HOSTS,
                        client_name: str = "qcore-client", days: int = 365,
                        overwrite: bool = False) -> CertificateFiles:
    """Creates a CA, a server and a client certificate in ``out`` (see the module docstring).

    Args:
        out: directory to write into (created with its parents).
        hosts: DNS names and IP addresses the server certificate is valid for (its subject
            alternative names; the first is also its common name), at least one.
        client_name: common name of the client certificate.
        days: validity of every certificate from now, days (>= 1).
        overwrite: replace existing files; without it an existing ``ca.pem`` (or any other of
            the six files) is an error, so a CA that clients already trust is never replaced
            by accident.
    Returns:
        The paths written.
    Raises:
        FileExistsError: a file exists and ``overwrite`` is false.
        ValueError: no host, a blank host, or ``days < 1``.
    """
    hosts = [h.strip() for h in hosts]
    if not hosts or not all(hosts):
        raise ValueError("give at least one non-blank host name or IP address")
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    paths = tuple(directory / name for name in _FILES)
    files = CertificateFiles(*paths)
    existing = [path for path in paths if path.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} exists: pass --force to replace the certificates "
                              "in " + str(directory))
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (x509.CertificateBuilder()
               .subject_name(_name("qcore local CA")).issuer_name(_name("qcore local CA"))
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=True, content_commitment=False, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=True,
                   crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
    server_cert, server_key = _leaf(hosts[0], ca_cert=ca_cert, ca_key=ca_key,
                                    usage=ExtendedKeyUsageOID.SERVER_AUTH, hosts=hosts, now=now,
                                    days=days)
    client_cert, client_key = _leaf(client_name, ca_cert=ca_cert, ca_key=ca_key,
                                    usage=ExtendedKeyUsageOID.CLIENT_AUTH, hosts=(), now=now,
                                    days=days)
    pem = serialization.Encoding.PEM
    _write(files.ca_cert, ca_cert.public_bytes(pem), private=False)
    _write(files.ca_key, _key_pem(ca_key), private=True)
    _write(files.server_cert, server_cert.public_bytes(pem), private=False)
    _write(files.server_key, _key_pem(server_key), private=True)
    _write(files.client_cert, client_cert.public_bytes(pem), private=False)
    _write(files.client_key, _key_pem(client_key), private=True)
    return files
