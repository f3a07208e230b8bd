"""The VQC layer evaluated on the quantum service: one session for every readout observable.

:class:`SessionVqcExecutor` opens one quantum-service session measuring all ``q`` observables
``⟨Z_0⟩ … ⟨Z_{q-1}⟩`` together (``SessionStart.observables``) for the circuit of a
:class:`~classical_service.inference.vqc.VqcSpec`. They share one measurement setting (every
qubit read in the Z basis), so each circuit runs once for all of them: each
:meth:`~SessionVqcExecutor.evaluate` sends the whole batch of parameter sets (inputs and weights
side by side) as ONE ``SessionEvaluate`` and gets ``(B, q)`` values back.

With ``gradient=True`` the service returns parameter-shift gradients (Mitarai et al., PRA 98,
032309 (2018); Schuld et al., PRA 99, 032331 (2019)) of every ``⟨Z_k⟩`` with respect to all
circuit parameters; they are split into the Jacobians with respect to the inputs and the
weights. The classical service talks to the quantum service only through ``qcore.v1``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc
import numpy as np
from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2

from classical_service.hybrid import QuantumServiceError, SessionObjective
from classical_service.inference.errors import InvalidTensorError
from classical_service.inference.vqc import VqcSpec

__all__ = ["SessionVqcExecutor", "VqcExecutor", "VqcResult", "vqc_vjp"]


@dataclass(frozen=True, slots=True)
class VqcResult:
    """One batch through the VQC.

    Attributes:
        values: ``⟨Z_k⟩`` per row, float64 ``(B, q)``, each in ``[-1, 1]``.
        jac_inputs: ``∂⟨Z_k⟩/∂x_i``, float64 ``(B, q, q)`` (``[b, k, i]``), or None.
        jac_weights: ``∂⟨Z_k⟩/∂w_j``, float64 ``(B, q, W)``, or None.
        task_count: circuits the quantum service executed for this batch (each shifted
            circuit of a gradient counts).
        device_time_s: device time the batch used, seconds.
    """

    values: np.ndarray
    jac_inputs: np.ndarray | None
    jac_weights: np.ndarray | None
    task_count: int
    device_time_s: float


class VqcExecutor(Protocol):
    """Anything that evaluates a VQC batch (the quantum service, or a test reference)."""

    spec: VqcSpec

    def evaluate(self, inputs: np.ndarray, weights: np.ndarray, *,
                 gradient: bool = False) -> VqcResult: ...


def vqc_vjp(result: VqcResult, grad_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Back-propagates ``∂L/∂⟨Z⟩`` (``(B, q)``) through a VQC batch evaluated with gradients.

    Returns:
        ``(∂L/∂x`` of shape ``(B, q)``, ``∂L/∂w`` of shape ``(W,)`` summed over the batch``)``.
    Raises:
        ValueError: the batch was evaluated without ``gradient=True``.
    """
    if result.jac_inputs is None or result.jac_weights is None:
        raise ValueError("the VQC batch was evaluated without gradients")
    grad_x = np.einsum("bk,bki->bi", grad_values, result.jac_inputs)
    grad_w = np.einsum("bk,bkj->j", grad_values, result.jac_weights)
    return grad_x, grad_w


class SessionVqcExecutor:
    """Evaluates a VQC on a QPU of the quantum service through one open session that measures
    its ``q`` observables together.

    Args:
        channel: a synchronous gRPC channel to the quantum service.
        spec: the circuit.
        qpu_id: target QPU; empty lets the quantum service choose.
        shot_count: 0 for exact expectation values, else shots per circuit.
        seed: seed of shot sampling (0: the service's default).
        metadata: call metadata forwarded to the quantum service (the caller's identity).
    Raises:
        QuantumServiceError: (from :meth:`open` / :meth:`evaluate`) the service refused.
    """

    def __init__(self, channel: grpc.Channel, spec: VqcSpec, *, qpu_id: str = "",
                 shot_count: int = 0, seed: int = 0,
                 metadata: Sequence[tuple[str, str]] = ()) -> None:
        if shot_count < 0:
            raise InvalidTensorError(f"shot_count must be >= 0, got {shot_count}")
        self.spec = spec
        circuit = spec.circuit()
        self._session = SessionObjective(channel, qs_pb2.SessionStart(
            qpu_id=qpu_id, program=common_pb2.Program(circuit=circuit),
            observables=spec.observables(), shot_count=shot_count,
            gradient_method=qs_pb2.GRADIENT_METHOD_PARAMETER_SHIFT, seed=seed),
            metadata=metadata)
        self._lock = threading.Lock()
        self._columns: np.ndarray | None = None
        self.qpu_id = qpu_id
        self.task_count = 0
        self.device_time_s = 0.0
        self.opened = False

    def open(self) -> None:
        """Opens the session (the service compiles the circuit once)."""
        ready = self._session.open()
        names = list(ready.parameters)
        expected = self.spec.parameter_names
        if sorted(names) != sorted(expected):
            raise RuntimeError(f"quantum service reports parameters {names}, expected {expected}")
        # column c of a parameter set holds the service's parameter names[c]
        self._columns = np.array([expected.index(n) for n in names])
        self.qpu_id = ready.qpu_id
        self.opened = True

    def evaluate(self, inputs: np.ndarray, weights: np.ndarray, *,
                 gradient: bool = False) -> VqcResult:
        """Evaluates every row of ``inputs`` (``(B, q)``) with ``weights`` (``(W,)``): one
        ``SessionEvaluate`` with all ``B`` parameter sets, returning every ``⟨Z_k⟩``.
        """
        q, nw = self.spec.qubits, self.spec.weight_count
        x = np.asarray(inputs, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != q or w.shape != (nw,):
            raise ValueError(f"inputs must be (B, {q}) and weights ({nw},); got {x.shape} and "
                             f"{w.shape}")
        if not self.opened:
            self.open()
        assert self._columns is not None
        ours = np.concatenate([x, np.broadcast_to(w, (x.shape[0], nw))], axis=1)
        sets = np.ascontiguousarray(ours[:, self._columns])
        session = self._session
        with self._lock:
            before, device_before = session.evaluation_count, session.device_time_s
            values, grads = session(sets, gradient=gradient)  # (B, q), (B, q, q + W)
            values = np.array(values)  # a writable copy of the reply buffer
            tasks = session.evaluation_count - before
            device = session.device_time_s - device_before
        jac_x = jac_w = None
        if grads is not None:
            jac = grads[:, :, np.argsort(self._columns)]  # columns in spec order
            jac_x, jac_w = jac[:, :, :q], jac[:, :, q:]
        self.task_count += tasks
        self.device_time_s += device
        return VqcResult(values, jac_x, jac_w, tasks, device)

    def close(self, *, drain: bool = True) -> None:
        """Closes the session (the service releases its QPU lease).

        ``drain=True`` half-closes the stream and waits for the service to end it;
        ``drain=False`` cancels the stream at once (for shutdown: never blocks).
        """
        try:
            if drain:
                self._session.close()
            else:
                self._session.cancel()
        except (grpc.RpcError, QuantumServiceError):
            pass
        self.opened = False

    def __enter__(self) -> SessionVqcExecutor:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
