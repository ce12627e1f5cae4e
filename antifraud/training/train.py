"""Train the report detector: feature selection, three XGBoost heads, calibration, thresholds.

Heads: ``scam`` (scam or not, every report), ``scam_type`` (the taxonomy, scam reports only),
``ai_technique`` (reports whose technique is labelled: the synthetic ones; the real datasets
say nothing about AI). Validation data drive early stopping, calibration and thresholds; the
test split is never looked at here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

from tierwatch.antifraud.bundle import ReportModel
from tierwatch.antifraud.features import Featurizer, Prepared, bucket_names, prepare
from tierwatch.antifraud.heads import Head
from tierwatch.antifraud.reputation import InMemoryReputation
from tierwatch.antifraud.text import N_BUCKETS, HashedBatch, hash_batch, unique, unique_inverse
from tierwatch.antifraud.training.corpus import Split, augment_lengths
from tierwatch.antifraud.training.datasets import Example
from tierwatch.antifraud.training.fitting import (
    fit_booster,
    isotonic,
    temperature,
    threshold_for_f1,
    threshold_for_fpr,
    threshold_for_precision,
    trim_to_best,
)
from tierwatch.antifraud.vocab import AI_TECHNIQUES, SCAM_TYPES

BINARY_CLASSES = ["not_scam", "scam"]
TYPE_CLASSES = list(SCAM_TYPES)
TECH_CLASSES = list(AI_TECHNIQUES)


@dataclass
class TrainConfig:
    seed: int = 0
    text_features: dict = field(default_factory=lambda: {"scam": 1200, "scam_type": 500, "ai_technique": 300})
    min_df: int = 3
    scam_params: dict = field(
        default_factory=lambda: {
            "n_estimators": 150, "max_depth": 6, "eta": 0.2, "subsample": 0.8,
            "colsample_bytree": 0.5, "min_child_weight": 1, "max_bin": 64,
        }
    )
    # one vector-leaf tree per round for all classes: ~10x faster to predict than a tree per
    # class, and as accurate here (see README)
    multi_params: dict = field(
        default_factory=lambda: {
            "n_estimators": 80, "max_depth": 6, "eta": 0.25, "subsample": 0.8,
            "colsample_bytree": 0.5, "max_bin": 64, "multi_strategy": "multi_output_tree",
        }
    )
    nthread: int = 2
    max_fpr: float = 0.01  # operating point: at most 1% false positives on validation
    alert_precision: float = 0.99
    augment: bool = True
    timezone: str = "Asia/Shanghai"

    def params(self, head: str) -> dict:
        base = self.scam_params if head == "scam" else self.multi_params
        return {**base, "tree_method": "hist", "nthread": self.nthread, "seed": self.seed}

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Labels:
    """Label arrays aligned with a list of examples (-1 where a head has no label)."""

    scam: np.ndarray
    scam_type: np.ndarray
    ai_technique: np.ndarray

    @classmethod
    def of(cls, examples: list[Example]) -> "Labels":
        return cls(
            np.array([e.is_scam for e in examples], dtype=np.int64),
            np.array([TYPE_CLASSES.index(e.scam_type) if e.is_scam and e.scam_type else -1 for e in examples]),
            np.array([TECH_CLASSES.index(e.ai_technique) if e.ai_technique else -1 for e in examples]),
        )

    def head(self, name: str) -> np.ndarray:
        return getattr(self, name)


def prepare_all(examples: list[Example]) -> tuple[list[Example], list[Prepared]]:
    """Keep the examples the scorer would accept (it rejects empty texts)."""
    kept, prepared = [], []
    for e in examples:
        p = prepare(e.report)
        if isinstance(p, Prepared):
            kept.append(e)
            prepared.append(p)
    return kept, prepared


ALL_HEADS = ("scam", "scam_type", "ai_technique")


def train_report_model(
    examples: list[Example],
    split: Split,
    config: TrainConfig,
    progress: bool = True,
    heads: tuple[str, ...] = ALL_HEADS,
) -> ReportModel:
    train = [examples[i] for i in split.train]
    if config.augment:
        train = train + augment_lengths(train, config.seed)
    valid = [examples[i] for i in split.valid]
    train, p_train = prepare_all(train)
    valid, p_valid = prepare_all(valid)
    reputation = InMemoryReputation.from_reports(e.report for e in examples)

    y_train, y_valid = Labels.of(train), Labels.of(valid)
    featurizer = fit_featurizer(p_train, y_train, config)
    if progress:
        tqdm.write(f"features: {featurizer.n_text} n-grams + {len(featurizer.feature_names) - featurizer.n_text} others")
    X_train = featurizer.transform(p_train, reputation)
    X_valid = featurizer.transform(p_valid, reputation)

    classes = {"scam": BINARY_CLASSES, "scam_type": TYPE_CLASSES, "ai_technique": TECH_CLASSES}
    fitted: dict[str, Head] = {}
    for name in tqdm(heads, desc="training heads", disable=not progress):
        fitted[name] = fit_head(name, classes[name], X_train, y_train.head(name), X_valid, y_valid.head(name), config)
    model = ReportModel(featurizer, fitted)
    model.reference = drift_reference(model, X_valid, featurizer.all_dense(p_valid, reputation))
    return model


def fit_head(
    name: str,
    classes: list[str],
    X_train: sp.csr_matrix,
    y_train: np.ndarray,
    X_valid: sp.csr_matrix,
    y_valid: np.ndarray,
    config: TrainConfig,
) -> Head:
    tr, va = y_train >= 0, y_valid >= 0
    booster = fit_booster(
        X_train[tr], y_train[tr], len(classes), config.params(name), valid=(X_valid[va], y_valid[va])
    )
    head = Head(name, trim_to_best(booster), classes)
    margin = head.margins(X_valid[va])
    if head.binary:
        head.calibration = isotonic(margin, y_valid[va])
        p = head.calibrate(margin)
        head.thresholds = {
            "operating": threshold_for_fpr(p, y_valid[va], config.max_fpr),
            "alert": max(threshold_for_precision(p, y_valid[va], config.alert_precision), 0.5),
        }
    else:
        head.calibration = temperature(margin, y_valid[va])
        if name == "ai_technique":
            # "some AI technique" vs "none": the threshold on 1 - P(none) with the best F1
            p_ai = 1.0 - head.calibrate(margin)[:, classes.index("none")]
            head.thresholds = {"any_ai": threshold_for_f1(p_ai, (y_valid[va] != classes.index("none")).astype(int))}
    return head


def fit_featurizer(prepared: list[Prepared], labels: Labels, config: TrainConfig) -> Featurizer:
    batch = hash_batch([p.text for p in prepared])
    buckets = select_buckets(
        batch,
        [(labels.head(h), k) for h, k in config.text_features.items()],
        config.min_df,
    )
    return Featurizer(buckets.tolist(), bucket_names(batch, buckets), config.timezone)


def select_buckets(batch: HashedBatch, targets: list[tuple[np.ndarray, int]], min_df: int) -> np.ndarray:
    """Union of the top-k buckets by chi-squared (one class vs rest, best class) per target,
    plus the top k/5 word n-grams."""
    pairs = unique(batch.doc * N_BUCKETS + batch.bucket)
    doc, bucket = pairs // N_BUCKETS, pairs % N_BUCKETS
    word_bucket = np.zeros(N_BUCKETS, dtype=bool)
    word_bucket[batch.bucket[batch.is_word]] = True
    chosen: list[np.ndarray] = []
    for y, k in targets:
        keep = y[doc] >= 0
        uniq, inv = unique_inverse(bucket[keep])
        cls = y[doc[keep]]
        n_cls = int(y.max()) + 1
        if n_cls < 2 or len(uniq) == 0:
            continue
        df_c = np.bincount(inv * n_cls + cls, minlength=len(uniq) * n_cls).reshape(len(uniq), n_cls)
        df = df_c.sum(axis=1)
        n = float((y >= 0).sum())
        n_c = np.bincount(y[y >= 0], minlength=n_cls).astype(float)
        a = df_c.astype(float)
        b = df[:, None] - a
        c = n_c[None, :] - a
        d = (n - n_c)[None, :] - b
        denom = np.maximum((a + b) * (c + d) * (a + c) * (b + d), 1.0)
        chi = (n * (a * d - b * c) ** 2 / denom).max(axis=1)
        chi[df < min_df] = 0.0
        order = np.argsort(-chi, kind="stable")
        # Chinese n-grams outnumber English words in every corpus we have; a fifth of the
        # slots are kept for words so English reports get a vocabulary of their own
        words = order[word_bucket[uniq[order]]][: k // 5]
        for top in (order[:k], words):
            chosen.append(uniq[top[chi[top] > 0]])
    if not chosen:
        return np.zeros(0, dtype=np.int64)
    return unique(np.concatenate(chosen))


def drift_reference(model: ReportModel, X_valid: sp.csr_matrix, dense_valid: np.ndarray) -> dict:
    """Bin edges and proportions of validation scores and key dense features (for PSI)."""
    from tierwatch.antifraud.drift import DRIFT_FEATURES, reference_distribution
    from tierwatch.antifraud.features import DENSE

    out = {"scam_probability": reference_distribution(model.heads["scam"].proba(X_valid))}
    for name in DRIFT_FEATURES:
        out[name] = reference_distribution(dense_valid[:, DENSE.index(name)])
    return out
