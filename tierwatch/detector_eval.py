"""Train, store and evaluate the linear report detector on the served path.

Here, above the domains, because the evaluation needs both halves: the detector's training
(antifraud.training) and the intake's own scoring path (monitoring.served_eval). Every figure is
measured on test texts wrapped as report bodies and scored the way the worker scores them, with
the model loaded from the store as the worker loads it; the TF-IDF + LR baseline goes through
the same path on the same reports.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tierwatch.antifraud.features import Prepared, prepare
from tierwatch.antifraud.linear_model import KIND as LINEAR
from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.results import Rejected, Score
from tierwatch.antifraud.scoring import Detector
from tierwatch.antifraud.training import datasets, served_metrics as sm
from tierwatch.antifraud.training.baseline import Baseline
from tierwatch.antifraud.training.corpus import Split, build_corpus, fingerprint, split_corpus
from tierwatch.antifraud.training.datasets import Example
from tierwatch.antifraud.training.linear_page import write_linear_evaluation
from tierwatch.antifraud.training.linear_train import (
    LinearConfig, cap_groups, known_types, labels, served_texts, threshold_under_caps, train_linear,
)
from tierwatch.antifraud.training.report_bodies import CHANNEL_WEIGHTS, REPORTER_WEIGHTS, wrap_all
from tierwatch.monitoring.served_eval import score_served

EVAL_SEED_OFFSET = 2  # test reports are wrapped with seed + 2 (training: seed, validation: seed + 1)


@dataclass(frozen=True)
class LinearOutcome:
    version: str
    evaluation: dict
    page: Path
    activated: bool


def load_corpus(data_dir: Path | None, seed: int) -> tuple[list[Example], Split]:
    examples = build_corpus(data_dir, 0, seed, real_ham=True)
    return examples, split_corpus(examples, seed)


def train_linear_version(models_dir: Path, data_dir: Path, seed: int = 0, *, activate: bool = False,
                         flip_sample: int = 1500, generalisation: bool = False,
                         log: Callable[[str], None] | None = None) -> LinearOutcome:
    """Train on ``data_dir``, store the model (kind "linear"), evaluate it on the served path
    beside the baseline, write its evaluation page; activate if asked (or if none is active)."""
    config = LinearConfig(seed=seed)
    examples, split = load_corpus(data_dir, seed)
    model = train_linear(examples, split, config, log)
    store = ModelStore(models_dir)
    meta = {
        "data_fingerprint": fingerprint(examples, repr(config.to_json())),
        "corpus": {"data_dir": str(data_dir), "seed": seed, "real_ham": True, "synthetic": 0},
        "params": config.to_json(),
        "thresholds": {"scam": {"operating": model.threshold}, "type_min": model.type_min},
        "info": model.info,
    }
    version = store.save("report", model.artefacts(), meta, kind=LINEAR)
    doc, page = evaluate_stored(models_dir, version, data_dir, flip_sample=flip_sample, examples_split=(examples, split),
                                generalisation=generalisation)
    activated = activate or store.active("report") is None
    if activated:
        store.activate(version)
    return LinearOutcome(version, doc, page, activated)


def evaluate_stored(models_dir: Path, version: str, data_dir: Path | None = None, *, flip_sample: int = 1500,
                    examples_split: tuple[list[Example], Split] | None = None, generalisation: bool = False) -> tuple[dict, Path]:
    store = ModelStore(models_dir)
    meta = store.meta(version)
    if store.kind(version) != LINEAR:
        raise ValueError(f"{version} is not a linear report model")
    seed = int(meta["corpus"]["seed"])
    examples, split = examples_split or load_corpus(data_dir or Path(meta["corpus"]["data_dir"]), seed)
    detector = Detector.load(models_dir, version)  # as the worker loads it
    doc = evaluate(detector, examples, split, seed, flip_sample=flip_sample,
                   external_dir=data_dir or Path(meta["corpus"]["data_dir"]), generalisation=generalisation)
    doc["version"] = version
    doc["same_data_as_training"] = fingerprint(examples, repr(meta["params"])) == meta["data_fingerprint"]
    page = write_linear_evaluation(store.folder(version), doc)
    store.set_summary(version, summary(doc))
    return doc, page


def evaluate(detector: Any, examples: list[Example], split: Split, seed: int, *, flip_sample: int = 1500,
             external_dir: Path | None = None, generalisation: bool = False) -> dict:
    test = [examples[i] for i in split.test]
    bodies = wrap_all([e.report["text"] for e in test], seed + EVAL_SEED_OFFSET)
    baseline = fit_baseline(examples, split, seed)
    y = np.array([e.is_scam for e in test], dtype=np.int64)
    types = known_types([examples[i] for i in split.train])
    models = {"linear": detector, "baseline": baseline}
    doc: dict[str, Any] = {"served_path": {}, "fpr_by_kind": {}, "reliability": {}, "scam_type": {}, "flips": {}, "external": {}}
    for name, model in models.items():
        recorder = TypeArgmax(model)
        scores = _scores(score_served(recorder, bodies))
        p, flags = scores["p"], scores["flags"]
        doc["served_path"][name] = sm.binary(y, p, flags)
        doc["served_path"][name]["threshold"] = float(model.threshold if name == "baseline" else model.report_model.threshold)
        hard = np.array([e.source in (datasets.CN_HAM, datasets.MUDOU) or e.is_scam for e in test], dtype=bool)
        doc["served_path"][name]["pr_auc_scams_vs_real_sms"] = sm.pr_auc(y[hard], p[hard])
        doc["fpr_by_kind"][name] = sm.fpr_by_kind(test, flags)
        doc["reliability"][name] = sm.reliability(y.astype(float), p)
        typed = [i for i, e in enumerate(test) if e.is_scam and e.scam_type in types]
        doc["scam_type"][name] = sm.type_f1([test[i].scam_type for i in typed], [scores["types"][i] for i in typed], types)
        # threshold-free: the most probable known type, whether or not the served type is "other"
        doc["scam_type"][name]["macro_f1_argmax"] = sm.type_f1([test[i].scam_type for i in typed],
                                                               [recorder.argmax[i] for i in typed], types)["macro_f1"]
        doc["flips"][name] = flips(model, test, seed, flip_sample)
        if external_dir is not None and datasets.available(external_dir):
            doc["external"][name] = external(model, external_dir, seed)
    if generalisation:
        doc["leave_one_type_out"] = leave_one_type_out(examples, split, seed)
    doc["configuration"] = {**getattr(detector.report_model, "info", {}), "threshold": detector.report_model.threshold,
                            "type_min": detector.report_model.type_min}
    doc["data"] = {"test_reports": len(test), "test_scams": int(y.sum()), "types": types,
                   "by_source": {s: sum(1 for e in test if e.source == s) for s in sorted({e.source for e in test})}}
    return doc


class TypeArgmax:
    """A detector seen through the served path that also notes, report by report, its most
    probable known type (the served type may be "other"); scores pass through unchanged."""

    def __init__(self, detector: Any):
        self.detector, self.argmax = detector, []
        self.version = getattr(detector, "version", "")

    def score_batch(self, reports: list[dict], reputation: Any = None, **kw: Any) -> list:
        out = self.detector.score_batch(reports, reputation, **kw)
        model = getattr(self.detector, "report_model", None)
        if model is None:  # the baseline: its served type is the argmax
            self.argmax += [r.scam_type if isinstance(r, Score) else None for r in out]
            return out
        texts = [p.text if isinstance(p, Prepared) else "" for p in map(prepare, reports)]
        best = model.type_proba(model.features(texts)).argmax(axis=1)
        self.argmax += [model.type_classes[k] if isinstance(r, Score) else None for k, r in zip(best.tolist(), out)]
        return out


def leave_one_type_out(examples: list[Example], split: Split, seed: int, log: Callable[[str], None] | None = None,
                       types: list[str] | None = None) -> dict:
    """Per known type: both models retrained with the type removed from training and validation,
    then its test scams scored on the served path against the test's real legitimate SMS:
    recall at the operating threshold, ROC-AUC against those hard negatives, share named other."""
    test = [examples[i] for i in split.test]
    hard = [e for e in test if e.source in (datasets.CN_HAM, datasets.MUDOU)]
    out: dict[str, Any] = {"linear": {}, "baseline": {}}
    for held in types or known_types([examples[i] for i in split.train]):
        kept = Split(*(np.array([i for i in part if examples[i].scam_type != held], dtype=np.int64) for part in (split.train, split.valid)),
                     split.test)
        scams = [e for e in test if e.is_scam and e.scam_type == held]
        rows = scams + hard
        bodies = wrap_all([e.report["text"] for e in rows], seed + EVAL_SEED_OFFSET)
        y = np.array([1] * len(scams) + [0] * len(hard))
        models = {"linear": Detector(train_linear(examples, kept, LinearConfig(seed=seed)), f"loto-{held}"),
                  "baseline": fit_baseline(examples, kept, seed)}
        for name, model in models.items():
            sc = _scores(score_served(model, bodies))
            out[name][held] = {"n": len(scams), "recall": float(sc["flags"][: len(scams)].mean()),
                               "roc_auc_vs_real_sms": sm.roc_auc(y, sc["p"]), "pr_auc_vs_real_sms": sm.pr_auc(y, sc["p"]),
                               "named_other": float(np.mean([t == sm.OTHER for t in sc["types"][: len(scams)]]))}
        if log:
            log(f"leave out {held}: linear {out['linear'][held]}, baseline {out['baseline'][held]}")
    return out


def _scores(results: list[Score | None]) -> dict[str, Any]:
    # a rejected report (None) counts as not flagged, probability 0: what the worker stores
    return {
        "p": np.array([r.scam_probability if r else 0.0 for r in results]),
        "flags": np.array([bool(r and r.is_scam) for r in results], dtype=bool),
        "types": [r.scam_type if r else None for r in results],
    }


def flips(model: Any, test: list[Example], seed: int, sample: int) -> dict:
    """Decision flips when only the channel, or only the reporter type, changes."""
    rng = random.Random(seed)  # nosec B311 # reproducible sampling; not security
    scams = [e for e in test if e.is_scam]
    legit = [e for e in test if not e.is_scam]
    rows = rng.sample(scams, min(sample, len(scams))) + rng.sample(legit, min(sample, len(legit)))
    texts = [e.report["text"] for e in rows]
    out = {}
    for field, values in (("channel", CHANNEL_WEIGHTS), ("reporter_type", REPORTER_WEIGHTS)):
        sets = [_scores(score_served(model, wrap_all(texts, seed + 3, **{field: v})))["flags"] for v in values]
        out[field] = sm.flip_rate(sets)
    return out


def external(model: Any, data_dir: Path, seed: int) -> dict:
    """Flag rate on real CMCC fraud SMS, never trained on, per subtype."""
    fraud = [e for e in datasets.load_cmcc(data_dir, seed) if e.is_scam]
    flags = _scores(score_served(model, wrap_all([e.report["text"] for e in fraud], seed + 4)))["flags"]
    return {sub: sm.rate(flags[np.array([e.subset == sub for e in fraud])]) for sub in sorted({e.subset for e in fraud})}


# --- the baseline, behind the Detector interface -------------------------------------------------
class BaselineDetector:
    """TF-IDF + LR on the same served training texts, its threshold chosen under the same caps;
    ``score_batch`` as the Detector's, so it is scored through the same served path."""

    version = "baseline-tfidf-lr"

    def __init__(self, baseline: Baseline, types: list[str], threshold: float):
        self.baseline, self.types, self.threshold = baseline, types, threshold

    def score_batch(self, reports: list[dict], reputation: Any = None, *, explain: bool = True, top_k: int = 5) -> list:
        items = [prepare(r) for r in reports]
        ok = [i for i, p in enumerate(items) if isinstance(p, Prepared)]
        out: list[Any] = [Rejected(str(p)) if not isinstance(p, Prepared) else None for p in items]
        if not ok:
            return out
        texts = [items[i].text for i in ok]  # type: ignore[union-attr]
        p = self.baseline.predict_scam(texts)
        pt = self.baseline.predict_type(texts, len(self.types))
        for row, i in enumerate(ok):
            k = int(pt[row].argmax())
            out[i] = Score(float(p[row]), bool(p[row] >= self.threshold), self.types[k], float(pt[row, k]), None, [], self.version)
        return out


def fit_baseline(examples: list[Example], split: Split, seed: int) -> BaselineDetector:
    train = [examples[i] for i in split.train]
    valid = [examples[i] for i in split.valid]
    types = known_types(train)
    y, yt = labels(train, types)
    vtexts = served_texts(valid, seed + 1, "eval")
    vy, _ = labels(valid, types)
    base = Baseline(seed).fit(served_texts(train, seed, "train"), y, yt, vtexts, vy, 0.01)
    vp = base.predict_scam(vtexts)
    threshold = threshold_under_caps(vp, cap_groups(valid, vp, LinearConfig().caps))
    return BaselineDetector(base, types, threshold)


def summary(doc: dict) -> dict:
    s, f, r = doc["served_path"]["linear"], doc["fpr_by_kind"]["linear"], doc["reliability"]["linear"]
    return {
        "served_pr_auc": _round(s["pr_auc"]), "served_recall": _round(s["recall"]),
        "fpr_real_legitimate_sms": _round(f.get("real_legitimate_sms", {}).get("rate")),
        "fpr_lookalikes": _round(f.get("lookalike:any", {}).get("rate")),
        "channel_flip_rate": _round(doc["flips"]["linear"]["channel"]["rate"]),
        "ece": _round(r["ece"]), "baseline_served_pr_auc": _round(doc["served_path"]["baseline"]["pr_auc"]),
    }


def _round(v: float | None) -> float | None:
    return None if v is None else round(float(v), 4)
