"""Training the linear report detector (model kind "linear", ``antifraud.linear_model``).

Content features (selected n-grams, jieba lexicon words, analyst cues) and, with ``chars``, the
TF-IDF + LR baseline's character 1-3-grams -> the scam model -> its probability (its own, or
Platt's on the validation split) -> the lowest threshold keeping the false-positive rate of
each real legitimate-SMS group under its cap -> type heads with an "other / new pattern" cut.
Training texts are the served form: a citizen's framing around some of them, as
``report_bodies`` writes it.

The scam model is either one L2 logistic regression over all columns ("joint"), or a stack:
a logistic regression over the content columns and the baseline's own fit over the character
columns (``Baseline.fit_models``: the same vectorizer, solver and rows, carried column for
column by ``CharGrams.from_vectorizer``), mixed by a fixed share or by non-negative weights
fitted on the validation split ("stack"). A share of 1 serves the baseline's scam model as it
is (its margin, then Platt). The combination is folded into one weight vector, so serving is one
sparse product either way. Type heads: one-vs-rest logistic regressions over the "content",
"chars" or "joint" columns, or the baseline's own multinomial type model ("baseline").
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from tierwatch.antifraud.char_grams import CharGrams
from tierwatch.antifraud.content_text import normalise
from tierwatch.antifraud.drift import reference_distribution
from tierwatch.antifraud.linear_model import LinearReportModel
from tierwatch.antifraud.training import content_fit, datasets
from tierwatch.antifraud.training.baseline import Baseline
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
    other_quantile: float = 0.005  # share of correctly typed validation scams allowed below the type cut
    chars: bool = True  # the baseline's character 1-3-grams beside the content features
    scam_fit: str = "stack"  # "joint" or "stack" (see the module's note)
    # type heads: one-vs-rest over "content", "chars" or "joint" (all) columns, or "baseline": the
    # baseline's own multinomial model over its character columns (softmax)
    type_fit: str = "baseline"
    # the stack's share of the character margin (each margin scaled to unit spread on validation);
    # None: weights fitted on validation; 1.0: the baseline's scam model alone. Chosen by inner
    # leave-one-type-out on validation (model card), because a fit on validation sees only the
    # known types.
    stack_mix: float | None = 1.0
    # the served probability: "identity" (the scam model's own logistic probability) or "platt"
    # (refitted on validation). Scores are stored to 4 decimals, and Platt's steeper slope here
    # rounds many low scores to 0.0000 together, which costs ranking (model card, validation).
    calibration: str = "identity"
    chars_augmented: bool = False  # the character-column model also trains on the length-augmented rows

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
    texts = served_texts(train, config.seed, "train")
    norm = [normalise(t) for t in texts]
    y, yt = labels(train, types)
    lexicon = content_fit.build_lexicon(norm)
    f = content_fit.fit(norm, [(y, config.k_scam), (yt, config.k_type)], lexicon)
    _, Xc = f.transform(norm, normalised=True)
    n_real = len(split.train)  # rows after these are length-augmented variants
    rows = slice(None) if config.chars_augmented else slice(0, n_real)
    base = Baseline(config.seed).fit_models(texts[rows], y[rows], yt[rows]) if config.chars else None
    chars, order = CharGrams.from_vectorizer(base.vectorizer) if base else (None, None)
    Xt = chars.transform(texts) if chars else sp.csr_matrix((len(texts), 0))
    X = sp.hstack([Xc, Xt], format="csr")
    say(f"features: {f.n_text} text columns + {len(f.cue_names)} cues + {Xt.shape[1]} character n-grams, {len(train)} reports [{time.time() - t0:.0f} s]")
    model = LinearReportModel(f, np.zeros(X.shape[1]), 0.0, (1.0, 0.0), 0.5, types, np.zeros((len(types), X.shape[1])),
                              np.zeros(len(types)), 0.5, chars=chars)
    vtexts = served_texts(valid, config.seed + 1, "eval")
    vX = model.features(vtexts)
    vy, vyt = labels(valid, types)
    char_model = (base.scam.coef_.ravel()[order].astype(np.float64), float(base.scam.intercept_[0])) if base else None
    model.w, model.b, stack = scam_weights(X, y, vX, vy, Xc.shape[1], config, char_model)
    blocks = {"content": slice(0, Xc.shape[1]), "chars": slice(Xc.shape[1], X.shape[1]), "joint": slice(0, X.shape[1])}
    type_fit = config.type_fit if chars else "content"
    if type_fit == "baseline":
        model.type_w[:, blocks["chars"]], model.type_b = baseline_type_heads(base, order, len(types))
        model.type_link = "softmax"
    else:
        cols = blocks[type_fit]
        for k in range(len(types)):
            model.type_w[k, cols], model.type_b[k] = fit_lr(X[:, cols], (yt == k).astype(np.int64), config.C)
    if config.calibration not in ("identity", "platt"):
        raise ValueError(f"unknown calibration {config.calibration!r}")
    model.platt = platt(model.margin(vX), vy) if config.calibration == "platt" else (1.0, 0.0)
    vp = model.calibrate(model.margin(vX))
    model.threshold = threshold_under_caps(vp, cap_groups(valid, vp, config.caps))
    model.type_min = type_cut(model.type_proba(vX), vyt, config.other_quantile)
    model.reference = {name: reference_distribution(v) for name, v in model.drift_values(vtexts).items()}
    model.info = {"types": types, "lexicon_words": len(lexicon), "n_train_reports": len(train), "stack_weights": stack,
                  "scam_fit": config.scam_fit if chars else "content", "type_fit": config.type_fit if chars else "content",
                  "valid_recall": float(np.mean(vp[vy == 1] >= model.threshold)) if (vy == 1).any() else None,
                  "train_seconds": round(time.time() - t0, 1)}
    say(f"threshold {model.threshold:.4f}, type cut {model.type_min:.3f} [{time.time() - t0:.0f} s]")
    return model


def baseline_type_heads(base: Baseline, order: np.ndarray, n_types: int) -> tuple[np.ndarray, np.ndarray]:
    """The baseline's multinomial type model as softmax heads over our character columns (a type
    it never saw gets -inf-like bias: probability 0, as the baseline's predict_type gives it)."""
    coef, bias = base.scam_type.coef_, base.scam_type.intercept_
    if coef.shape[0] == 1:  # two classes: scikit-learn keeps one row; softmax of (-z/2, z/2) is sigmoid(z)
        coef, bias = np.vstack([-coef / 2, coef / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    W = np.zeros((n_types, coef.shape[1]))
    b = np.full(n_types, -50.0)
    W[base.scam_type.classes_] = coef[:, order]
    b[base.scam_type.classes_] = bias
    return W, b


def scam_weights(X: sp.csr_matrix, y: np.ndarray, vX: sp.csr_matrix, vy: np.ndarray, n_content: int,
                 config: LinearConfig, char_model: tuple[np.ndarray, float] | None) -> tuple[np.ndarray, float, list[float] | None]:
    """(weights, bias, stack weights or None) of the scam margin over all columns."""
    if config.scam_fit == "joint" or char_model is None:
        w, b = fit_lr(X, y, config.C)
        return w, b, None
    if config.scam_fit != "stack":
        raise ValueError(f"unknown scam_fit {config.scam_fit!r}")
    wt, bt = char_model
    if config.stack_mix == 1.0:  # the baseline's scam model as it is; no content model to fit
        return np.concatenate([np.zeros(n_content), wt]), bt, [0.0, 1.0]
    wc, bc = fit_lr(X[:, :n_content], y, config.C)
    margins = np.column_stack([vX[:, :n_content] @ wc + bc, vX[:, n_content:] @ wt + bt])
    if config.stack_mix is None:
        a = stack(margins, vy)
    else:
        sd = np.maximum(margins.std(axis=0), 1e-9)
        a = np.array([1.0 - config.stack_mix, config.stack_mix]) / sd
    return np.concatenate([a[0] * wc, a[1] * wt]), float(a[0] * bc + a[1] * bt), [float(v) for v in a]


def stack(margins: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative weights of each model's margin (logistic fit on the validation split)."""
    def nll(v: np.ndarray) -> float:
        z = margins @ v[:-1] + v[-1]
        return float(np.mean(np.logaddexp(0, z) - y * z))

    start = np.array([1.0] * margins.shape[1] + [0.0])
    bounds = [(0.0, None)] * margins.shape[1] + [(None, None)]
    return minimize(nll, start, method="L-BFGS-B", bounds=bounds).x[:-1]


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
