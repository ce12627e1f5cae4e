"""Explanations of a score made by character n-grams (the TF-IDF + LR baseline's columns, served
alone): each n-gram's contribution is spread over the characters it covers, the characters are
summed into the words of the text (jieba, links kept whole), and the words with the largest
contributions are the reasons. So a reason is what moved the score, named as a word a person
reads: never a bare character n-gram, a pronoun or particle, a punctuation mark, or a field.

Contributions are in log-odds of the calibrated score (n-gram weight x tf-idf value x Platt
slope); an n-gram occurring several times shares its contribution between its occurrences, and
the padding spaces of ``char_wb`` carry none (a space is not content).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from tierwatch.antifraud.char_grams import occurrences, padded
from tierwatch.antifraud.content_features import EN_PRONOUNS, EXPLAINABLE_TOKENS, STOP
from tierwatch.antifraud.content_text import _URL, normalise
from tierwatch.antifraud.cues import CUES
from tierwatch.antifraud.results import Contribution

if TYPE_CHECKING:  # pragma: no cover
    from tierwatch.antifraud.linear_model import LinearReportModel

_HAN = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
_DIGITS = re.compile(r"^[\d\-]+$")
WINDOW = 16  # characters segmented around the strongest character of a long clause
# a clause: a run of characters that are not white space or common punctuation
_CLAUSE = re.compile(r"[^\s,.!?;:'\"()\[\]<>{}~，。！？、；：“”‘’（）【】《》〈〉「」『』…～—]+")


def char_reasons(model: LinearReportModel, texts: list[str], Xt: sp.csr_matrix, top_k: int = 5,
                 min_weight: float = 0.05) -> list[list[Contribution]]:
    chars = model.chars
    assert chars is not None
    w = model._char_weights()[0] * model.platt[0]
    per_char, cp, starts = _char_contributions(chars, texts, Xt.tocsr(), w)
    out = []
    for d, text in enumerate(texts):
        stop = starts[d + 1] if d + 1 < len(texts) else len(cp)
        seg_cp, seg = cp[starts[d] : stop], per_char[starts[d] : stop]
        real = seg[(seg_cp != 0) & (seg_cp != 32)]
        low = text.lower()
        mask = np.fromiter((not ch.isspace() for ch in low), dtype=bool, count=len(low))
        if mask.sum() != len(real):  # a character the two views count differently: no reasons
            out.append([])
            continue
        on_text = np.zeros(len(low) + 1)
        on_text[1:][mask] = real
        prefix = np.cumsum(on_text)
        totals: dict[str, float] = {}
        for word, a, b in _words(low, prefix, top_k + 1):
            totals[word] = totals.get(word, 0.0) + float(prefix[b] - prefix[a])
        row = []
        for word, v in sorted(totals.items(), key=lambda kv: -abs(kv[1])):
            if len(row) == top_k or abs(v) < min_weight:
                break
            named = name_word(word)
            if named is not None:
                row.append(Contribution(named[0], named[1], named[2], round(v, 4)))
        out.append(row)
    return out


def _char_contributions(chars, texts: list[str], Xt: sp.csr_matrix, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contribution of every character of the padded batch, its code points and each text's start."""
    doc, key, pos, size, cp = occurrences(texts)
    col = chars.columns(key)
    hit = col >= 0
    doc, pos, size, col = doc[hit], pos[hit], size[hit], col[hit].astype(np.int64)
    m = chars.n_features
    cell, inverse, count = np.unique(doc * m + col, return_inverse=True, return_counts=True)
    coo = Xt.tocoo()
    have = coo.row.astype(np.int64) * m + coo.col
    order = np.argsort(have, kind="stable")
    at = np.searchsorted(have[order], cell)
    value = coo.data[order][np.minimum(at, len(order) - 1)] if len(order) else np.zeros(len(cell))
    contribution = value * w[cell % m]
    real = (cp != 0) & (cp != 32)
    covered = sum(real[np.minimum(pos + k, len(cp) - 1)] & (size > k) for k in range(3))
    share = contribution[inverse] / count[inverse] / np.maximum(covered, 1)
    per_char = np.zeros(len(cp))
    for k in range(3):
        at_k = pos + k
        ok = (size > k) & (at_k < len(cp))
        ok[ok] &= real[at_k[ok]]
        per_char += np.bincount(at_k[ok], weights=share[ok], minlength=len(cp))
    lengths = np.fromiter((len(t) + 1 for t in padded(texts)), dtype=np.int64, count=len(texts))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return per_char, cp, starts


def _words(text: str, prefix: np.ndarray, clauses: int) -> list[tuple[str, int, int]]:
    """(word, start, stop) in ``text``: each link one word; the rest as jieba cuts the
    ``clauses`` clauses (runs between punctuation) that moved the score most, a long clause only
    around its strongest character (``WINDOW``), so a long text costs the segmentation of a few
    short stretches, not of all of it."""
    out, spans = [], []
    last = 0
    for m in _URL.finditer(text):
        out.append((m.group(), m.start(), m.end()))
        spans += _clauses(text, last, m.start())
        last = m.end()
    spans += _clauses(text, last, len(text))
    spans.sort(key=lambda ab: -abs(prefix[ab[1]] - prefix[ab[0]]))
    cut = _segmenter()
    for a, b in spans[:clauses]:
        lo, hi = a, b
        if b - a > WINDOW:
            peak = a + int(np.argmax(np.abs(np.diff(prefix[a : b + 1]))))
            lo, hi = max(a, peak - WINDOW // 2), min(b, peak + WINDOW // 2)
        for word, i, j in cut.tokenize(text[lo:hi], HMM=False):
            if (i > 0 or lo == a) and (j < hi - lo or hi == b):  # a word cut by the window is not a word
                out.append((word, lo + i, lo + j))
    return out


def _clauses(text: str, start: int, stop: int) -> list[tuple[int, int]]:
    return [(start + m.start(), start + m.end()) for m in _CLAUSE.finditer(text[start:stop])]


_JIEBA = None


def _segmenter():
    global _JIEBA
    if _JIEBA is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        _JIEBA = jieba.Tokenizer()
    return _JIEBA


@lru_cache(maxsize=65536)
def name_word(word: str) -> tuple[str, str, str] | None:
    """(feature, zh, en) of a word a reason may name, or None: Han words not made only of
    pronouns and particles, Latin words of three letters or more that are not pronouns, links
    and numbers of a kind a person recognises (a mobile or card number)."""
    w = word.strip()
    if not w:
        return None
    if _HAN.match(w):
        if all(ch in STOP for ch in w):
            return None
        zh, en = f"文本含有“{w}”", f'text contains "{w}"'
        cue = _cue_of(w)
        return f"word:{w}", *((f"{cue[0]}：{zh}", f"{cue[1]}: {en}") if cue else (zh, en))
    if w.isascii() and w.isalpha():
        if len(w) < 3 or w in EN_PRONOUNS:
            return None
        cue = _cue_of(w)
        zh, en = f"文本含有“{w}”", f'text contains "{w}"'
        return f"word:{w}", *((f"{cue[0]}：{zh}", f"{cue[1]}: {en}") if cue else (zh, en))
    token = normalise(w).strip()
    if token in EXPLAINABLE_TOKENS and (token == "zzurl" or token == "zzmail" or _DIGITS.match(w)):
        zh, en = EXPLAINABLE_TOKENS[token]
        return f"token:{token}", f"含{zh}", f"contains {en}"
    return None


@lru_cache(maxsize=65536)
def _cue_of(word: str) -> tuple[str, str] | None:
    for zh, en, phrases in CUES.values():
        if any((ph in word) if not ph.isascii() else ph == word for ph in phrases):
            return zh, en
    return None
