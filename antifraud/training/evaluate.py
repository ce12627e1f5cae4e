"""Evaluation of a report model on the held-out test split, beside the TF-IDF baseline.

Everything here reads the test split (and data never used in training: the CMCC fraud
subtypes, UCI spam); nothing feeds back into the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    roc_auc_score,
)
from tqdm import tqdm

from tierwatch.antifraud.bundle import ReportModel
from tierwatch.antifraud.reputation import InMemoryReputation
from tierwatch.antifraud.training import datasets
from tierwatch.antifraud.training.baseline import Baseline
from tierwatch.antifraud.training.corpus import Split, build_corpus, split_corpus
from tierwatch.antifraud.training.datasets import Example
from tierwatch.antifraud.training.train import TECH_CLASSES, TYPE_CLASSES, Labels, TrainConfig, prepare_all

REAL_SMS = (datasets.CMCC, datasets.UCI)


@dataclass
class EvalContext:
    examples: list[Example]
    split: Split
    reputation: InMemoryReputation
    extra: dict[str, list[Example]] = field(default_factory=dict)

    def part(self, name: str) -> list[Example]:
        return [self.examples[i] for i in getattr(self.split, name)]


def load_context(data_dir: Path | None, synthetic: int, seed: int) -> EvalContext:
    examples = build_corpus(data_dir, synthetic, seed)
    extra = {}
    if data_dir is not None and datasets.available(data_dir):
        extra["cmcc_fraud_subtypes"] = [e for e in datasets.load_cmcc(data_dir, seed) if e.is_scam]
        extra["uci_spam"] = datasets.load_uci(data_dir, "spam")
    rep = InMemoryReputation.from_reports(e.report for e in examples)
    # The XGBoost kind keeps its exact-duplicate split, so its figures stay comparable with its
    # earlier ones; the linear kind (the served successor) splits by near-duplicate family.
    return EvalContext(examples, split_corpus(examples, seed, near_duplicates=False), rep, extra)


# --- metrics -------------------------------------------------------------------------------
def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    pred = p >= threshold
    pos, neg = y == 1, y == 0
    out: dict = {"n": int(len(y)), "n_positive": int(pos.sum()), "threshold": round(float(threshold), 6)}
    if pos.any() and neg.any():
        out["pr_auc"] = float(average_precision_score(y, p))
        out["roc_auc"] = float(roc_auc_score(y, p))
        out["brier"] = float(brier_score_loss(y, p))
        out["calibration"] = reliability(y, p)
    tp = int((pred & pos).sum())
    out["precision"] = tp / max(int(pred.sum()), 1) if pos.any() else None
    out["recall"] = tp / int(pos.sum()) if pos.any() else None
    out["false_positive_rate"] = int((pred & neg).sum()) / int(neg.sum()) if neg.any() else None
    return out


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    """Mean predicted vs observed rate per probability bin, and the expected calibration error."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            rows.append({"bin": b, "n": int(m.sum()), "mean_predicted": float(p[m].mean()), "observed": float(y[m].mean())})
            ece += m.mean() * abs(p[m].mean() - y[m].mean())
    return {"bins": rows, "ece": float(ece)}


def multiclass_metrics(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict:
    keep = y >= 0
    y, pred = y[keep], proba[keep].argmax(axis=1)
    if len(y) == 0:
        return {"n": 0}
    present = sorted(set(y.tolist()))
    f1 = f1_score(y, pred, labels=present, average=None, zero_division=0)
    return {
        "n": int(len(y)),
        "macro_f1": float(np.mean(f1)),
        "accuracy": float(np.mean(pred == y)),
        "per_class_f1": {classes[c]: float(v) for c, v in zip(present, f1)},
        "classes": [classes[c] for c in present],
        "confusion_matrix": confusion_matrix(y, pred, labels=present).tolist(),
    }


# --- the evaluation --------------------------------------------------------------------------
def evaluate_report(
    model: ReportModel,
    ctx: EvalContext,
    config: TrainConfig,
    *,
    generalisation: bool = True,
    progress: bool = True,
) -> tuple[dict, dict]:
    """The evaluation document and the raw curves its page plots."""
    steps = tqdm(total=5 if generalisation else 4, desc="evaluating", disable=not progress)
    test, p_test = prepare_all(ctx.part("test"))
    y = Labels.of(test)
    X = model.featurizer.transform(p_test, ctx.reputation)
    scam = model.heads["scam"]
    p = scam.proba(X)
    threshold = scam.thresholds["operating"]
    texts = [e.report["text"] for e in test]
    steps.update()

    baseline = _fit_baseline(ctx, config)
    pb = baseline.predict_scam(texts)
    steps.update()

    source = np.array([e.source for e in test])
    models = {"xgboost": (p, threshold), "baseline": (pb, baseline.threshold)}
    doc: dict = {"data": _data_summary(ctx), "thresholds": {h: model.heads[h].thresholds for h in model.heads}}
    doc["scam"] = {name: _by_source(y.scam, pp, t, source) for name, (pp, t) in models.items()}
    doc["false_positive_rate"] = {name: _fpr_real_sms(test, y.scam, pp, t) for name, (pp, t) in models.items()}
    typed = y.scam_type >= 0
    tel = source == datasets.TELECOM
    proba_type = model.heads["scam_type"].proba(X)
    proba_type_b = baseline.predict_type(texts, len(TYPE_CLASSES))
    doc["scam_type"] = {
        name: {
            "telecom_fraud_texts_5": multiclass_metrics(np.where(tel, y.scam_type, -1), pt, TYPE_CLASSES),
            "all_test": multiclass_metrics(y.scam_type, pt, TYPE_CLASSES),
        }
        for name, pt in (("xgboost", proba_type), ("baseline", proba_type_b))
    }
    doc["ai_technique"] = {"xgboost": multiclass_metrics(y.ai_technique, model.heads["ai_technique"].proba(X), TECH_CLASSES)}
    steps.update()

    from tierwatch.antifraud.training.generalise import leave_one_type_out, length_checks, unseen_sets

    doc["length"] = length_checks(model, ctx, test, y.scam, {"xgboost": models["xgboost"], "baseline": models["baseline"]}, baseline)
    doc["generalisation"] = {"unseen_sets": unseen_sets(model, ctx, baseline)}
    steps.update()
    if generalisation:
        doc["generalisation"]["leave_one_type_out"] = leave_one_type_out(ctx, config, progress)
        steps.update()
    steps.close()
    doc["targets"] = _targets(doc)
    curves = {
        "telecom": {"y": y.scam[tel], "xgboost": p[tel], "baseline": pb[tel]},
        "all": {"y": y.scam, "xgboost": p, "baseline": pb},
        "length": {"length": np.array([len(t) for t in texts]), "y": y.scam, "xgboost": p, "threshold": threshold},
    }
    return doc, curves


def _fit_baseline(ctx: EvalContext, config: TrainConfig) -> Baseline:
    train, valid = ctx.part("train"), ctx.part("valid")
    yt = Labels.of(train)
    return Baseline(config.seed).fit(
        [e.report["text"] for e in train],
        yt.scam,
        yt.scam_type,
        [e.report["text"] for e in valid],
        Labels.of(valid).scam,
        config.max_fpr,
    )


def _by_source(y: np.ndarray, p: np.ndarray, t: float, source: np.ndarray) -> dict:
    out = {"all_test": binary_metrics(y, p, t)}
    for s in sorted(set(source.tolist())):
        m = source == s
        out[s] = binary_metrics(y[m], p[m], t)
    return out


def _fpr_real_sms(test: list[Example], y: np.ndarray, p: np.ndarray, t: float) -> dict:
    """False positives on real advertising and ordinary SMS (CMCC ads + ham, UCI ham)."""
    out: dict[str, dict] = {}
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(test):
        if e.source in REAL_SMS and y[i] == 0:
            groups.setdefault(f"{e.source}:{e.subset}", []).append(i)
    flagged = total = 0
    for name, idx in sorted(groups.items()):
        f = int((p[idx] >= t).sum())
        out[name] = {"n": len(idx), "flagged": f, "rate": f / len(idx)}
        flagged, total = flagged + f, total + len(idx)
    out["combined"] = {"n": total, "flagged": flagged, "rate": flagged / total if total else None}
    return out


def _data_summary(ctx: EvalContext) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for name in ("train", "valid", "test"):
        for e in ctx.part(name):
            counts.setdefault(e.source, {}).setdefault(name, 0)
            counts[e.source][name] += 1
    return {"by_source": counts, "n_train": len(ctx.split.train), "n_valid": len(ctx.split.valid), "n_test": len(ctx.split.test)}


def _targets(doc: dict) -> dict:
    tel = doc["scam"]["xgboost"].get(datasets.TELECOM, {})
    fpr = doc["false_positive_rate"]["xgboost"].get("combined", {}).get("rate")
    return {
        "telecom_pr_auc_ge_0_97": {"value": tel.get("pr_auc"), "met": bool(tel.get("pr_auc") and tel["pr_auc"] >= 0.97)},
        "real_sms_fpr_le_0_02": {"value": fpr, "met": bool(fpr is not None and fpr <= 0.02)},
    }


def summary(doc: dict) -> dict:
    """Flat numbers for the model store's listing and `model compare`."""
    out = {}
    for name in ("xgboost", "baseline"):
        tel = doc["scam"][name].get(datasets.TELECOM, {})
        out[f"{name}.telecom_pr_auc"] = tel.get("pr_auc")
        out[f"{name}.all_pr_auc"] = doc["scam"][name]["all_test"].get("pr_auc")
        out[f"{name}.real_sms_fpr"] = doc["false_positive_rate"][name].get("combined", {}).get("rate")
        out[f"{name}.telecom_type_macro_f1"] = doc["scam_type"][name]["telecom_fraud_texts_5"].get("macro_f1")
    out["xgboost.ai_technique_macro_f1"] = doc["ai_technique"]["xgboost"].get("macro_f1")
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}
