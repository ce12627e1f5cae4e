"""Checks that the detector learned scams, not text length or one dataset's phrasing.

- length: scores within length bins, against benign texts matched in length to each scam, and on
  scams cut down to the length of a typical benign SMS; plus how far length alone gets.
- unseen sets: real CMCC fraud SMS (loan fraud, bank-impersonation transfer fraud) and UCI spam,
  none of which the model trained on.
- leave one type out: retrain without one telecom scam type (real and synthetic examples of
  it), then see whether that type is still caught.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from tqdm import tqdm

from tierwatch.antifraud.bundle import ReportModel
from tierwatch.antifraud.training import datasets
from tierwatch.antifraud.training.baseline import Baseline
from tierwatch.antifraud.training.corpus import Split
from tierwatch.antifraud.training.datasets import Example
from tierwatch.antifraud.training.train import TrainConfig, prepare_all, train_report_model

REAL_SOURCES = (datasets.TELECOM, datasets.CMCC, datasets.UCI)


def _score(model: ReportModel, ctx, examples: list[Example]) -> np.ndarray:
    kept, prepared = prepare_all(examples)
    return model.heads["scam"].proba(model.featurizer.transform(prepared, ctx.reputation))


def length_checks(model: ReportModel, ctx, test: list[Example], y: np.ndarray, models: dict, baseline: Baseline) -> dict:
    texts = [e.report["text"] for e in test]
    length = np.array([len(t) for t in texts])
    tel = np.array([e.source == datasets.TELECOM for e in test])
    real = np.array([e.source in REAL_SOURCES for e in test])
    out: dict = {"reference_set": datasets.TELECOM if tel.any() else "all test (no real data)"}
    if not tel.any():  # synthetic-only corpus: run the same checks on everything
        tel = real = np.ones(len(test), dtype=bool)

    edges = np.quantile(length[tel], [0, 0.25, 0.5, 0.75, 1.0])
    bins = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = tel & (length >= lo) & (length <= hi)
        row: dict = {"length_from": int(lo), "length_to": int(hi), "n_scam": int(y[m].sum()), "n_benign": int((y[m] == 0).sum())}
        for name, (p, t) in models.items():
            row[name] = _pair_metrics(y[m], p[m], t)
        bins.append(row)
    out["by_length_quartile"] = bins

    scams = np.flatnonzero(tel & (y == 1))
    pool = np.flatnonzero(real & (y == 0)).tolist()
    pairs = _match_lengths(scams, pool, length)
    matched: dict = {"n_pairs": len(pairs), "rule": "each test scam of the reference set paired with an unused real benign test text within 15% of its length"}
    if pairs:
        s_idx, b_idx = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
        both = np.concatenate([s_idx, b_idx])
        yy = np.concatenate([np.ones(len(s_idx)), np.zeros(len(b_idx))])
        for name, (p, t) in models.items():
            matched[name] = _pair_metrics(yy, p[both], t)
            matched[name]["mean_score_matched_benign"] = float(p[b_idx].mean())
    out["length_matched_benign"] = matched

    cut = int(np.median(length[tel & (y == 0)]))
    short = [_truncated(test[i], cut) for i in scams]
    p_short = _score(model, ctx, short)
    pb_short = baseline.predict_scam([e.report["text"] for e in short])
    out["truncated_scams"] = {
        "cut_to_chars": cut,
        "n": len(short),
        "xgboost_recall": float(np.mean(p_short >= models["xgboost"][1])),
        "baseline_recall": float(np.mean(pb_short >= models["baseline"][1])),
    }

    out["length_only_model"] = _length_only(ctx, length, y, tel)
    rho = {}
    for cls, name in ((1, "scam"), (0, "benign")):
        m = tel & (y == cls)
        scores = models["xgboost"][0][m]
        # Undefined (and a warning) when either side is constant, e.g. every score the same.
        varies = m.sum() > 2 and np.ptp(length[m]) > 0 and np.ptp(scores) > 0
        rho[name] = float(spearmanr(length[m], scores).statistic) if varies else None
    out["spearman_score_vs_length_within_class"] = rho
    return out


def _pair_metrics(y: np.ndarray, p: np.ndarray, t: float) -> dict:
    out: dict = {}
    if (y == 1).any() and (y == 0).any():
        out["pr_auc"] = float(average_precision_score(y, p))
        out["roc_auc"] = float(roc_auc_score(y, p))
    if (y == 0).any():
        out["false_positive_rate"] = float(np.mean(p[y == 0] >= t))
    if (y == 1).any():
        out["recall"] = float(np.mean(p[y == 1] >= t))
    return out


def _match_lengths(scams: np.ndarray, pool: list[int], length: np.ndarray) -> list[tuple[int, int]]:
    free = sorted(pool, key=lambda i: length[i])
    lens = [length[i] for i in free]
    used = np.zeros(len(free), dtype=bool)
    pairs = []
    for s in scams:
        j = int(np.searchsorted(lens, length[s]))
        best = None
        for k in range(max(j - 40, 0), min(j + 40, len(free))):
            if not used[k] and abs(lens[k] - length[s]) <= 0.15 * length[s]:
                if best is None or abs(lens[k] - length[s]) < abs(lens[best] - length[s]):
                    best = k
        if best is not None:
            used[best] = True
            pairs.append((int(s), int(free[best])))
    return pairs


def _truncated(e: Example, n: int) -> Example:
    return Example(dict(e.report, text=e.report["text"][:n]), e.is_scam, e.scam_type, e.ai_technique, e.source, e.subset)


def _length_only(ctx, test_length: np.ndarray, y: np.ndarray, tel: np.ndarray) -> dict:
    train = [e for e in ctx.part("train") if e.source == datasets.TELECOM] or ctx.part("train")
    x = np.log1p([[len(e.report["text"])] for e in train])
    lr = LogisticRegression().fit(x, [e.is_scam for e in train])
    p = lr.predict_proba(np.log1p(test_length[tel])[:, None])[:, 1]
    return {"pr_auc": float(average_precision_score(y[tel], p)), "roc_auc": float(roc_auc_score(y[tel], p))}


def unseen_sets(model: ReportModel, ctx, baseline: Baseline) -> dict:
    out = {}
    t = model.heads["scam"].thresholds["operating"]
    type_head = model.heads["scam_type"]
    for name, examples in ctx.extra.items():
        if not examples:
            continue
        kept, prepared = prepare_all(examples)
        X = model.featurizer.transform(prepared, ctx.reputation)
        p = model.heads["scam"].proba(X)
        pb = baseline.predict_scam([e.report["text"] for e in kept])
        types = type_head.proba(X).argmax(axis=1)
        groups: dict[str, list[int]] = {}
        for i, e in enumerate(kept):
            groups.setdefault(e.subset, []).append(i)
        rows = {}
        for subset, idx in sorted(groups.items()):
            row: dict = {"n": len(idx), "xgboost_flag_rate": float(np.mean(p[idx] >= t)), "baseline_flag_rate": float(np.mean(pb[idx] >= baseline.threshold))}
            expected = kept[idx[0]].scam_type
            if expected:
                hit = [type_head.classes[types[i]] == expected for i in idx if p[i] >= t]
                row["type_accuracy_when_flagged"] = float(np.mean(hit)) if hit else None
                row["expected_type"] = expected
            rows[subset] = row
        out[name] = rows
    return out


def leave_one_type_out(ctx, config: TrainConfig, progress: bool = True, types: tuple[str, ...] | None = None) -> dict:
    """Retrain the scam head without one scam type; is that type still flagged on the test split?"""
    types = types or tuple(datasets.TELECOM_TYPES.values())
    light = TrainConfig(
        seed=config.seed,
        text_features={"scam": config.text_features.get("scam", 1200)},
        scam_params={**config.scam_params, "n_estimators": min(150, config.scam_params["n_estimators"])},
        max_fpr=config.max_fpr,
        augment=config.augment,
        timezone=config.timezone,
        nthread=config.nthread,
    )
    test = ctx.part("test")
    out = {}
    for held in tqdm(types, desc="leave one type out", disable=not progress):
        train = [e for e in ctx.part("train") if e.scam_type != held]
        valid = [e for e in ctx.part("valid") if e.scam_type != held]
        examples = train + valid
        split = Split(np.arange(len(train)), np.arange(len(train), len(examples)), np.zeros(0, dtype=int))
        model = train_report_model(examples, split, light, progress=False, heads=("scam",))
        held_test = [e for e in test if e.scam_type == held and e.source == datasets.TELECOM]
        held_test = held_test or [e for e in test if e.scam_type == held]  # synthetic-only corpus
        negatives = [e for e in test if not e.is_scam]
        p_held, p_neg = _score(model, ctx, held_test), _score(model, ctx, negatives)
        t = model.heads["scam"].thresholds["operating"]
        y = np.concatenate([np.ones(len(p_held)), np.zeros(len(p_neg))])
        p = np.concatenate([p_held, p_neg])
        out[held] = {
            "n_held_out_test": len(held_test),
            "recall_at_operating_threshold": float(np.mean(p_held >= t)) if len(p_held) else None,
            "pr_auc_vs_all_test_negatives": float(average_precision_score(y, p)) if len(p_held) else None,
            "false_positive_rate": float(np.mean(p_neg >= t)),
        }
    return out
