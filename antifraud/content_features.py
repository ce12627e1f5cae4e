"""Report text -> feature matrix for the linear detector (``linear_model``): selected n-grams and lexicon words, plus analyst cues.

Columns: [selected Han 2-3-grams, jieba lexicon words (2-6 characters), Latin words/bigrams]
then [cues]. Binary presence, then idf-weighted and L2-normalised per row (so a long text does
not collect more evidence by being long). The fitted state is plain JSON.

Only the text enters: the training corpus carries no real channel, time, reporter type, amount
or identifier history, so any weight learned for them would be a weight on a data source.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from tierwatch.antifraud.cues import CUES
from tierwatch.antifraud.content_text import N_BUCKETS, lookup, normalise_batch, phrase_bucket, unique

# Han characters that never make evidence on their own: pronouns, particles, copulas, measure
# words. An n-gram made only of them ("我是", "你的", "了吗") is not a feature.
STOP = set("我你您他她它们咱的了是吗呢吧啊哦呀嘛在有和与及就都也还这那个一不没把被给让要会能可以很太又再才对为从到向于之其此该")
# English pronouns: a Latin word the explanation never names
EN_PRONOUNS = frozenset("i me my mine you your yours he him his she her hers it its we us our ours they them their theirs".split())
EXPLAINABLE_TOKENS = {"zzurl": ("链接", "a link"), "zzmobile": ("手机号码", "a mobile number"),
                      "zzcard": ("银行卡号", "a card number"), "zzmail": ("邮箱地址", "an e-mail address")}


def stop_only(name: str) -> bool:
    return all(ch in STOP for ch in name)


def nameable(name: str, in_lexicon: bool) -> bool:
    """Whether an explanation may name a text column: a lexicon word, a link / number token,
    or one plain Latin word of three letters or more that is not a pronoun."""
    if in_lexicon or name in EXPLAINABLE_TOKENS:
        return True
    return name.isascii() and name.isalpha() and len(name) >= 3 and name not in EN_PRONOUNS


class ContentFeaturizer:
    def __init__(self, buckets: list[int], names: list[str], words: list[bool], idf: list[float], sizes: tuple[int, ...],
                 cue_scale: float = 1.0):
        self.cue_scale = float(cue_scale)
        self.buckets = np.asarray(buckets, dtype=np.int64)
        self.names = list(names)
        self.words = np.asarray(words, dtype=bool)  # a lexicon word or an explainable token
        self.sizes = tuple(sizes)
        self.cue_names = list(CUES)
        self.idf = np.asarray(idf, dtype=np.float64)
        col = dict(zip(self.buckets.tolist(), range(len(self.buckets))))
        cue: dict[int, int] = {}
        for k, (_, _, phrases) in enumerate(CUES.values()):
            for phrase in phrases:
                cue[phrase_bucket(phrase)] = k
        # One bucket table (one random access per n-gram) pointing to a slot; a slot holds the
        # bucket's text column and cue (-1: none), as a phrase may be both.
        slots = sorted(set(col) | set(cue))
        self._slot = np.full(N_BUCKETS, -1, dtype=np.int32)
        self._slot[slots] = np.arange(len(slots), dtype=np.int32)
        self._slot_col = np.array([col.get(b, -1) for b in slots], dtype=np.int64)
        self._slot_cue = np.array([cue.get(b, -1) for b in slots], dtype=np.int64)

    @property
    def n_text(self) -> int:
        return len(self.buckets)

    @property
    def n_features(self) -> int:
        return self.n_text + len(self.cue_names)

    def to_json(self) -> dict:
        return {"kind": "content-featurizer/1", "buckets": self.buckets.tolist(), "names": self.names,
                "words": self.words.tolist(), "idf": self.idf.tolist(), "sizes": list(self.sizes), "cue_scale": self.cue_scale,
                "cues": {k: list(v[2]) for k, v in CUES.items()}}

    @classmethod
    def from_json(cls, d: dict) -> "ContentFeaturizer":
        if d.get("kind") != "content-featurizer/1" or d["cues"] != {k: list(v[2]) for k, v in CUES.items()}:
            raise ValueError("content featurizer does not match this code version (kind or cue phrases differ)")
        return cls(d["buckets"], d["names"], d["words"], d["idf"], tuple(d["sizes"]), d["cue_scale"])

    def binary(self, texts: list[str], normalised: bool = False) -> sp.csr_matrix:
        """Presence matrix (n, n_text + n_cues)."""
        norm = texts if normalised else normalise_batch(texts)
        ((doc, slot),) = lookup(norm, [self._slot], self.sizes)
        col, cue = self._slot_col[slot], self._slot_cue[slot]
        n, m = len(texts), self.n_features
        key = unique(np.concatenate([(doc * m + col)[col >= 0], (doc * m + self.n_text + cue)[cue >= 0]]))
        data = np.ones(len(key), dtype=np.float32)
        indptr = np.searchsorted(key, np.arange(n + 1, dtype=np.int64) * m)
        return sp.csr_matrix((data, (key % m).astype(np.int32), indptr), shape=(n, m))

    def weighted(self, B: sp.csr_matrix) -> sp.csr_matrix:
        """Text columns: idf-weighted presence, L2-normalised over the text columns. Cue columns:
        presence x cue_scale / 4, outside the norm, so a cue counts as much in a long text as in
        a short one."""
        w_text = np.where(np.arange(self.n_features) < self.n_text, self.idf, 0.0)
        w_cue = np.where(np.arange(self.n_features) >= self.n_text, self.cue_scale / 4.0, 0.0)
        Xt = B.multiply(w_text[None, :]).tocsr()
        norms = np.sqrt(np.asarray(Xt.multiply(Xt).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return (sp.diags(1.0 / norms) @ Xt + B.multiply(w_cue[None, :])).tocsr()

    def transform(self, texts: list[str], normalised: bool = False) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        B = self.binary(texts, normalised)
        return B, self.weighted(B)

    def feature_label(self, j: int) -> tuple[str, str, str]:
        """(kind, zh, en) of column j: kind is 'word', 'token', 'cue' or 'fragment'."""
        if j >= self.n_text:
            name = self.cue_names[j - self.n_text]
            zh, en, _ = CUES[name]
            return "cue", zh, en
        name = self.names[j]
        if name in EXPLAINABLE_TOKENS:
            zh, en = EXPLAINABLE_TOKENS[name]
            return "token", f"含{zh}", f"contains {en}"
        if self.words[j]:
            return "word", f"“{name}”", f'"{name}"'
        return "fragment", name, name
