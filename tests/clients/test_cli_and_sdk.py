"""The SDK and the ``qcore`` CLI against a real local stack (child processes, free ports)."""

from __future__ import annotations

import json
import uuid

import grpc
import numpy as np
import pytest
from typer.testing import CliRunner

from broker.credentials import PASSWORD_ENV, USERNAME_ENV
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


def test_sdk_measures_several_observables_together(local_stack):
    theta = Parameter("theta")
    circuit = Circuit(2).ry(theta, 0).cx(0, 1)
    rows = [[0.3], [1.1]]
    observables = [{"Z0": 1.0}, {"Z0 Z1": 2.0}, [("X0 X1", 1.0)]]
    exact = np.array([[np.cos(t), 2.0, np.sin(t)] for t in (0.3, 1.1)])
    with QuantumClient(local_stack.quantum_address, token=local_stack.token) as qc:
        final = qc.wait(qc.submit_job(circuit, observables=observables, parameter_sets=rows,
                                      qpu_id="ion-ideal-24").job_id)
        values = [list(e.expectation_values) for e in sorted(
            final.result.experiments, key=lambda e: e.parameter_set_index)]
        np.testing.assert_allclose(values, exact, atol=1e-10)
        with qc.session(circuit, observables=observables, qpu_id="ion-ideal-24") as s:
            energies, gradients = s.evaluate(rows, gradient=True)
            assert energies.shape == (2, 3) and gradients.shape == (2, 3, 1)
        np.testing.assert_allclose(energies, exact, atol=1e-10)
        np.testing.assert_allclose(gradients[:, :, 0], [[-np.sin(t), 0.0, np.cos(t)]
                                                        for t in (0.3, 1.1)], atol=1e-10)
        with pytest.raises(ValueError, match="not both"):
            qc.submit_job(circuit, observable={"Z0": 1.0}, observables=observables)


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
    if local_stack.mqtt_credentials is not None:
        # The stack's embedded broker admits only its own login (a shared broker may be open).
        env[USERNAME_ENV] = local_stack.mqtt_credentials.username
        env[PASSWORD_ENV] = local_stack.mqtt_credentials.password
    result = runner.invoke(cli.app, ["monitor", "--mqtt", local_stack.mqtt_url, "--prefix",
                                     str(local_stack.topic_prefix), "--seconds", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "qcore/v1/" in result.output
    json.dumps(result.output)  # printable
    result = CliRunner().invoke(cli.app, ["token", "revoke", "--user", "carol", "--db",
                                          str(local_stack.db_path)])
    assert result.exit_code == 0 and "revoked 1 token" in result.output
    result = runner.invoke(cli.app, ["qpus"], env=env)
    assert result.exit_code == 1 and "UNAUTHENTICATED" in result.output


def _cli_env(stack: LocalStack, token: str) -> dict[str, str]:
    return {"QCORE_QUANTUM_ADDRESS": stack.quantum_address,
            "QCORE_CLASSICAL_ADDRESS": stack.classical_address, "QCORE_TOKEN": token,
            "COLUMNS": "60"}


def test_cli_json_output_parses_and_piped_tables_keep_full_ids(local_stack, tmp_path):
    runner = CliRunner()
    env = _cli_env(local_stack, _mint(local_stack, "dana"))
    program = tmp_path / "ghz.qasm"
    program.write_text('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[3] c;\n'
                       'h q[0];\ncx q[0], q[1];\ncx q[1], q[2];\nc = measure q;\n')
    result = runner.invoke(cli.app, ["submit", str(program), "--shots", "200", "--qpu",
                                     "ion-ideal-24", "--priority", "7", "--seed", "3",
                                     "--json"], env=env)
    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)
    assert job["state"] == "JOB_STATE_SUCCEEDED" and job["priority"] == 7
    assert set(job["result"]["experiments"][0]["counts"]) == {"000", "111"}
    # piped (CliRunner is no terminal) on a narrow COLUMNS: tab-separated, ids never cut
    result = runner.invoke(cli.app, ["jobs", "--limit", "5"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[0] == "job_id"
    assert job["job_id"] in {line.split("\t")[0] for line in lines[1:]}
    listed = json.loads(runner.invoke(cli.app, ["jobs", "--json", "--state", "succeeded"],
                                      env=env).stdout)
    assert job["job_id"] in {j["job_id"] for j in listed}
    qpu = json.loads(runner.invoke(cli.app, ["qpu", "show", "sc-grid-16", "--json"],
                                   env=env).stdout)
    assert qpu["qpu_id"] == "sc-grid-16" and qpu["qubit_count"] == 16
    assert {g["name"] for g in qpu["native_gates"]} == {"rz", "sx", "x", "cz"}
    qpus = json.loads(runner.invoke(cli.app, ["qpus", "--json"], env=env).stdout)
    assert "ion-ideal-24" in {q["qpu_id"] for q in qpus}
    names = {o["name"] for o in json.loads(runner.invoke(
        cli.app, ["optimizers", "--json"], env=env).stdout)}
    assert {"cobyla", "l-bfgs-b"} <= names
    assert json.loads(runner.invoke(cli.app, ["models", "--json"], env=env).stdout) == []
    session = tmp_path / "ansatz.qasm"
    session.write_text('OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] t;\n'
                       'qubit[1] q;\nry(t) q[0];\n')
    result = runner.invoke(cli.app, ["session", str(session), "-o", "Z0=1", "-p", "0.3",
                                     "-p", "1.1", "--gradient", "--json", "--qpu",
                                     "ion-ideal-24"], env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    np.testing.assert_allclose(document["expectation_values"], np.cos([0.3, 1.1]), atol=1e-10)
    np.testing.assert_allclose(np.array(document["gradients"])[:, 0], -np.sin([0.3, 1.1]),
                               atol=1e-10)
    # --each: every term its own observable, measured together
    result = runner.invoke(cli.app, ["session", str(session), "-o", "Z0=1", "-o", "X0=2",
                                     "-p", "0.3", "-p", "1.1", "--each", "--json", "--qpu",
                                     "ion-ideal-24"], env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    np.testing.assert_allclose(document["expectation_values"],
                               [[np.cos(t), 2 * np.sin(t)] for t in (0.3, 1.1)], atol=1e-10)
    table = runner.invoke(cli.app, ["session", str(session), "-o", "Z0", "-o", "X0", "-p",
                                    "0.3", "--each", "--qpu", "ion-ideal-24"], env=env)
    assert table.exit_code == 0 and "<Z0>" in table.stdout and "<X0>" in table.stdout


def test_cli_sessions_lists_the_callers_open_sessions(local_stack):
    runner = CliRunner()
    gina = _mint(local_stack, "gina")
    theta = Parameter("theta")
    with QuantumClient(local_stack.quantum_address, token=gina) as qc, qc.session(
            Circuit(1).ry(theta, 0), {"Z0": 1.0}, qpu_id="ion-ideal-24",
            idle_timeout_s=90) as s:
        s.evaluate([[0.3]])
        assert [x.session_id for x in qc.list_sessions()] == [s.session_id]
        # piped on a narrow COLUMNS: tab-separated, the full session id
        result = runner.invoke(cli.app, ["sessions"], env=_cli_env(local_stack, gina))
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0].split("\t")[:3] == ["session_id", "owner", "qpu_id"]
        assert [line.split("\t")[:3] for line in lines[1:]] == [
            [s.session_id, "gina", "ion-ideal-24"]]
        listed = json.loads(runner.invoke(cli.app, ["sessions", "--json", "--qpu",
                                                    "ion-ideal-24"],
                                          env=_cli_env(local_stack, gina)).stdout)
        assert [(d["session_id"], d["owner"], d["idle_timeout_s"], d["evaluation_count"])
                for d in listed] == [(s.session_id, "gina", 90.0, "1")]  # int64 as JSON text
        other = runner.invoke(cli.app, ["sessions", "--json"],
                              env=_cli_env(local_stack, _mint(local_stack, "hank")))
        assert other.exit_code == 0 and json.loads(other.stdout) == []
        admin = json.loads(runner.invoke(cli.app, ["sessions", "--json"],
                                         env=_cli_env(local_stack, local_stack.token)).stdout)
        assert s.session_id in {d["session_id"] for d in admin}
    result = runner.invoke(cli.app, ["sessions", "--json"], env=_cli_env(local_stack, gina))
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_cli_mitigated_job_and_session(local_stack, tmp_path):
    runner = CliRunner()
    env = _cli_env(local_stack, local_stack.token)
    program = tmp_path / "ansatz.qasm"
    program.write_text('OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] t;\n'
                       'qubit[2] q;\nry(t) q[0];\ncx q[0], q[1];\n')
    result = runner.invoke(cli.app, ["submit", str(program), "-o", "Z0 Z1=1", "-p", "0.4",
                                     "--qpu", "ion-chain-11", "--shots", "2000", "--zne",
                                     "--scale-factors", "1,2,3", "--extrapolation", "linear",
                                     "--twirl", "2", "--json"], env=env)
    assert result.exit_code == 0, result.output
    experiment = json.loads(result.stdout)["result"]["experiments"][0]
    assert experiment["mitigation"]["scale_factors"][0] == 1.0
    assert len(experiment["mitigation"]["expectation_values"]) == 3
    assert experiment["mitigation"]["extrapolation"] == "EXTRAPOLATION_METHOD_LINEAR"
    assert experiment["mitigation"]["randomization_count"] == 2
    result = runner.invoke(cli.app, ["session", str(program), "-o", "Z0 Z1=1", "-p", "0.4",
                                     "--qpu", "ion-chain-11", "--shots", "1000", "--dd", "xx",
                                     "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["mitigation"][0]["scale_factors"] == [1.0]
    result = runner.invoke(cli.app, ["submit", str(program), "-o", "Z0 Z1=1", "-p", "0.4",
                                     "--qpu", "ion-ideal-24", "--dd", "xx"], env=env)
    assert result.exit_code == 1 and "FAILED_PRECONDITION" in result.stderr


def test_cli_calibrate_needs_an_admin_token(local_stack):
    runner = CliRunner()
    result = runner.invoke(cli.app, ["calibrate", "sc-grid-16", "--qubit", "0"],
                           env=_cli_env(local_stack, _mint(local_stack, "erin")))
    assert result.exit_code == 1 and "PERMISSION_DENIED" in result.stderr
    result = runner.invoke(cli.app, ["calibrate", "sc-grid-16", "--qubit", "0", "--json"],
                           env=_cli_env(local_stack, local_stack.token))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["snapshot"]["qpu_id"] == "sc-grid-16"


@pytest.mark.parametrize(("args", "status", "message"), [
    (["vqe", "h3"], 2, "error: unknown molecule 'h3'"),
    (["monitor", "--mqtt", "http://127.0.0.1:1883"], 2, "must start with mqtt://"),
    (["monitor", "--mqtt", "mqtt://127.0.0.1:1", "--seconds", "1"], 2,
     "cannot connect to the MQTT broker"),
    (["jobs", "--state", "done"], 2, "unknown job state 'done'"),
    (["qpu", "show", "no-such-qpu"], 1, "error NOT_FOUND: unknown qpu_id"),
    (["session", __file__, "-o", "Z0=x"], 2, "bad observable term"),
    (["submit", __file__, "-o", "Z0=1", "--scale-factors", "1,3"], 2, "add --zne"),
    (["submit", __file__, "-o", "Z0=1", "--zne", "--extrapolation", "cubic"], 2,
     "unknown extrapolation 'cubic'"),
    (["session", __file__, "-o", "Z0=1", "--dd", "xy8"], 2, "unknown decoupling 'xy8'"),
])
def test_cli_user_errors_are_one_line_without_traceback(local_stack, args, status, message):
    result = CliRunner().invoke(cli.app, args, env=_cli_env(local_stack, local_stack.token))
    assert result.exit_code == status, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_every_command_and_option_has_help_and_json():
    import typer.core
    import typer.main

    group = typer.main.get_command(cli.app)

    def commands(command, path=()):
        if isinstance(command, typer.core.TyperGroup):
            for name, sub in command.commands.items():
                yield from commands(sub, (*path, name))
        else:
            yield path, command

    found = list(commands(group))
    assert {("qpu", "show"), ("calibrate",), ("session",), ("models",), ("infer",)} <= {
        p for p, _ in found}
    for path, command in found:
        assert command.help, path
        options = [p for p in command.params if isinstance(p, typer.core.TyperOption)]
        assert all(o.help for o in options), (path, [o.name for o in options if not o.help])
        assert path == ("infer",) or any("--json" in o.opts for o in options), path


def test_token_create_json(local_stack):
    result = CliRunner().invoke(cli.app, ["token", "create", "--user", "frank", "--db",
                                          str(local_stack.db_path), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["user"] == "frank" and document["token"]
    with QuantumClient(local_stack.quantum_address, token=document["token"]) as qc:
        assert qc.list_qpus()


def test_cli_version():
    result = CliRunner().invoke(cli.app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("qcore ")


async def test_async_clients_have_the_sync_calls(local_stack):
    from qcore_client.client import AsyncClassicalClient, AsyncQuantumClient

    theta = Parameter("theta")
    async with AsyncQuantumClient(local_stack.quantum_address, token=local_stack.token) as qc:
        assert {q.qpu_id for q in await qc.list_qpus()} >= {"sc-grid-16", "ion-ideal-24"}
        job = await qc.submit_job(Circuit(1).x(0).measure_all(), shot_count=200,
                                  qpu_id="sc-grid-16", priority=9, readout_mitigation=True,
                                  seed=2)
        final = await qc.wait(job.job_id)
        assert final.priority == 9 and final.state == common_pb2.JOB_STATE_SUCCEEDED
        mitigated = final.result.experiments[0].mitigated_probabilities
        assert mitigated and mitigated["1"] > 0.9
        listed = [j.job_id async for j in qc.list_jobs(limit=3)]
        assert job.job_id in listed and len(listed) <= 3
        async with await qc.session(Circuit(1).ry(theta, 0), {"Z0": 1.0},
                                    qpu_id="ion-ideal-24") as s:
            energies, gradients = await s.evaluate([[0.3], [1.1]], gradient=True)
            assert s.session_id in [x.session_id async for x in qc.list_sessions()]
        np.testing.assert_allclose(energies, np.cos([0.3, 1.1]), atol=1e-10)
        np.testing.assert_allclose(gradients[:, 0], -np.sin([0.3, 1.1]), atol=1e-10)
    async with AsyncClassicalClient(local_stack.classical_address,
                                    token=local_stack.token) as cc:
        assert "adam" in {o.name for o in await cc.list_optimizers()}
        assert await cc.list_models() == []
        responses = [r async for r in cc.minimize(Circuit(1).ry(theta, 0), {"Z0": 1.0},
                                                  initial_parameters=[0.5],
                                                  qpu_id="ion-ideal-24")]
        assert responses[-1].result.energy == pytest.approx(-1.0, abs=1e-8)
