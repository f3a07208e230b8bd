"""The web dashboard in headless Chromium (Playwright) against a live quantum service: the page
loads, lists every QPU, and a job's state change appears without a reload.

Chromium comes from Playwright (``make browsers``) or the system (``chromium`` on PATH); without
either the browser test is skipped with the reason."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2

pytest.importorskip("starlette", reason="the dashboard needs the observe extra")
playwright_api = pytest.importorskip("playwright.async_api",
                                     reason="the browser test needs playwright (dev extra)")

from qcore_client.dashboard.app import serve_dashboard  # noqa: E402
from qcore_client.dashboard.fleet import FleetPoller  # noqa: E402

pytestmark = pytest.mark.integration

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0], q[1];\n' \
       'measure q -> c;\n'
#: Where the screenshot is written when QCORE_DASHBOARD_SCREENSHOT names a file (docs/).
SCREENSHOT_ENV = "QCORE_DASHBOARD_SCREENSHOT"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _chromium(playwright) -> str | None:
    """Playwright's own Chromium if installed, else a system one; None when neither."""
    bundled = playwright.chromium.executable_path
    if bundled and Path(bundled).exists():
        return bundled
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


async def test_dashboard_lists_qpus_and_updates_job_states_live(stack):
    poller = FleetPoller(stack.quantum.address, stack.token, interval_s=0.2)
    port = _free_port()
    server = serve_dashboard(poller, host="127.0.0.1", port=port)
    serving = asyncio.create_task(server.serve())
    driver = stack.quantum.kernel.registry.get("ion-ideal-24").driver
    release, started = threading.Event(), threading.Event()
    execute = driver.execute

    def held_execute(*args, **kwargs):  # keeps the job RUNNING until the page has shown it
        started.set()
        release.wait(20)
        return execute(*args, **kwargs)

    try:
        while not server.started:
            await asyncio.sleep(0.05)
        async with playwright_api.async_playwright() as playwright:
            executable = await _chromium(playwright)
            if executable is None:
                pytest.skip("no Chromium: run `make browsers` or install chromium")
            browser = await playwright.chromium.launch(executable_path=executable,
                                                       headless=True)
            page = await browser.new_page(viewport={"width": 1400, "height": 1700})
            loads: list[str] = []
            page.on("load", lambda: loads.append("load"))
            await page.goto(f"http://127.0.0.1:{port}/")
            expect = playwright_api.expect
            await expect(page.locator("#connection")).to_have_text("live")
            qpus = (await stack.quantum_stub.ListQpus(qs_pb2.ListQpusRequest())).qpus
            rows = page.locator("#fleet tbody tr")
            await expect(rows).to_have_count(len(qpus))
            shown = await page.locator("#fleet tbody tr td:first-child").all_text_contents()
            assert sorted(shown) == sorted(q.qpu_id for q in qpus)
            modality = page.locator('#fleet tr[data-qpu-id="sc-grid-16"] td').nth(1)
            await expect(modality).to_have_text("superconducting")

            driver.execute = held_execute
            job = (await stack.quantum_stub.SubmitJob(qs_pb2.SubmitJobRequest(
                programs=[common_pb2.Program(openqasm=BELL)], qpu_id="ion-ideal-24",
                shot_count=100, name="dashboard-test"))).job
            state = page.locator(f'#jobs tr[data-job-id="{job.job_id}"] td.state')
            await expect(state).to_have_text("RUNNING", timeout=15_000)
            queue_row = page.locator("#queues td", has_text=job.job_id)
            await expect(queue_row).to_have_count(1)
            release.set()
            await expect(state).to_have_text("SUCCEEDED", timeout=15_000)
            await expect(page.locator("#queues td", has_text=job.job_id)).to_have_count(0)
            assert loads == ["load"]  # the page never reloaded
            await expect(page.locator("#calibration-qpu option")).not_to_have_count(0)
            if target := os.environ.get(SCREENSHOT_ENV):  # docs: a few calibrations to plot
                for _ in range(3):
                    await stack.quantum_stub.Calibrate(qs_pb2.CalibrateRequest(
                        qpu_id="sc-grid-16", qubits=[0, 1, 2, 3], force=True))
                    await asyncio.sleep(0.5)
                await page.screenshot(path=target, full_page=True)
            await browser.close()
    finally:
        release.set()
        driver.execute = execute
        server.should_exit = True
        await serving


async def test_fleet_view_reports_queues_and_calibration(stack):
    poller = FleetPoller(stack.quantum.address, stack.token, interval_s=10)
    await poller.start()
    try:
        view = poller.view()
        assert {q["qpu_id"] for q in view["qpus"]} >= {"sc-grid-16", "ion-ideal-24"}
        sc = next(q for q in view["qpus"] if q["qpu_id"] == "sc-grid-16")
        assert (sc["modality"], sc["qubit_count"], sc["status"]) == \
            ("SUPERCONDUCTING", 16, "ONLINE")
        history = view["calibration"]["sc-grid-16"]
        assert len(history["device_time_s"]) == 1 and len(history["qubits"]) == 16
        assert 0 < history["qubits"]["0"]["t1_us"][0] < 1e4
        await stack.quantum_stub.Calibrate(qs_pb2.CalibrateRequest(
            qpu_id="sc-grid-16", qubits=[0], force=True))
        await poller.poll()
        history = poller.view()["calibration"]["sc-grid-16"]
        assert history["trigger"][-1] == "on_demand" and len(history["device_time_s"]) == 2
        assert history["device_time_s"][1] > history["device_time_s"][0]
    finally:
        await poller.stop()
