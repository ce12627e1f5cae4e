"""The linear report detector ("linear" kind in the model store): text features only, a
logistic scam model with Platt calibration, type heads (one-vs-rest sigmoids, or the baseline's
multinomial softmax) with an "other / new pattern" cut, and explanations that name content.

Columns: the content featurizer's (n-grams, lexicon words, analyst cues), then, when the model
has them, the TF-IDF + LR baseline's character 1-3-grams (``char_grams``). When the content
columns carry weight, explanations name content columns (``explain``); when only the character
columns carry weight (the baseline's own fit served), the contributions of the character n-grams
are merged into the words of the text (``char_reasons``): a character n-gram is never a reason
on its own, and a word made only of pronouns, particles or punctuation is never named.
When the score does not use the content columns, they are not computed unless explanations
are asked for.

Only the text enters the score. The training data carry no real channel, time, reporter type,
amount or identifier history, so a weight on any of them would be a weight on a data source;
identifier history is given as context in the explanation and never moves the score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from tierwatch.antifraud.char_grams import CharGrams
from tierwatch.antifraud.content_features import ContentFeaturizer
from tierwatch.antifraud.cues import CUES
from tierwatch.antifraud.char_reasons import char_reasons
from tierwatch.antifraud.results import Contribution

KIND = "linear"
FILES = ("featurizer.json", "linear.json")
OTHER = "other"  # the taxonomy's "other" code, shown as 其他类型 / 新模式 (other / new pattern)
GROUP_WORDS = {
    "phone": ("电话号码", "phone number"), "url": ("网址", "URL"), "domain": ("域名", "domain"),
    "wechat": ("微信号", "WeChat account"), "qq": ("QQ号", "QQ account"), "bank_card": ("银行卡号", "bank card"),
    "payment": ("收款账户", "payment account"), "alipay": ("支付宝账户", "Alipay account"), "app": ("应用", "app"),
}


@dataclass
class LinearScores:
    probability: np.ndarray
    is_scam: list[bool]
    scam_type: list[str]
    scam_type_probability: list[float]
    X: sp.csr_matrix | None  # content columns (None: not computed)
    texts: list[str] = field(default_factory=list)
    Xt: sp.csr_matrix | None = None  # character columns (None: the model has none)
    hits: tuple | None = None  # the character n-gram occurrences, kept for a character explanation


@dataclass
class LinearReportModel:
    featurizer: ContentFeaturizer
    w: np.ndarray
    b: float
    platt: tuple[float, float]
    threshold: float
    type_classes: list[str]
    type_w: np.ndarray  # (types, features)
    type_b: np.ndarray
    type_min: float  # below this best-type probability a scam is "other / new pattern"
    info: dict = field(default_factory=dict)
    chars: CharGrams | None = None  # the baseline's character n-grams, columns after the content ones
    reference: dict = field(default_factory=dict)  # drift reference: distributions on the validation split
    type_link: str = "sigmoid"  # "sigmoid": one-vs-rest heads; "softmax": one multinomial head (the baseline's)

    @property
    def uses_content(self) -> bool:
        """Whether any score (scam or type) puts weight on a content column."""
        n = self.featurizer.n_features
        return bool(np.any(self.w[:n]) or np.any(self.type_w[:, :n]))

    @property
    def n_features(self) -> int:
        return self.featurizer.n_features + (self.chars.n_features if self.chars else 0)

    def features(self, texts: list[str]) -> sp.csr_matrix:
        _, X = self.featurizer.transform(texts)
        if self.chars is None:
            return X
        return sp.hstack([X, self.chars.transform(texts)], format="csr")

    # --- scoring --------------------------------------------------------------------------------
    def margin(self, X: sp.csr_matrix) -> np.ndarray:
        return np.asarray(X @ self.w).ravel() + self.b

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        a, c = self.platt
        return 1.0 / (1.0 + np.exp(-(a * margin + c)))

    def type_proba(self, X: sp.csr_matrix) -> np.ndarray:
        return self._type_link(np.asarray(X @ self.type_w.T) + self.type_b[None, :])

    def _type_link(self, z: np.ndarray) -> np.ndarray:
        if self.type_link == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        return 1.0 / (1.0 + np.exp(-z))

    def type_names(self, pt: np.ndarray) -> list[str]:
        best = pt.argmax(axis=1)
        conf = pt[np.arange(len(pt)), best]
        return [self.type_classes[k] if c >= self.type_min else OTHER for k, c in zip(best.tolist(), conf.tolist())]

    def score_texts(self, texts: list[str], explain: bool = True) -> LinearScores:
        """Scores of a batch; the two column blocks are multiplied apart (no stacked matrix to
        build). The content block is computed only when a score uses it or, with ``explain``,
        when the explanation names it."""
        n = self.featurizer.n_features
        z_scam = np.full(len(texts), self.b)
        z_type = np.repeat(self.type_b[None, :], len(texts), axis=0)
        X = Xt = hits = None
        content = self._uses_content()
        if content or (explain and self.chars is None):
            _, X = self.featurizer.transform(texts)
            z_scam += np.asarray(X @ self.w[:n]).ravel()
            z_type += np.asarray(X @ self.type_w[:, :n].T)
        if self.chars is not None:
            if explain and not content:
                Xt, hits = self.chars.transform_hits(texts)
            else:
                Xt = self.chars.transform(texts)
            w_chars, type_w_chars = self._char_weights()
            z_scam += np.asarray(Xt @ w_chars).ravel()
            z_type += np.asarray(Xt @ type_w_chars)
        p = self.calibrate(z_scam)
        pt = self._type_link(z_type)
        return LinearScores(p, (p >= self.threshold).tolist(), self.type_names(pt), pt.max(axis=1).tolist(), X, list(texts), Xt, hits)

    def _uses_content(self) -> bool:
        cached = getattr(self, "_content_cache", None)
        if cached is None:
            cached = self._content_cache = self.uses_content
        return cached

    def _char_weights(self) -> tuple[np.ndarray, np.ndarray]:
        cached = getattr(self, "_char_cache", None)
        if cached is None:
            n = self.featurizer.n_features
            cached = (np.ascontiguousarray(self.w[n:]), np.ascontiguousarray(self.type_w[:, n:].T))
            self._char_cache = cached
        return cached

    def drift_values(self, texts: list[str]) -> dict[str, np.ndarray]:
        """What drift is measured on: the calibrated score and what the text carries (length,
        how many analyst cues, a link, a money request), the same for training's reference and
        for recent reports. No channel or reporter field: the score never sees them."""
        X = self.features(texts)
        cues = (X[:, self.featurizer.n_text : self.featurizer.n_features] > 0).toarray()
        names = self.featurizer.cue_names
        out = {"scam_probability": self.calibrate(self.margin(X)),
               "text_length_log10": np.log10(1.0 + np.array([len(t) for t in texts], dtype=float)),
               "n_cues": cues.sum(axis=1).astype(float)}
        for cue in ("link", "money_request"):
            if cue in names:
                out[f"cue={cue}"] = cues[:, names.index(cue)].astype(float)
        return out

    # --- explanations ---------------------------------------------------------------------------
    def explain(self, scores: LinearScores, top_k: int = 5, min_weight: float = 0.05) -> list[list[Contribution]]:
        """Reasons for each score: what moved it, in words a person reads (see the module note)."""
        if self._uses_content() or scores.Xt is None:
            X = scores.X if scores.X is not None else self.featurizer.transform(scores.texts)[1]
            return self.content_reasons(X, top_k, min_weight)
        assert self.chars is not None
        w = getattr(self, "_reason_weights", None)
        if w is None:  # the character weights in log-odds of the served score, once per model
            w = self._reason_weights = self._char_weights()[0] * self.platt[0]
        return char_reasons(self.chars, w, scores.texts, scores.Xt, top_k, min_weight, scores.hits)

    def content_reasons(self, X: sp.csr_matrix, top_k: int = 5, min_weight: float = 0.05) -> list[list[Contribution]]:
        """Top contributions to the calibrated log-odds (weight x weighted presence x Platt slope)
        among columns a person can read: lexicon words, link / number tokens and analyst cues.
        Fragments across word boundaries and character n-grams are never named; pronouns,
        punctuation and missing fields are not features."""
        f = self.featurizer
        eligible, cue_of = self._naming()
        out = []
        X = X.tocsr()
        for r in range(X.shape[0]):
            lo, hi = X.indptr[r], X.indptr[r + 1]
            cols = X.indices[lo:hi]
            vals = X.data[lo:hi] * self.w[cols] * self.platt[0]  # in log-odds of the calibrated score
            keep = eligible[cols] & (np.abs(vals) >= min_weight)
            cols, vals = cols[keep], vals[keep]
            order = np.argsort(-np.abs(vals), kind="stable")[:top_k]
            row = []
            for j, v in zip(cols[order].tolist(), vals[order].tolist()):
                kind, zh, en = f.feature_label(j)
                if kind in ("word", "token"):
                    zh, en = f"文本含有{zh}", f"text contains {en}"
                    if j in cue_of:
                        zh, en = f"{cue_of[j][0]}：{zh}", f"{cue_of[j][1]}: {en}"
                name = f.names[j] if j < f.n_text else f.cue_names[j - f.n_text]
                row.append(Contribution(f"{kind}:{name}", zh, en, round(v, 4)))
            out.append(row)
        return out

    def _naming(self) -> tuple[np.ndarray, dict[int, tuple[str, str]]]:
        cached = getattr(self, "_naming_cache", None)
        if cached is None:
            f = self.featurizer
            eligible = np.array([f.feature_label(j)[0] != "fragment" for j in range(f.n_features)]
                                + [False] * (self.n_features - f.n_features), dtype=bool)
            cue_of: dict[int, tuple[str, str]] = {}
            for k, name in enumerate(f.names):
                for zh, en, phrases in CUES.values():
                    if any(ph in name for ph in phrases if not ph.isascii() or name.isascii()):
                        cue_of[k] = (zh, en)
                        break
            cached = (eligible, cue_of)
            self._naming_cache = cached
        return cached

    # --- files ----------------------------------------------------------------------------------
    def artefacts(self) -> dict[str, bytes]:
        heads = {"kind": KIND, "scam": {"w": self.w.tolist(), "b": self.b}, "platt": list(self.platt),
                 "threshold": self.threshold, "type_classes": self.type_classes, "type_w": self.type_w.tolist(),
                 "type_b": self.type_b.tolist(), "type_min": self.type_min, "type_link": self.type_link,
                 "info": self.info, "reference": self.reference,
                 **({"chars": self.chars.to_json()} if self.chars else {})}
        return {"featurizer.json": _json(self.featurizer.to_json()), "linear.json": _json(heads)}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> LinearReportModel:
        f = ContentFeaturizer.from_json(json.loads(files["featurizer.json"]))
        h = json.loads(files["linear.json"])
        if h.get("kind") != KIND:
            raise ValueError("linear.json is not a linear report model")
        chars = CharGrams.from_json(h["chars"]) if "chars" in h else None
        n = f.n_features + (chars.n_features if chars else 0)
        w = np.asarray(h["scam"]["w"], dtype=np.float64)
        type_w = np.asarray(h["type_w"], dtype=np.float64).reshape(len(h["type_classes"]), -1)
        if len(w) != n or type_w.shape[1] != n:
            raise ValueError("linear model weights do not match its featurizer")
        if h.get("type_link", "sigmoid") not in ("sigmoid", "softmax"):
            raise ValueError(f"unknown type link {h['type_link']!r}")
        return cls(f, w, float(h["scam"]["b"]), (float(h["platt"][0]), float(h["platt"][1])), float(h["threshold"]),
                   list(h["type_classes"]), type_w, np.asarray(h["type_b"], dtype=np.float64), float(h["type_min"]),
                   h.get("info", {}), chars, h.get("reference", {}), h.get("type_link", "sigmoid"))


def history_reasons(identifiers: tuple[str, ...], stats: dict[str, Any]) -> list[Contribution]:
    """Identifier history as context (weight 0: it does not move the score)."""
    row = []
    for key, st in sorted(stats.items(), key=lambda kv: -kv[1].count)[:2]:
        if key not in identifiers or not st.count:
            continue
        kind = key.split(":", 1)[0]
        zh, en = GROUP_WORDS.get(kind, ("联系标识", "identifier"))
        row.append(Contribution(f"history:{kind}", f"该{zh}此前被举报 {st.count} 次",
                                f"this {en} was reported {st.count} times before", 0.0))
    return row


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
