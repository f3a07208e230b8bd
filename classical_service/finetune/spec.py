"""What a fine-tuning run is asked to do, validated before any compute (no torch needed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from classical_service.finetune.base_model import BASE_MODELS
from classical_service.finetune.data import DATASETS
from classical_service.inference.errors import InvalidTensorError
from classical_service.inference.store import check_model_name

__all__ = ["ADAPTER_OPTIONS", "COMMON_OPTIONS", "FineTuneSpec"]

#: adapter -> {option: (default, minimum, maximum)}
ADAPTER_OPTIONS: dict[str, dict[str, tuple[float, float, float]]] = {
    "qtha": {"qubits": (4, 1, 8), "layers": (1, 1, 8), "mpo_bond_dimension": (4, 1, 64),
             "mpo_cores": (3, 1, 6), "scale": (1.0, 1e-6, 1e3)},
    "lora": {"rank": (1, 1, 384), "alpha": (1.0, 1e-6, 1e4)},
    "head": {},
}
#: options of every adapter: dataset sizes (sentences; ``validation_size`` is carved from
#: ``train_size``, see :func:`~classical_service.finetune.data.load_dataset`) and the tokeniser's
#: ``max_length`` (tokens).
COMMON_OPTIONS: dict[str, tuple[float, float, float]] = {
    "train_size": (2000, 2, 20000), "test_size": (500, 2, 5000),
    "validation_size": (0, 0, 19998), "max_length": (48, 8, 512)}


@dataclass(frozen=True, slots=True)
class FineTuneSpec:
    """A validated fine-tuning request (mirrors ``qcore.v1.FineTuneRequest``).

    Zero/empty fields of the request take the defaults below; ``options`` holds the adapter's
    options (:data:`ADAPTER_OPTIONS`) and the common ones (:data:`COMMON_OPTIONS`).
    """

    base_model: str = "all-MiniLM-L6-v2"
    adapter: str = "qtha"
    dataset: str = "tweet-sentiment"
    steps: int = 40
    batch_size: int = 16
    learning_rate: float = 3e-3
    seed: int = 0
    output_model: str = ""
    qpu_id: str = "ion-ideal-24"
    shot_count: int = 0
    options: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.base_model not in BASE_MODELS:
            raise InvalidTensorError(f"unknown base_model {self.base_model!r}; available: "
                                     f"{sorted(BASE_MODELS)}", reason="UNKNOWN_BASE_MODEL")
        if self.adapter not in ADAPTER_OPTIONS:
            raise InvalidTensorError(f"adapter must be one of {sorted(ADAPTER_OPTIONS)}, got "
                                     f"{self.adapter!r}", reason="UNKNOWN_ADAPTER")
        if self.dataset not in DATASETS:
            raise InvalidTensorError(f"unknown dataset {self.dataset!r}; available: "
                                     f"{sorted(DATASETS)}", reason="UNKNOWN_DATASET")
        if not 1 <= self.steps <= 100_000:
            raise InvalidTensorError(f"steps must be in [1, 100000], got {self.steps}")
        if not 1 <= self.batch_size <= 1024:
            raise InvalidTensorError(f"batch_size must be in [1, 1024], got {self.batch_size}")
        if not 0 < self.learning_rate <= 10:
            raise InvalidTensorError(f"learning_rate must be in (0, 10], got "
                                     f"{self.learning_rate}")
        if self.shot_count < 0:
            raise InvalidTensorError(f"shot_count must be >= 0, got {self.shot_count}")
        if self.output_model:
            check_model_name(self.output_model)
        allowed = {**ADAPTER_OPTIONS[self.adapter], **COMMON_OPTIONS}
        for key, value in self.options.items():
            if key not in allowed:
                raise InvalidTensorError(f"unknown option {key!r} for adapter {self.adapter!r}; "
                                         f"known: {sorted(allowed)}", reason="UNKNOWN_OPTION")
            _, low, high = allowed[key]
            if not low <= value <= high:
                raise InvalidTensorError(f"option {key!r} must be in [{low}, {high}], got "
                                         f"{value}")

    def option(self, key: str) -> float:
        """The option's value, or its default."""
        allowed = {**ADAPTER_OPTIONS[self.adapter], **COMMON_OPTIONS}
        return float(self.options.get(key, allowed[key][0]))

    @property
    def adapter_options(self) -> dict[str, float]:
        return {k: self.option(k) for k in ADAPTER_OPTIONS[self.adapter]}

    @property
    def model_name(self) -> str:
        return self.output_model or f"{self.base_model}-{self.dataset}-{self.adapter}"
