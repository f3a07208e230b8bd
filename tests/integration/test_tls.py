"""gRPC over TLS end to end: certificates from ``qcore certs create``'s helper in ``tmp_path``,
real servers on free loopback ports serving TLS (and mutual TLS), the SDK, the CLI, health and
reflection over TLS, and the classical service's own TLS channel to the quantum service."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from typer.testing import CliRunner

from broker.errors import TlsConfigError
from broker.tls import channel_credentials
from classical_service.config import ClassicalSettings
from classical_service.server.app import create_server as create_classical
from qcore_client import (
    AsyncClassicalClient,
    AsyncQuantumClient,
    ClassicalClient,
    ClientTls,
    QuantumClient,
)
from qcore_client.certs import CertificateFiles, create_certificates
from qcore_client.cli import app
from qcore_client.launcher import LocalStack
from qcore_client.tls import tls_failure_hint
from quantum_service.config import QuantumSettings
from quantum_service.server.app import QuantumServer, create_server
from tests.quantum_service.server.conftest import IDEAL_QPU, small_fleet

pytestmark = pytest.mark.integration

PARAMETRIC = """OPENQASM 3.0;
include "stdgates.inc";
input float theta;
qubit[1] q;
rx(theta) q[0];
"""


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    return create_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    """A second, unrelated CA: the services' certificates do not chain to it."""
    return create_certificates(tmp_path_factory.mktemp("other-certs"))


def _settings(db_path: Path, certs: CertificateFiles, *, mutual: bool) -> QuantumSettings:
    return QuantumSettings(port=0, db_path=db_path, telemetry=False, grace_s=0.1,
                           tls_cert=certs.server_cert, tls_key=certs.server_key,
                           tls_client_ca=certs.ca_cert if mutual else None)


@dataclass
class ThreadedService:
    server: QuantumServer
    token: str

    @property
    def address(self) -> str:
        return self.server.address


def _threaded(db_path: Path, settings: QuantumSettings) -> Iterator[ThreadedService]:
    """A quantum service whose event loop runs in a thread (so blocking clients can call it)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(
        create_server(settings, drivers=small_fleet()), loop).result(60)
    try:
        yield ThreadedService(server, server.tokens.create("tls-tester", admin=True))
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(0.1), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def tls_service(tmp_path_factory, certs) -> Iterator[ThreadedService]:
    db_path = tmp_path_factory.mktemp("tls") / "jobs.sqlite"
    yield from _threaded(db_path, _settings(db_path, certs, mutual=False))


@pytest.fixture(scope="module")
def mtls_service(tmp_path_factory, certs) -> Iterator[ThreadedService]:
    db_path = tmp_path_factory.mktemp("mtls") / "jobs.sqlite"
    yield from _threaded(db_path, _settings(db_path, certs, mutual=True))


def test_the_helper_writes_a_ca_a_server_and_a_client_certificate(certs, tmp_path):
    server = x509.load_pem_x509_certificate(certs.server_cert.read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    ca = x509.load_pem_x509_certificate(certs.ca_cert.read_bytes())
    for leaf in (server, x509.load_pem_x509_certificate(certs.client_cert.read_bytes())):
        leaf.verify_directly_issued_by(ca)
    for key in (certs.ca_key, certs.server_key, certs.client_key):
        assert key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        create_certificates(certs.ca_cert.parent)
    custom = create_certificates(tmp_path / "custom", hosts=["qpu.example", "10.0.0.7"])
    names = x509.load_pem_x509_certificate(custom.server_cert.read_bytes()).extensions \
        .get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["qpu.example"]


def test_sync_sdk_calls_over_tls_with_the_ca(tls_service, certs):
    with QuantumClient(tls_service.address, token=tls_service.token,
                       tls=ClientTls(ca=certs.ca_cert)) as client:
        assert {q.qpu_id for q in client.list_qpus()} >= {IDEAL_QPU}


def test_sdk_reads_the_ca_from_the_environment(tls_service, certs, monkeypatch):
    monkeypatch.setenv("QCORE_TLS_CA", str(certs.ca_cert))
    with QuantumClient(tls_service.address, token=tls_service.token) as client:
        assert client.get_qpu(IDEAL_QPU).qpu_id == IDEAL_QPU


@pytest.mark.parametrize("tls", [ClientTls(), "other-ca"], ids=["system-roots", "other-ca"])
def test_an_unverified_server_certificate_fails_unavailable_with_a_hint(
        tls_service, other_ca, tls):
    tls = ClientTls(ca=other_ca.ca_cert) if tls == "other-ca" else tls
    with QuantumClient(tls_service.address, token=tls_service.token, tls=tls,
                       timeout_s=10) as client, pytest.raises(grpc.RpcError) as caught:
        client.list_qpus()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "--tls-ca" in tls_failure_hint(caught.value)


def test_a_plaintext_client_is_refused_by_a_tls_server(tls_service):
    with QuantumClient(tls_service.address, token=tls_service.token, tls=False,
                       timeout_s=10) as client, pytest.raises(grpc.RpcError) as caught:
        client.list_qpus()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "--tls-ca" in tls_failure_hint(caught.value)


def test_health_and_reflection_answer_over_tls(tls_service, certs):
    credentials = channel_credentials(ca=certs.ca_cert)
    with grpc.secure_channel(tls_service.address, credentials) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                          timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
        names = {s.name for r in replies for s in r.list_services_response.service}
    assert "qcore.v1.QuantumService" in names


def test_cli_connects_with_tls_ca_and_explains_a_verification_failure(tls_service, certs,
                                                                      other_ca, monkeypatch):
    for name in ("QCORE_TLS_CA", "QCORE_TLS_CLIENT_CERT", "QCORE_TLS_CLIENT_KEY"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    args = ["qpus", "--json", "--quantum", tls_service.address, "--token", tls_service.token]
    ok = runner.invoke(app, ["--tls-ca", str(certs.ca_cert), *args])
    assert ok.exit_code == 0, ok.output
    assert IDEAL_QPU in ok.stdout
    bad = runner.invoke(app, ["--tls-ca", str(other_ca.ca_cert), *args])
    assert bad.exit_code == 1
    assert bad.exception is None or isinstance(bad.exception, SystemExit)
    line, = bad.stderr.strip().splitlines()
    assert line.startswith("error UNAVAILABLE: the server's certificate was not verified")
    plaintext = runner.invoke(app, args)
    assert plaintext.exit_code == 1
    line, = plaintext.stderr.strip().splitlines()
    assert line.startswith("error UNAVAILABLE: the server closed the connection: if it serves "
                           "TLS, pass --tls-ca")
    missing = runner.invoke(app, ["--tls-ca", str(certs.ca_cert.parent / "nope.pem"), *args])
    assert missing.exit_code == 2
    assert "cannot read the CA bundle" in missing.stderr


def test_mutual_tls_refuses_a_client_without_a_certificate(mtls_service, certs):
    with QuantumClient(mtls_service.address, token=mtls_service.token,
                       tls=ClientTls(ca=certs.ca_cert), timeout_s=10) as client, \
            pytest.raises(grpc.RpcError) as caught:
        client.list_qpus()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "--tls-cert" in tls_failure_hint(caught.value, ClientTls(ca=certs.ca_cert))
    with QuantumClient(mtls_service.address, token=mtls_service.token,
                       tls=ClientTls(ca=certs.ca_cert, cert=certs.client_cert,
                                     key=certs.client_key)) as client:
        assert client.get_qpu(IDEAL_QPU).qpu_id == IDEAL_QPU


def test_mutual_tls_still_needs_a_token(mtls_service, certs):
    tls = ClientTls(ca=certs.ca_cert, cert=certs.client_cert, key=certs.client_key)
    with QuantumClient(mtls_service.address, token="not-a-token", tls=tls) as client, \
            pytest.raises(grpc.RpcError) as caught:
        client.list_qpus()
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_certificate_without_its_key_is_a_configuration_error(certs, tmp_path):
    with pytest.raises(ValueError, match="QCORE_TLS_KEY"):
        QuantumSettings(db_path=tmp_path / "j.sqlite", tls_cert=certs.server_cert)
    with pytest.raises(TlsConfigError):
        ClientTls(ca=certs.ca_cert, cert=certs.client_cert).credentials()


async def test_classical_service_reaches_a_mutual_tls_quantum_service_over_tls(certs, tmp_path):
    quantum = await create_server(_settings(tmp_path / "jobs.sqlite", certs, mutual=True),
                                  drivers=small_fleet())
    classical = await create_classical(ClassicalSettings(
        port=0, quantum_address=quantum.address, telemetry=False, model_dir=tmp_path / "m",
        tls_cert=certs.server_cert, tls_key=certs.server_key, quantum_tls_ca=certs.ca_cert,
        quantum_tls_cert=certs.client_cert, quantum_tls_key=certs.client_key))
    token = quantum.tokens.create("tls-tester")
    tls = ClientTls(ca=certs.ca_cert)
    try:
        async with AsyncClassicalClient(classical.address, token=token, tls=tls) as client:
            # The token is verified by a call to the quantum service over mutual TLS, and the
            # hybrid loop's session runs on the same kind of channel.
            assert await client.list_optimizers()
            responses = [r async for r in client.minimize(
                PARAMETRIC, {"Z0": 1.0}, optimizer="cobyla", qpu_id=IDEAL_QPU,
                initial_parameters=[0.3], max_iterations=5)]
        assert responses[-1].WhichOneof("response") == "result"
        async with AsyncQuantumClient(quantum.address, token=token, tls=tls) as plain:
            with pytest.raises(grpc.RpcError) as caught:  # no client certificate
                await plain.list_qpus()
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await classical.stop(0.1)
        await quantum.stop(0.1)


def test_a_local_stack_serves_mutual_tls_from_the_variables(certs, tmp_path, monkeypatch):
    """``make services`` with the variables of ``qcore certs create``: both services serve
    mutual TLS, the launcher's health checks and the classical service's channel to the
    quantum service present the client certificate, and so do the SDK and the CLI."""
    for name, path in {"QCORE_TLS_CERT": certs.server_cert, "QCORE_TLS_KEY": certs.server_key,
                       "QCORE_TLS_CLIENT_CA": certs.ca_cert, "QCORE_TLS_CA": certs.ca_cert,
                       "QCORE_TLS_CLIENT_CERT": certs.client_cert,
                       "QCORE_TLS_CLIENT_KEY": certs.client_key}.items():
        monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("QCORE_QUANTUM_TELEMETRY", "false")
    monkeypatch.setenv("QCORE_CLASSICAL_TELEMETRY", "false")
    with LocalStack(workdir=tmp_path / "stack", mqtt_url="mqtt://127.0.0.1:1") as stack:
        with ClassicalClient(stack.classical_address, token=stack.token) as client:
            assert client.list_optimizers()  # the token checked over mutual TLS
        result = CliRunner().invoke(app, ["qpus", "--json", "--quantum", stack.quantum_address,
                                          "--token", stack.token])
        assert result.exit_code == 0, result.output
        monkeypatch.delenv("QCORE_TLS_CLIENT_CERT")
        monkeypatch.delenv("QCORE_TLS_CLIENT_KEY")
        with QuantumClient(stack.quantum_address, token=stack.token, timeout_s=10) as client, \
                pytest.raises(grpc.RpcError) as caught:
            client.list_qpus()
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
