// qcore dashboard: renders the fleet view pushed by /events (server-sent events).
"use strict";

const SERIES = {
  t1_us: "T1 (µs)", t2_us: "T2 (µs)", readout_fidelity: "readout fidelity",
  single_qubit_gate_fidelity: "1q gate fidelity",
};
const charts = {};

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fill(tbody, items, render) {
  tbody.replaceChildren();
  for (const item of items) render(tbody.insertRow(), item);
}

function fmtTime(iso) { return iso ? new Date(iso).toLocaleTimeString() : "–"; }

function renderFleet(view) {
  fill(document.querySelector("#fleet tbody"), view.qpus, (row, q) => {
    row.dataset.qpuId = q.qpu_id;
    cell(row, q.qpu_id);
    cell(row, q.modality.toLowerCase().replace("_", " "));
    cell(row, q.status, "status-" + q.status);
    cell(row, q.qubit_count);
    cell(row, q.queue_length);
    cell(row, q.device_time_s.toFixed(3));
    cell(row, (100 * q.device_time_share).toFixed(1) + " %");
    cell(row, q.calibration_snapshot_id || "–");
  });
  document.getElementById("multiprogramming").textContent =
    (100 * view.multiprogramming_share).toFixed(1) + " %";
}

function renderQueues(view) {
  const root = document.getElementById("queues");
  root.replaceChildren();
  for (const [qpuId, entries] of Object.entries(view.queues)) {
    if (!entries.length) continue;
    const box = document.createElement("div");
    box.className = "queue";
    box.innerHTML = "<h3></h3><table><thead><tr><th>position</th><th>job</th><th>owner</th>" +
      "<th>state</th><th>estimated start</th></tr></thead><tbody></tbody></table>";
    box.querySelector("h3").textContent = qpuId;
    fill(box.querySelector("tbody"), entries, (row, e) => {
      cell(row, e.state === "RUNNING" ? "running" : e.queue_position);
      cell(row, e.job_id);
      cell(row, e.owner);
      cell(row, e.state, "state-" + e.state);
      cell(row, fmtTime(e.estimated_start_time));
    });
    root.appendChild(box);
  }
  if (!root.children.length) root.textContent = "No job is queued or running.";
}

function renderJobs(view) {
  fill(document.querySelector("#jobs tbody"), view.jobs, (row, j) => {
    row.dataset.jobId = j.job_id;
    cell(row, j.job_id);
    cell(row, j.name || "");
    cell(row, j.qpu_id);
    cell(row, j.owner);
    cell(row, j.state, "state state-" + j.state);
    cell(row, fmtTime(j.create_time));
    cell(row, j.device_time_s.toFixed(4));
    cell(row, j.physical_qubits.join(",") + (j.shared ? " (shared)" : ""));
  });
}

function renderCalibration(view) {
  const select = document.getElementById("calibration-qpu");
  const ids = Object.keys(view.calibration);
  if (select.options.length !== ids.length) {
    const chosen = select.value;
    select.replaceChildren(...ids.map((id) => new Option(id, id)));
    const noisy = view.qpus.find((q) => q.noisy && ids.includes(q.qpu_id));
    select.value = chosen || (noisy ? noisy.qpu_id : ids[0] || "");
  }
  const history = view.calibration[select.value];
  if (!history) return;
  for (const [name, title] of Object.entries(SERIES)) {
    const datasets = Object.entries(history.qubits).map(([qubit, series]) => ({
      label: "q" + qubit,
      data: series[name].map((y, i) => ({ x: history.device_time_s[i], y })),
      showLine: true, pointRadius: 2,
    }));
    if (!charts[name]) {
      charts[name] = new Chart(document.getElementById("chart-" + name), {
        type: "scatter", data: { datasets },
        options: { animation: false, plugins: { title: { display: true, text: title },
                   legend: { display: datasets.length <= 16 } },
                   scales: { x: { title: { display: true, text: "device time (s)" } } } },
      });
    } else {
      charts[name].data.datasets = datasets;
      charts[name].update();
    }
  }
}

function render(view) {
  document.getElementById("address").textContent = view.address;
  document.getElementById("updated").textContent = view.error
    ? "error: " + view.error : "updated " + fmtTime(view.time);
  renderFleet(view);
  renderQueues(view);
  renderJobs(view);
  renderCalibration(view);
}

document.getElementById("calibration-qpu").addEventListener("change", () => {
  fetch("/api/fleet").then((r) => r.json()).then(renderCalibration);
});

const source = new EventSource("/events");
const badge = document.getElementById("connection");
source.addEventListener("open", () => { badge.textContent = "live"; badge.className = "badge live"; });
source.addEventListener("error", () => { badge.textContent = "reconnecting…"; badge.className = "badge down"; });
source.addEventListener("fleet", (event) => render(JSON.parse(event.data)));
