// Runs against a live quantum service: QCORE_QUANTUM_ADDRESS and QCORE_TOKEN must be set
// (tests/clients/test_node_client.py starts one and runs `npm test`).
"use strict";

const assert = require("node:assert/strict");
const { test } = require("node:test");
const { QuantumClient, packFloat64, unpackFloat64 } = require("../qcore.js");

const address = process.env.QCORE_QUANTUM_ADDRESS;
const token = process.env.QCORE_TOKEN;
const BELL = `OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
`;

test("float64 packing round-trips little-endian", () => {
  const bytes = packFloat64([[0.5, -1.25], [3, 1e-300]]);
  assert.equal(bytes.length, 32);
  assert.equal(bytes.readDoubleLE(8), -1.25);
  assert.deepEqual(unpackFloat64(bytes), [0.5, -1.25, 3, 1e-300]);
});

test("lists QPUs, submits and watches a job, runs a session", { skip: !address && "no service" },
  async () => {
    const client = new QuantumClient(address, token);
    try {
      const qpus = await client.listQpus();
      const ids = qpus.map((q) => q.qpu_id);
      assert.ok(ids.includes("ion-ideal-24") && ids.includes("sc-grid-16"), ids.join(","));
      assert.equal(qpus.find((q) => q.qpu_id === "sc-grid-16").modality,
        "MODALITY_SUPERCONDUCTING");

      const job = await client.submitJob(BELL, { shotCount: 500, qpuId: "ion-ideal-24",
                                                 name: "node" });
      assert.equal(job.state, "JOB_STATE_QUEUED");
      const seen = [];
      const final = await client.watchJob(job.job_id, (j) => seen.push(j.state));
      assert.equal(final.state, "JOB_STATE_SUCCEEDED", final.error_message);
      assert.equal(seen.at(-1), "JOB_STATE_SUCCEEDED");
      const counts = final.result.experiments[0].counts;
      const total = Object.values(counts).reduce((a, b) => a + Number(b), 0);
      assert.equal(total, 500);
      assert.equal(Number(counts["00"] ?? 0) + Number(counts["11"] ?? 0), 500); // ideal Bell

      // <Z> after ry(theta) is cos(theta), exactly (shot_count 0 on the ideal QPU).
      const { ready, energies } = await client.runSession({
        qpuId: "ion-ideal-24",
        openqasm: 'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\n' +
          "qubit[1] q;\nry(theta) q[0];\n",
        terms: [{ pauli_string: "Z0", coefficient: 1.0 }],
      }, [[[0.0], [Math.PI / 3]], [[Math.PI]]]);
      assert.deepEqual(ready.parameters, ["theta"]);
      assert.equal(energies.length, 2);
      [1.0, 0.5, -1.0].forEach((want, i) =>
        assert.ok(Math.abs(energies.flat()[i] - want) < 1e-9, `${energies.flat()[i]} != ${want}`));
    } finally {
      client.close();
    }
  });

test("a bad token is UNAUTHENTICATED", { skip: !address && "no service" }, async () => {
  const client = new QuantumClient(address, "not-a-token");
  try {
    await assert.rejects(client.listQpus(), (error) => error.code === 16);
  } finally {
    client.close();
  }
});
