// Node.js client of qcore's quantum service: list QPUs, submit and watch a job, run a session.
// Loads protos/qcore/v1/*.proto at run time (@grpc/proto-loader), so it follows the contract.
"use strict";

const path = require("node:path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const PROTO_DIR = path.resolve(__dirname, "../../protos");
const FINAL_STATES = new Set(["JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"]);

/** @returns {any} the qcore.v1 package (service constructors and message types). */
function loadQcore() {
  const definition = protoLoader.loadSync("qcore/v1/quantum_service.proto", {
    includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).qcore.v1;
}

/**
 * Packs parameter sets as little-endian float64, row-major (SessionEvaluate.parameter_values).
 * @param {number[][]} rows shape (parameter_set_count, parameter_count)
 * @returns {Buffer}
 */
function packFloat64(rows) {
  const flat = rows.flat();
  const buffer = Buffer.alloc(8 * flat.length);
  flat.forEach((value, i) => buffer.writeDoubleLE(value, 8 * i));
  return buffer;
}

/** @param {Buffer} bytes @returns {number[]} */
function unpackFloat64(bytes) {
  return Array.from({ length: bytes.length / 8 }, (_, i) => bytes.readDoubleLE(8 * i));
}

class QuantumClient {
  /**
   * @param {string} address host:port of the quantum service
   * @param {string} token API token, sent as `authorization: Bearer <token>`
   */
  constructor(address, token) {
    const qcore = loadQcore();
    // Plaintext, qcore's local default; the token rides in every call's metadata.
    this.stub = new qcore.QuantumService(address, grpc.credentials.createInsecure());
    this.metadata = new grpc.Metadata();
    this.metadata.set("authorization", `Bearer ${token}`);
  }

  /** @returns {Promise<object>} response of a unary RPC */
  unary(method, request) {
    return new Promise((resolve, reject) =>
      this.stub[method](request, this.metadata, (error, response) =>
        (error ? reject(error) : resolve(response))));
  }

  /** @returns {Promise<object[]>} QpuDescription messages */
  async listQpus() {
    return (await this.unary("ListQpus", { page_size: 1000 })).qpus;
  }

  /**
   * Submits OpenQASM programs for counts.
   * @param {string} openqasm @param {{shotCount: number, qpuId?: string, name?: string}} options
   * @returns {Promise<object>} the queued Job
   */
  async submitJob(openqasm, { shotCount, qpuId = "", name = "" }) {
    const request = { programs: [{ openqasm }], shot_count: shotCount, qpu_id: qpuId, name };
    return (await this.unary("SubmitJob", request)).job;
  }

  /**
   * Follows a job until it is final.
   * @param {string} jobId @param {(job: object) => void} [onChange] called with each state
   * @returns {Promise<object>} the final Job, with its result
   */
  watchJob(jobId, onChange = () => {}) {
    return new Promise((resolve, reject) => {
      const call = this.stub.WatchJob({ job_id: jobId }, this.metadata);
      call.on("data", ({ job }) => onChange(job));
      call.on("error", reject);
      call.on("end", () => this.unary("GetJob", { job_id: jobId }).then(
        ({ job }) => (FINAL_STATES.has(job.state) ? resolve(job) : reject(
          new Error(`WatchJob ended with ${jobId} in ${job.state}`))), reject));
    });
  }

  /**
   * Runs a hybrid session: opens it, evaluates each batch of parameter sets, closes it.
   * @param {{qpuId: string, openqasm: string, terms: {pauli_string: string, coefficient: number}[]}} start
   * @param {number[][][]} batches each of shape (parameter_set_count, parameter_count)
   * @returns {Promise<{ready: object, energies: number[][]}>}
   */
  runSession({ qpuId, openqasm, terms }, batches) {
    return new Promise((resolve, reject) => {
      const call = this.stub.OpenSession(this.metadata);
      const energies = [];
      let ready = null;
      let next = 0;
      const send = () => {
        if (next === batches.length) { call.end(); return; }
        const rows = batches[next];
        next += 1;
        call.write({ evaluate: { sequence: next, parameter_values: packFloat64(rows),
                                 parameter_set_count: rows.length } });
      };
      call.on("data", (response) => {
        if (response.response === "ready") { ready = response.ready; send(); return; }
        energies.push(unpackFloat64(response.result.expectation_values));
        send();
      });
      call.on("error", reject);
      call.on("end", () => resolve({ ready, energies }));
      call.write({ start: { qpu_id: qpuId, program: { openqasm }, observable: { terms } } });
    });
  }

  close() { this.stub.close(); }
}

module.exports = { QuantumClient, packFloat64, unpackFloat64, FINAL_STATES };
