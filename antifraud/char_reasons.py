"""Explanations of a score made by character n-grams (the TF-IDF + LR baseline's columns, served
alone): each n-gram's contribution is spread over the characters it covers; from the characters
that moved the score most, each is grown into the word it belongs to (a link, a run of Latin
letters or digits, or the longest word of jieba's dictionary covering it), the word's
contribution summed over its characters and occurrences, and the words with the largest totals
are the reasons. So a reason is what moved the score, named as a word a person
reads: never a bare character n-gram, a pronoun or particle, a punctuation mark, or a field.

Contributions are in log-odds of the calibrated score (n-gram weight x tf-idf value x Platt
slope); an n-gram occurring several times shares its contribution between its occurrences, and
the padding spaces of ``char_wb`` carry none (a space is not content).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from tierwatch.antifraud.char_grams import CharGrams, padded
from tierwatch.antifraud.content_features import EN_PRONOUNS, EXPLAINABLE_TOKENS, STOP
from tierwatch.antifraud.content_text import _URL, normalise
from tierwatch.antifraud.cues import CUES
from tierwatch.antifraud.results import Contribution


_HAN = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
_DIGITS = re.compile(r"^[\d\-]+$")
# English words too common to be a reason (pronouns are excluded by EN_PRONOUNS)
EN_FUNCTION_WORDS = frozenset("the and for are was were this that with from have has had been not but all can will "
                              "just than then there here into out about".split())
_HAN_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
MAX_WORD = 4  # the longest dictionary word looked for around a character



def char_reasons(chars: CharGrams, w: np.ndarray, texts: list[str], Xt: sp.csr_matrix, top_k: int = 5,
                 min_weight: float = 0.05, hits: tuple | None = None) -> list[list[Contribution]]:
    """Reasons per text; ``w``: each character column's weight in log-odds of the served score;
    ``hits``: the occurrences ``CharGrams.transform_hits`` counted (else found again)."""
    per_char, starts, texts_padded = _char_contributions(chars, texts, Xt.tocsr(), w, hits)
    out = []
    for d, text in enumerate(texts_padded):  # the lower-cased text, words apart by " \x00 "
        row = []
        for word, v in _word_totals(text, per_char[starts[d] : starts[d] + len(text)], 2 * top_k):
            if len(row) == top_k or abs(v) < min_weight:
                break
            named = name_word(word)
            if named is not None:
                row.append(Contribution(named[0], named[1], named[2], round(v, 4)))
        out.append(row)
    return out


def _word_totals(text: str, contribution: np.ndarray, peaks: int) -> list[tuple[str, float]]:
    """Up to ``peaks`` words around the characters that moved the score most, with their total
    contribution (all occurrences of the word), largest first. From each strongest character not yet taken,
    the word is the link it lies in, its run of Latin letters or digits, or the longest word of
    jieba's dictionary (up to ``MAX_WORD`` characters) covering it, else the character itself."""
    prefix = np.cumsum(contribution).tolist()
    links = [(m.start(), m.end()) for m in _URL.finditer(text)] if ("." in text or "/" in text) else []
    taken = bytearray(len(text))
    totals: dict[str, float] = {}
    order = np.argsort(np.abs(contribution))[::-1]
    for c in _first_then_rest(order, 48):
        if len(totals) == peaks or contribution[c] == 0.0:
            break
        if taken[c]:
            continue
        a, b = _word_at(text, c, links)
        word = text[a:b]
        if word in totals:
            taken[a:b] = b"\x01" * (b - a)
            continue
        total, at, n = 0.0, text.find(word), len(word)
        while at >= 0:
            total += prefix[at + n - 1] - (prefix[at - 1] if at else 0.0)
            taken[at : at + n] = b"\x01" * n
            at = text.find(word, at + n)
        totals[word] = total
    return sorted(totals.items(), key=lambda kv: -abs(kv[1]))


def _first_then_rest(order: np.ndarray, first: int):
    """The indices of ``order`` as ints: its head converted at once (most texts stop there)."""
    yield from order[:first].tolist()
    yield from order[first:].tolist()


def _word_at(text: str, c: int, links: list[tuple[int, int]]) -> tuple[int, int]:
    for a, b in links:
        if a <= c < b:
            return a, b
    ch = text[c]
    if ch.isascii() and ch.isalnum():
        a, b = c, c + 1
        while a > 0 and text[a - 1].isascii() and text[a - 1].isalnum():
            a -= 1
        while b < len(text) and text[b].isascii() and text[b].isalnum():
            b += 1
        return a, b
    if not _HAN_CHAR.match(ch):
        return c, c + 1
    words = _dictionary()
    n = len(text)
    for size in range(MAX_WORD, 1, -1):
        for a in range(max(0, c - size + 1), min(c, n - size) + 1):
            if text[a : a + size] in words:
                return a, a + size
    return c, c + 1


def _char_contributions(chars, texts: list[str], Xt: sp.csr_matrix, w: np.ndarray,
                        hits: tuple | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Contribution of every character of the padded batch (``char_grams.padded``: lower-cased,
    words apart by " \x00 "; padding carries none), each text's start in it, and the padded texts."""
    if hits is None:
        _, hits = chars.transform_hits(texts)
    doc, col, pos, size, cp = hits
    col = col.astype(np.int64)
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
    text = padded(texts)
    lengths = np.fromiter((len(t) + 1 for t in text), dtype=np.int64, count=len(text))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return per_char, starts, text


_WORDS: frozenset[str] | None = None


def _dictionary() -> frozenset[str]:
    """The words of jieba's dictionary of 2 to ``MAX_WORD`` characters, loaded once."""
    global _WORDS
    if _WORDS is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()  # FREQ also holds every word's prefixes, with frequency 0
        _WORDS = frozenset(w for w, f in tokenizer.FREQ.items() if f > 0 and 2 <= len(w) <= MAX_WORD)
    return _WORDS


@lru_cache(maxsize=65536)
def name_word(word: str) -> tuple[str, str, str] | None:
    """(feature, zh, en) of a word a reason may name, or None: Han words of two characters or
    more not made only of pronouns and particles, Latin words of three letters or more that are not pronouns, links
    and numbers of a kind a person recognises (a mobile or card number)."""
    w = word.strip()
    if not w:
        return None
    if _HAN.match(w):
        if len(w) < 2 or all(ch in STOP for ch in w):  # a lone character is not a word a person names
            return None
        zh, en = f"文本含有“{w}”", f'text contains "{w}"'
        cue = _cue_of(w)
        return f"word:{w}", *((f"{cue[0]}：{zh}", f"{cue[1]}: {en}") if cue else (zh, en))
    if w.isascii() and w.isalpha():
        if len(w) < 3 or w in EN_PRONOUNS or w in EN_FUNCTION_WORDS:
            return None
        cue = _cue_of(w)
        zh, en = f"文本含有“{w}”", f'text contains "{w}"'
        return f"word:{w}", *((f"{cue[0]}：{zh}", f"{cue[1]}: {en}") if cue else (zh, en))
    placeholder = normalise(w).strip()
    if placeholder in EXPLAINABLE_TOKENS and (placeholder in ("zzurl", "zzmail") or _DIGITS.match(w)):
        zh, en = EXPLAINABLE_TOKENS[placeholder]
        return f"token:{placeholder}", f"含{zh}", f"contains {en}"
    return None


@lru_cache(maxsize=65536)
def _cue_of(word: str) -> tuple[str, str] | None:
    """The first cue (in ``CUES`` order) with a phrase inside the word (a Latin phrase: the word)."""
    table = _phrase_cues()
    if word.isascii():
        k = table.get(word)
    else:
        found = [table[word[i:j]] for i in range(len(word)) for j in range(i + 1, len(word) + 1) if word[i:j] in table]
        k = min(found) if found else None
    if k is None:
        return None
    zh, en, _ = list(CUES.values())[k]
    return zh, en


@lru_cache(maxsize=1)
def _phrase_cues() -> dict[str, int]:
    table: dict[str, int] = {}
    for k, (_, _, phrases) in enumerate(CUES.values()):
        for phrase in phrases:
            table.setdefault(phrase, k)
    return table
