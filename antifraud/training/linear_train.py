"""Training the linear report detector (model kind "linear", ``antifraud.linear_model``).

Content features (selected n-grams, jieba lexicon words, analyst cues) -> L2 logistic regression
-> Platt calibration on the validation split -> the lowest threshold keeping the false-positive
rate of each real legitimate-SMS group under its cap -> one-vs-rest type heads with an
"other / new pattern" cut. Training texts are the served form: a citizen's framing around some
of them, as ``report_bodies`` writes it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

from tierwatch.antifraud.content_text import normalise
from tierwatch.antifraud.linear_model import LinearReportModel
from tierwatch.antifraud.training import content_fit, datasets
from tierwatch.antifraud.training.corpus import Split, augment_lengths
from tierwatch.antifraud.training.datasets import Example
from tierwatch.antifraud.training.report_bodies import wrap_all


@dataclass(frozen=True)
class LinearConfig:
    seed: int = 0
    k_scam: int = 30_000  # n-gram / word columns chosen for the scam question
    k_type: int = 6_000  # and for the type question
    C: float = 32.0
    # false-positive caps on validation, per group of real legitimate SMS
    caps: dict = field(default_factory=lambda: {datasets.CN_HAM: 0.015, datasets.MUDOU: 0.015, "lookalike": 0.035})
    other_quantile: float = 0.05  # share of correctly typed validation scams allowed below the type cut

    def to_json(self) -> dict:
        return asdict(self)


def served_texts(examples: list[Example], seed: int, purpose: str) -> list[str]:
    return [b["description"].strip() for b in wrap_all([e.report["text"] for e in examples], seed, purpose)]


def known_types(examples: list[Example]) -> list[str]:
    return sorted({e.scam_type for e in examples if e.is_scam and e.scam_type and e.scam_type != "other"})


def labels(examples: list[Example], types: list[str]) -> tuple[np.ndarray, np.ndarray]:
    y = np.array([e.is_scam for e in examples], dtype=np.int64)
    t = np.array([types.index(e.scam_type) if e.is_scam and e.scam_type in types else -1 for e in examples], dtype=np.int64)
    return y, t


def train_linear(examples: list[Example], split: Split, config: LinearConfig | None = None, log=None) -> LinearReportModel:
    config = config or LinearConfig()
    t0 = time.time()
    say = log or (lambda _msg: None)
    train = [examples[i] for i in split.train]
    train = train + augment_lengths(train, config.seed)
    valid = [examples[i] for i in split.valid]
    types = known_types(train)
    norm = [normalise(t) for t in served_texts(train, config.seed, "train")]
    y, yt = labels(train, types)
    lexicon = content_fit.build_lexicon(norm)
    f = content_fit.fit(norm, [(y, config.k_scam), (yt, config.k_type)], lexicon)
    _, X = f.transform(norm, normalised=True)
    say(f"features: {f.n_text} text columns + {len(f.cue_names)} cues, {len(train)} reports [{time.time() - t0:.0f} s]")
    w, b = fit_lr(X, y, config.C)
    tw = np.zeros((len(types), X.shape[1]))
    tb = np.zeros(len(types))
    for k in range(len(types)):
        tw[k], tb[k] = fit_lr(X, (yt == k).astype(np.int64), config.C)
    model = LinearReportModel(f, w, b, (1.0, 0.0), 0.5, types, tw, tb, 0.5)
    _, vX = f.transform(served_texts(valid, config.seed + 1, "eval"))
    vy, vyt = labels(valid, types)
    model.platt = platt(model.margin(vX), vy)
    vp = model.calibrate(model.margin(vX))
    model.threshold = threshold_under_caps(vp, cap_groups(valid, vp, config.caps))
    model.type_min = type_cut(model.type_proba(vX), vyt, config.other_quantile)
    model.info = {"types": types, "lexicon_words": len(lexicon), "n_train_reports": len(train),
                  "valid_recall": float(np.mean(vp[vy == 1] >= model.threshold)) if (vy == 1).any() else None,
                  "train_seconds": round(time.time() - t0, 1)}
    say(f"threshold {model.threshold:.4f}, type cut {model.type_min:.3f} [{time.time() - t0:.0f} s]")
    return model


def fit_lr(X: sp.csr_matrix, y: np.ndarray, C: float) -> tuple[np.ndarray, float]:
    if y.min() == y.max():  # one class only (a type absent from this training set)
        return np.zeros(X.shape[1]), -10.0 if y.max() == 0 else 10.0
    lr = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", max_iter=200, tol=1e-4)
    lr.fit(X, y)
    return lr.coef_.ravel().astype(np.float64), float(lr.intercept_[0])


def platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """p = sigmoid(a * margin + c), by maximum likelihood on the validation split."""
    def nll(v: np.ndarray) -> float:
        z = v[0] * margin + v[1]
        return float(np.mean(np.logaddexp(0, z) - y * z))

    res = minimize(nll, np.array([1.0, 0.0]), method="L-BFGS-B")
    return float(res.x[0]), float(res.x[1])


def cap_groups(examples: list[Example], p: np.ndarray, caps: dict) -> dict[str, tuple[np.ndarray, float]]:
    neg = np.array([not e.is_scam for e in examples], dtype=bool)
    groups = {}
    for name, cap in caps.items():
        if name == "lookalike":
            m = neg & np.array([bool(e.tags.get("lookalike")) for e in examples], dtype=bool)
        else:
            m = neg & np.array([e.source == name for e in examples], dtype=bool)
        groups[name] = (p[m], cap)
    return groups


def threshold_under_caps(p: np.ndarray, groups: dict[str, tuple[np.ndarray, float]]) -> float:
    """Lowest threshold at which every group's false-positive rate is at most its cap (0.5 when
    no group has examples)."""
    cut = -np.inf
    for scores, cap in groups.values():
        s = np.sort(scores)
        if len(s) == 0:
            continue
        allowed = int(np.floor(cap * len(s)))
        cut = max(cut, float(np.nextafter(s[len(s) - allowed - 1], np.inf)))
    return cut if np.isfinite(cut) else 0.5


def type_cut(pt: np.ndarray, yt: np.ndarray, quantile: float) -> float:
    """The best-head confidence below which a scam is "other / new pattern": all but a share
    ``quantile`` of the correctly typed validation scams stay above it."""
    m = yt >= 0
    if not m.any():
        return 0.5
    correct = pt[m].argmax(axis=1) == yt[m]
    conf = pt[m].max(axis=1)[correct]
    return float(np.quantile(conf, quantile)) if len(conf) else 0.5
