"""Reliability benchmark: fault scenarios against real quantum-service processes.

Run: ``python -m benchmarks.reliability`` (writes ``benchmarks/RELIABILITY_REPORT.md``;
``--quick``: smaller sizes). Scenarios (:mod:`benchmarks.faults`): kill -9 with jobs queued and
running, cancel then kill -9, SIGTERM timing, head-of-line latency on other QPUs beside a
20-qubit job, many users' jobs and sessions at once; and telemetry through broker faults
(:mod:`benchmarks.broker_faults`): restarted and hung broker processes (amqtt, and Mosquitto
where installed), and a quantum service running jobs while its broker is down.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import broker_faults, faults
from benchmarks.faults import percentile_ms
from qcore_client.launcher import free_port

REPORT = Path(__file__).with_name("RELIABILITY_REPORT.md")


def _latency_row(name: str, values) -> str:
    return (f"| {name} | {len(values)} | {percentile_ms(values, 50):.1f} | "
            f"{percentile_ms(values, 99):.1f} | {max(values) * 1e3:.1f} |")


async def run(workdir: Path, *, quick: bool) -> list[str]:
    out: list[str] = []
    kill = await faults.kill9_with_queue(workdir / "kill9", queued=50, running=2,
                                         long_sets=8 if quick else 16)
    out += ["## kill -9 with jobs queued and running", "",
            f"{kill.running_at_kill} jobs RUNNING and {kill.queued_at_kill} QUEUED when the "
            f"service was killed; after the restart ({kill.restart_s:.1f} s to SERVING) every "
            f"submission was retried with its request_id: {kill.succeeded} of "
            f"{kill.submitted} SUCCEEDED in {kill.drain_s:.1f} s, **{kill.lost} lost, "
            f"{kill.duplicated} duplicated**.", ""]
    cancel = await faults.cancel_then_kill(workdir / "cancel")
    out += ["## Cancel, then kill -9", "",
            f"CancelJob answered with the job {cancel.state_at_kill}; killed at once; after the "
            f"restart it was {cancel.state_after_restart}, and {cancel.state_after_wait} 2 s "
            f"later (result stored: {cancel.has_result}; message: \"{cancel.error_message}\").",
            ""]
    term = await faults.sigterm_stop(workdir / "sigterm", rerun=True,
                                     long_sets=16 if quick else 64)
    out += ["## SIGTERM", "",
            f"With a 20-qubit job running and 3 queued, SIGTERM → exit in **{term.stop_s:.2f} s** "
            f"(grace period {term.grace_s:g} s; the launcher waits 15 s), exit status "
            f"{term.exit_status}; stored afterwards: interrupted job {term.interrupted_state}, "
            f"queued jobs {', '.join(term.queued_states)}; after a restart the interrupted job "
            f"ran again: {'SUCCEEDED' if term.rerun_succeeded else 'not SUCCEEDED'}.", ""]
    hol = await faults.head_of_line(workdir / "hol", samples=100 if quick else 200)
    out += ["## Head-of-line blocking", "",
            f"Latency of calls on other QPUs while `{faults.LONG_QPU}` runs a 20-qubit job "
            f"(still RUNNING at the end: {hol.long_job_still_running}), sequential calls, ms "
            "(queued-job quota lifted):",
            "", "| call | n | p50 | p99 | max |", "|---|---|---|---|---|",
            _latency_row(f"SubmitJob on {faults.OTHER_QPU}, all QPUs idle", hol.idle_submit_s),
            _latency_row(f"SubmitJob on {faults.OTHER_QPU}, beside the 20-qubit job",
                         hol.busy_submit_s),
            _latency_row(f"OpenSession on {faults.SESSION_QPU}, beside it",
                         hol.busy_open_session_s),
            _latency_row(f"SessionEvaluate on {faults.OTHER_QPU}, beside it",
                         hol.busy_evaluate_s), "",
            f"Target p99 SubmitJob beside the long job < 100 ms: "
            f"{'met' if percentile_ms(hol.busy_submit_s, 99) < 100 else 'missed'}.", ""]
    users, per_user, sessions, evals = (5, 20, 4, 50) if quick else (20, 50, 10, 200)
    load = await faults.load(workdir / "load", users=users, jobs_per_user=per_user,
                             sessions=sessions, evaluations=evals)
    spread = sorted({q: load.session_qpus.count(q) for q in load.session_qpus}.items())
    out += ["## Many users and sessions at once", "",
            f"{load.users} users × {per_user} jobs (placement) and {load.sessions} sessions × "
            f"{evals} evaluations at once (4 leases per QPU; device-time quota raised to "
            f"{faults.LOAD_QUOTA_DEVICE_S:.0e} s per user): {load.succeeded} of {load.jobs} "
            f"jobs SUCCEEDED, **{load.lost} lost, {load.duplicated} duplicated**; "
            f"{load.evaluations} evaluations; sessions placed on "
            f"{', '.join(f'{q} ({n})' for q, n in spread)}; wall time {load.wall_s:.1f} s.", "",
            "| call | n | p50 | p99 | max |", "|---|---|---|---|---|",
            _latency_row("SubmitJob", load.submit_s),
            _latency_row("SessionEvaluate", load.evaluate_s), ""]
    return out + await broker_section(workdir / "broker", quick=quick)


async def broker_section(workdir: Path, *, quick: bool) -> list[str]:
    """The report's broker-fault section (:mod:`benchmarks.broker_faults`)."""
    uid = f"r{uuid.uuid4().hex[:10]}"
    prefix = f"qcore-bench/{uid}/qcore/v1"
    hang_s = 12.0 if quick else 60.0
    kinds = [k for k in broker_faults.KINDS if k != "mosquitto" or broker_faults.MOSQUITTO]
    rows = []
    for kind in kinds:
        broker = broker_faults.BrokerProcess(kind, free_port(), workdir / kind)
        broker.start()
        try:
            restart = await broker_faults.broker_restart(broker, f"{uid}-{kind}-r",
                                                         f"{prefix}/{kind}-r")
            hang = await broker_faults.broker_hang(broker, f"{uid}-{kind}-h",
                                                   f"{prefix}/{kind}-h", hang_s=hang_s)
        finally:
            broker.kill()
        rows += [f"| {kind} | kill -9, fresh process | — | — | — | {restart.retained_after} of "
                 f"{restart.retained_before} in {restart.restore_s:.2f} s | "
                 f"{'yes' if restart.online else 'no'} |",
                 f"| {kind} | hung {hang.hang_s:.0f} s (SIGSTOP) | {hang.attempts_per_minute:.1f}"
                 f" | {hang.delivered} of {broker_faults.HANG_JOBS} | {hang.dropped} | "
                 f"{hang.retained} of {broker_faults.RETAINED} | "
                 f"{'yes' if hang.online else 'no'} |"]
    service = await broker_faults.service_through_restart(workdir / "service",
                                                          f"{prefix}/service", jobs=8)
    missing = [k for k in broker_faults.KINDS if k not in kinds]
    return ["## Broker faults", "",
            f"A publisher holding a fleet's retained state ({broker_faults.RETAINED} topics: the "
            f"service's status and, for {len(broker_faults.FLEET_QPUS)} QPUs, status, "
            "calibration summary, snapshot and one topic per qubit) with the service's default "
            "timings; the broker killed and replaced by a fresh process (which lost every "
            f"retained message), or hung while {broker_faults.HANG_JOBS} jobs' events were "
            "published and then continued; a persistent QoS 1 subscriber counts the events."
            + (f" Not run: {', '.join(missing)} (not installed)." if missing else ""), "",
            "| broker | fault | connection attempts per minute while hung | events delivered | "
            "events dropped | retained topics afterwards | service ONLINE afterwards |",
            "|---|---|---|---|---|---|---|", *rows, "",
            f"A quantum service ({service.qpus} QPUs, telemetry to an amqtt broker process) "
            f"with its broker killed: {service.succeeded} of {service.jobs} jobs submitted "
            f"while it was down SUCCEEDED; after the broker restarted, "
            f"{service.retained_after} of {service.retained_before} retained topics were back "
            f"({'the same topics' if service.same_topics else 'not the same topics'}); once "
            f"the service stopped, {service.offline_after_stop} of {service.qpus + 1} statuses "
            "(its QPUs' and its own) read OFFLINE.", ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    began = time.monotonic()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="qcore-reliability-") as tmp:
        body = asyncio.run(run(Path(tmp), quick=args.quick))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = "python -m benchmarks.reliability" + (" --quick" if args.quick else "")
    head = ["# qcore reliability", "",
            f"Generated by `{command}` on {stamp} ({(time.monotonic() - began) / 60:.1f} min) "
            f"against real `python -m quantum_service` processes on loopback (telemetry and "
            f"automatic calibration off). Every figure comes from this run.", "",
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}; load average before "
            f"{', '.join(f'{v:.2f}' for v in load_before)}, after "
            f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}.", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(head + body))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
