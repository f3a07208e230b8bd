"""``QcoreSamplerV2``: Qiskit's Sampler V2 on qcore counts jobs.

Each PUB ``(circuit, parameter_values[, shots])`` becomes one qcore job (one parametric program
with a parameter set per row of the broadcast parameter values, or bound programs; see
:mod:`qcore_client.qiskit.programs`). The result has one ``BitArray`` per classical register,
of shape ``pub.shape`` and ``shots`` samples, rebuilt from qcore's counts (qcore returns counts,
not the order of shots: the samples of each row are the counts expanded and shuffled with
``seed``). On post-selecting QPUs (discarded shots) every row keeps the smallest kept count.

Register bits follow the OpenQASM 3 text: registers in ``circuit.cregs`` order, flattened in that
order as qcore reads them (circuits whose clbits all belong to registers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from qiskit import QuantumCircuit
from qiskit.primitives import BaseSamplerV2, PrimitiveResult, SamplerPubResult
from qiskit.primitives.containers import BitArray, DataBin
from qiskit.primitives.containers.sampler_pub import SamplerPub, SamplerPubLike

from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore_client.client import QuantumClient
from qcore_client.qiskit.jobs import QcorePrimitiveJob
from qcore_client.qiskit.programs import QcorePrograms, to_programs

__all__ = ["QcoreSamplerV2", "counts_to_samples"]


def counts_to_samples(counts: Mapping[str, int], clbits: list[int], total_clbits: int,
                      shot_count: int, rng: np.random.Generator) -> np.ndarray:
    """Packed samples of the clbits ``clbits`` (``clbits[0]`` is the least-significant bit).

    Args:
        counts: qcore counts, keys of ``total_clbits`` characters, highest clbit first.
        shot_count: samples to return (at most the counts' total).
    Returns:
        uint8, shape ``(shot_count, ceil(len(clbits) / 8))``: big-endian packed bits as
        ``qiskit.primitives.BitArray`` stores them.
    """
    keys = list(counts)
    width = len(clbits)
    nbytes = max(1, (width + 7) // 8)
    if not keys:
        return np.zeros((0, nbytes), dtype=np.uint8)
    bits = np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8).reshape(
        len(keys), total_clbits) - ord("0")
    columns = [total_clbits - 1 - c for c in reversed(clbits)]  # most significant first
    selected = np.zeros((len(keys), nbytes * 8), dtype=np.uint8)
    selected[:, nbytes * 8 - width:] = bits[:, columns]
    packed = np.packbits(selected, axis=1)
    samples = np.repeat(packed, [int(counts[k]) for k in keys], axis=0)
    rng.shuffle(samples, axis=0)
    return samples[:shot_count]


class QcoreSamplerV2(BaseSamplerV2):
    """Sampler V2 on a qcore QPU.

    Args:
        qpu_id: target QPU; empty lets qcore's scheduler choose.
        client: a :class:`~qcore_client.client.QuantumClient`; default one from ``address`` and
            ``token``.
        default_shots: shots of PUBs that set none.
        seed: seed of qcore's sampling and of the shuffling of expanded counts (0: random).
        priority: job priority 0–10.
    """

    def __init__(self, *, qpu_id: str = "", client: QuantumClient | None = None,
                 address: str | None = None, token: str | None = None,
                 default_shots: int = 1024, seed: int = 0, priority: int = 0) -> None:
        if default_shots < 1:
            raise ValueError(f"default_shots must be >= 1, got {default_shots}")
        self.client = client or QuantumClient(address, token=token)
        self.qpu_id = qpu_id
        self.default_shots = default_shots
        self.seed = seed
        self.priority = priority

    def run(self, pubs: Iterable[SamplerPubLike], *, shots: int | None = None
            ) -> QcorePrimitiveJob:
        """Validates the PUBs, submits one qcore job each, returns the primitive job.

        Raises:
            ValueError: a malformed PUB (Qiskit's checks: e.g. a circuit without classical
                bits), or ``shots < 1``.
            grpc.RpcError: ``INVALID_ARGUMENT`` when qcore rejects a circuit.
        """
        shots = self.default_shots if shots is None else shots
        coerced = [SamplerPub.coerce(pub, shots) for pub in pubs]
        planned: list[tuple[SamplerPub, QcorePrograms]] = []
        ids = []
        for pub in coerced:
            if pub.circuit.num_clbits == 0:
                raise ValueError(f"circuit {pub.circuit.name!r} measures nothing: add "
                                 "measurements (measure_all) to sample it")
            rows = pub.parameter_values.as_array(pub.circuit.parameters).reshape(
                pub.parameter_values.size, pub.circuit.num_parameters)
            programs = to_programs(pub.circuit, rows)
            planned.append((pub, programs))
            ids.append(self.client.submit_job(
                list(programs.programs), shot_count=pub.shots,
                parameter_sets=programs.parameter_sets, qpu_id=self.qpu_id,
                name=pub.circuit.name or "sampler", seed=self.seed,
                priority=self.priority).job_id)

        def assemble(jobs: list[qs_pb2.Job]) -> PrimitiveResult:
            rng = np.random.default_rng(self.seed or None)
            return PrimitiveResult([_pub_result(pub, programs, job, rng)
                                    for (pub, programs), job in zip(planned, jobs)],
                                   metadata={"version": 2})

        return QcorePrimitiveJob(self.client, ids, assemble)


def _register_clbits(circuit: QuantumCircuit) -> dict[str, list[int]]:
    offset, registers = 0, {}
    for register in circuit.cregs:
        registers[register.name] = list(range(offset, offset + register.size))
        offset += register.size
    return registers


def _pub_result(pub: SamplerPub, programs: QcorePrograms, job: qs_pb2.Job,
                rng: np.random.Generator) -> SamplerPubResult:
    by_index = {(e.program_index, e.parameter_set_index): e for e in job.result.experiments}
    experiments = [by_index[programs.experiment_index(row)] for row in range(programs.row_count)]
    kept = min(sum(e.counts.values()) for e in experiments)
    total = pub.circuit.num_clbits
    shape = pub.shape
    data = {}
    for name, clbits in _register_clbits(pub.circuit).items():
        samples = np.stack([counts_to_samples(e.counts, clbits, total, kept, rng)
                            for e in experiments])
        data[name] = BitArray(samples.reshape(*shape, kept, samples.shape[-1]),
                              num_bits=len(clbits))
    return SamplerPubResult(DataBin(**data, shape=shape), metadata={
        "shots": pub.shots, "kept_shots": kept, "qcore_job_id": job.job_id,
        "truncation_error": max(e.truncation_error for e in experiments),
        "circuit_metadata": pub.circuit.metadata})
