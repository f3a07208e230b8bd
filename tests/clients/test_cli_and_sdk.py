"""The SDK and the ``qcore`` CLI against a real local stack (child processes, free ports)."""

from __future__ import annotations

import json

import grpc
import numpy as np
import pytest
from typer.testing import CliRunner

from qcore.v1 import common_pb2
from qcore_client import cli
from qcore_client.circuit import Circuit, Parameter
from qcore_client.client import ClassicalClient, QuantumClient
from qcore_client.launcher import LocalStack

pytestmark = pytest.mark.integration


def _mint(stack: LocalStack, user: str, *extra: str) -> str:
    result = CliRunner().invoke(cli.app, ["token", "create", "--user", user, "--db",
                                          str(stack.db_path), *extra])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_launcher_writes_a_private_admin_token(local_stack):
    assert local_stack.token_path.stat().st_mode & 0o777 == 0o600
    assert local_stack.token_path.read_text().strip() == local_stack.token
    with QuantumClient(local_stack.quantum_address, token=local_stack.token) as qc:
        assert qc.list_qpus()


def test_sdk_job_session_and_minimize(local_stack):
    alice = _mint(local_stack, "alice")
    with QuantumClient(local_stack.quantum_address, token=alice) as qc:
        job = qc.submit_job(Circuit(2).h(0).cx(0, 1).measure_all(), shot_count=500,
                            qpu_id="ion-ideal-24", seed=4)
        final = qc.wait(job.job_id)
        assert final.state == common_pb2.JOB_STATE_SUCCEEDED and final.owner == "alice"
        assert set(final.result.experiments[0].counts) == {"00", "11"}
        theta = Parameter("theta")
        with qc.session(Circuit(1).ry(theta, 0), {"Z0": 1.0}, qpu_id="ion-ideal-24") as s:
            energies, gradients = s.evaluate([[0.3], [1.1]], gradient=True)
        np.testing.assert_allclose(energies, np.cos([0.3, 1.1]), atol=1e-10)
        np.testing.assert_allclose(gradients[:, 0], -np.sin([0.3, 1.1]), atol=1e-10)
        with pytest.raises(grpc.RpcError) as info:
            qc.get_job("job-missing")
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with QuantumClient(local_stack.quantum_address, token=_mint(local_stack, "bob")) as bob:
        with pytest.raises(grpc.RpcError) as info:
            bob.get_job(job.job_id)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        assert job.job_id not in {j.job_id for j in bob.list_jobs()}
    with QuantumClient(local_stack.quantum_address, token=local_stack.token) as admin:
        assert admin.get_job(job.job_id).owner == "alice"
    with ClassicalClient(local_stack.classical_address, token=alice) as cc:
        names = {o.name for o in cc.list_optimizers()}
        assert names == {"cobyla", "nelder-mead", "l-bfgs-b", "spsa", "adam"}
        last = list(cc.minimize(Circuit(1).ry(theta, 0), {"Z0": 1.0}, optimizer="l-bfgs-b",
                                initial_parameters=[0.5], qpu_id="ion-ideal-24"))[-1]
        assert last.result.energy == pytest.approx(-1.0, abs=1e-8)


def test_cli_commands(local_stack, tmp_path):
    runner = CliRunner()
    env = {"QCORE_QUANTUM_ADDRESS": local_stack.quantum_address,
           "QCORE_CLASSICAL_ADDRESS": local_stack.classical_address,
           "QCORE_TOKEN_FILE": str(tmp_path / "no-such.token"), "COLUMNS": "200"}
    result = runner.invoke(cli.app, ["qpus"], env=env)
    assert result.exit_code == 1 and "UNAUTHENTICATED" in result.output
    env["QCORE_TOKEN"] = _mint(local_stack, "carol")
    result = runner.invoke(cli.app, ["qpus"], env=env)
    assert result.exit_code == 0, result.output
    assert "sc-grid-16" in result.output and "ion-ideal-24" in result.output
    program = tmp_path / "bell.qasm"
    program.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
                       'h q[0];\ncx q[0],q[1];\nmeasure q -> c;\n')
    result = runner.invoke(cli.app, ["submit", str(program), "--shots", "100", "--qpu",
                                     "ion-ideal-24"], env=env)
    assert result.exit_code == 0, result.output
    assert "SUCCEEDED" in result.output and "00" in result.output
    job_id = result.output.split("submitted ")[1].split()[0]
    result = runner.invoke(cli.app, ["jobs"], env=env)
    assert result.exit_code == 0 and job_id in result.output
    result = runner.invoke(cli.app, ["cancel", job_id], env=env)
    assert result.exit_code == 1 and "FAILED_PRECONDITION" in result.output
    bad = tmp_path / "bad.qasm"
    bad.write_text("OPENQASM 2.0; qreg q[1]; nosuchgate q[0];")
    result = runner.invoke(cli.app, ["submit", str(bad)], env=env)
    assert result.exit_code == 1 and "INVALID_ARGUMENT" in result.output
    result = runner.invoke(cli.app, ["vqe", "h2", "--qpu", "ion-ideal-24"], env=env)
    assert result.exit_code == 0, result.output
    assert "mHa" in result.output
    result = runner.invoke(cli.app, ["monitor", "--mqtt", local_stack.mqtt_url, "--seconds",
                                     "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "qcore/v1/" in result.output
    json.dumps(result.output)  # printable
    result = CliRunner().invoke(cli.app, ["token", "revoke", "--user", "carol", "--db",
                                          str(local_stack.db_path)])
    assert result.exit_code == 0 and "revoked 1 token" in result.output
    result = runner.invoke(cli.app, ["qpus"], env=env)
    assert result.exit_code == 1 and "UNAUTHENTICATED" in result.output
