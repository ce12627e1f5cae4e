"""Text signals: does a filing's free text speak of a practice a rule file names?

A rule file lists, per practice, phrases in Chinese and English (`signals:`). A signal matches
when one of its phrases occurs in the text, or when every one of its term groups occurs in the
same sentence ("人脸" and "爬取" and "互联网"). Signals never decide a tier on their own: the
engine uses them only to raise a tier a question left unanswered, or to flag a filing whose
answers the text contradicts (risk.engine).

Matching is exact and fast: one Aho-Corasick automaton (ahocorasick-rs) per rule set finds every
phrase in one pass over the lower-cased text. Latin phrases must start on a word boundary and
end on one unless they end in "*" ("scrap*" matches scraping, scraped); a hyphen counts as a
space, so "real-time" also finds "real time". Chinese phrases are substrings: Chinese has no
spaces, and a missed match (a paraphrase slipping through) costs more here than a false one (a
reviewer dismisses a flag).

A mention inside a negated clause ("本系统不进行社会评分", "does not use live identification")
does not count. Whether a Chinese clause is negated needs words, not characters: 不良, 不仅,
未来, 无人机 and 非常 contain negation characters but negate nothing. So a clause before a hit
is segmented with jieba, only when it contains one of those characters (segmenting is ~1.5 µs
per character; most clauses never need it). Entry points load jieba's dictionary at start-up
(`load_segmenter`).
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, NamedTuple

import ahocorasick_rs

NEGATION_ZH = frozenset({
    "不", "未", "无", "非", "没", "没有", "并非", "并不", "不会", "不得", "不是", "不能", "不再", "不用",
    "不涉及", "不包括", "不含", "不做", "不作", "不进行", "不使用", "不采用", "不提供", "从不", "从未",
    "绝不", "无需", "禁止", "严禁", "未曾", "尚未", "不具备", "不具有", "无法",
})
NEGATION_EN = frozenset({"not", "no", "never", "without", "neither", "nor", "none", "cannot", "non",
                         "don't", "doesn't", "isn't", "aren't", "won't", "excluding", "excludes"})
_NOT_NEGATING_EN = frozenset({"only", "just", "merely", "solely", "limited"})  # "not only ... but"
_NEGATION_CHARS = frozenset("不未无非没禁绝严尚从")
# Where a negation stops reaching: clause punctuation and contrast words ("而是", "but").
_CLAUSE_BREAK = re.compile(r"[，,、；;：:。！？!?.\n\r\t（）()\[\]【】]|而是|但是|但|然而|却|but |however|whereas|while ")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?:\s|$)")
_LATIN_TOKEN = re.compile(r"[a-z0-9']+")
_LATIN_NEGATION = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, NEGATION_EN))) + r")\b")
_SPAN = 40  # how far back a negation is looked for, in characters
CACHE_SIZE = 65_536
_SHORT = 24  # characters
_MISS = object()


class SignalHit(NamedTuple):
    """Evidence that a signal matched: the phrases found and the sentence they were found in."""

    terms: tuple[str, ...]
    snippet: str

    def as_dict(self) -> dict[str, Any]:
        return {"terms": list(self.terms), "snippet": self.snippet}


@dataclass(frozen=True)
class SignalSpec:
    """What a rule file says about one signal: single phrases, and/or groups all needed in one sentence."""

    name: str
    phrases: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...] = ()


def normalise(text: str) -> str:
    return text.lower().replace("-", " ").replace("_", " ")


def _is_latin(term: str) -> bool:
    return term.isascii()


def _word_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "'")


class Lexicon:
    """All signals of one rule set, compiled into one automaton."""

    def __init__(self, signals: Iterable[SignalSpec]):
        self.signals = tuple(signals)
        self.names = tuple(s.name for s in self.signals)
        self._group_counts = tuple(len(s.groups) for s in self.signals)
        entries: dict[str, list[tuple[int, int, bool, bool, str]]] = {}
        for sig_index, spec in enumerate(self.signals):
            alternatives = [(-1, spec.phrases)] + list(enumerate(spec.groups))
            for group, terms in alternatives:
                for raw in terms:
                    prefix = raw.endswith("*")
                    term = normalise(raw.rstrip("*")).strip()
                    if not term:
                        continue
                    entries.setdefault(term, []).append((sig_index, group, prefix, _is_latin(term), raw))
        # One automaton over every phrase (ahocorasick-rs: Rust, overlapping matches, character
        # offsets); per phrase what it counts for.
        self._terms = list(entries)
        self._values = []
        for term in self._terms:
            found = entries[term]
            phrase_signals = frozenset(sig for sig, group, *_rest in found if group < 0)
            group_keys = tuple({(sig, group) for sig, group, *_rest in found if group >= 0})
            self._values.append((tuple(found), phrase_signals, group_keys))
        # Field text -> signals, bounded: registries repeat texts (a Dutch purpose statement shared
        # by many municipalities, the same scenario filed by several apps of one provider).
        self._cache: dict[str, dict[str, SignalHit] | None] = {}
        self._unmatched: set[str] = set()  # short texts without a match
        self.empty = not entries
        self._find = None if self.empty else ahocorasick_rs.AhoCorasick(
            self._terms, matchkind=ahocorasick_rs.MatchKind.Standard).find_matches_as_indexes

    def match(self, *texts: str) -> dict[str, SignalHit] | None:
        """Signal name -> evidence, for every signal the texts affirm; None when none does.
        Each text (name, scenario, description) is read on its own: term groups must meet in
        one sentence of one text."""
        if self.empty:
            return None
        out = None
        cache, unmatched = self._cache, self._unmatched
        for field_text in texts:
            if not field_text or field_text in unmatched:
                continue
            found = cache.get(field_text, _MISS)
            if found is _MISS:
                if len(field_text) <= _SHORT:
                    # A name or a short scenario: matched whole (sentences are still told apart
                    # inside), without splitting it first.
                    found = self._match_one(field_text)
                    if found is None:
                        # Names are mostly unique: remembered apart, so they never push the
                        # shared sentences out of the main cache.
                        if len(unmatched) >= CACHE_SIZE:
                            unmatched.clear()
                        unmatched.add(field_text)
                        continue
                    if len(cache) >= CACHE_SIZE:
                        cache.clear()
                    cache[field_text] = found
                else:
                    found = self._match_field(field_text)
            if found and found is not out:  # (a description repeating the scenario is one text)
                out = found if out is None else {**found, **out}  # the first text's evidence wins
        return out

    def _match_field(self, field_text: str) -> dict[str, SignalHit] | None:
        """Sentence by sentence: term groups must meet in one sentence anyway, and sentences
        repeat across filings far more often than whole descriptions do. Both the field and
        its sentences are remembered."""
        cache = self._cache
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        out = None
        sentences = _sentences(field_text)
        for sentence in sentences:
            found = cache.get(sentence, _MISS)
            if found is _MISS:
                found = cache[sentence] = self._match_one(sentence)
            if found:
                out = found if out is None else {**found, **out}  # the first sentence's evidence wins
        if len(sentences) > 1:
            cache[field_text] = out
        return out

    def _match_one(self, original: str) -> dict[str, SignalHit] | None:
        text = original.lower().replace("-", " ").replace("_", " ")
        matches = self._find(text, overlapping=True)
        if not matches:
            return None
        values = self._values
        hits = []
        candidates: set[int] = set()
        groups: set[tuple[int, int]] = set()
        phrase_hits = 0
        for index, start, end in matches:
            found, phrase_signals, group_keys = values[index]
            hits.append((start, end, found))
            if phrase_signals:
                candidates |= phrase_signals
                phrase_hits += 1
            groups.update(group_keys)
        # Cheap first: a signal can only match if a phrase of it, or every one of its term
        # groups, was seen somewhere (before boundaries, negation and sentences are checked).
        if groups:
            counts: dict[int, int] = {}
            for sig, _group in groups:
                counts[sig] = counts.get(sig, 0) + 1
            candidates |= {sig for sig, n in counts.items() if n == self._group_counts[sig]}
        if not candidates:
            return None
        # Snippets quote the filer's own text where lower-casing kept every position.
        shown = original if len(original) == len(text) else text
        if text.isascii() or _SENTENCE_END.search(text) or not _NEGATION_CHARS.isdisjoint(text):
            return self._verify(text, shown, hits, candidates, phrase_hits > 1)
        # One Chinese sentence with no negation in it: every candidate stands as found, unless
        # it rests on a Latin term (whose word boundaries need checking).
        if phrase_hits > 1:
            hits = _drop_contained(hits)
        terms: dict[int, dict[str, None]] = {}
        for _start, _end, found in hits:
            for sig_index, _group, _prefix, latin, raw in found:
                if sig_index in candidates:
                    if latin:
                        return self._verify(text, shown, hits, candidates, False)
                    terms.setdefault(sig_index, {})[raw] = None
        snippet = _trim(shown.strip())
        return {self.names[i]: SignalHit(tuple(t), snippet) for i, t in terms.items()} or None

    def _verify(self, text: str, shown: str, hits: list[tuple[int, int, tuple[Any, ...]]],
                candidates: set[int], overlapping_phrases: bool = True) -> dict[str, SignalHit] | None:
        if overlapping_phrases:
            hits = _drop_contained(hits)
        sentence_ends = [m.end() for m in _SENTENCE_END.finditer(text)]
        may_negate = not _NEGATION_CHARS.isdisjoint(text) or _LATIN_NEGATION.search(text) is not None
        phrase_hits: dict[int, list[tuple[int, str]]] = {}
        group_hits: dict[tuple[int, int], dict[int, list[str]]] = {}  # (signal, sentence) -> group -> terms
        negation_cache: dict[int, bool] = {}
        for start, end, found in hits:
            for sig_index, group, prefix, latin, raw in found:
                if sig_index not in candidates:
                    continue
                if latin and not _latin_boundaries(text, start, end, prefix):
                    continue
                if may_negate:
                    negated = negation_cache.get(start)
                    if negated is None:
                        negated = negation_cache[start] = _negated(text, start)
                    if negated:
                        continue
                sentence = bisect_right(sentence_ends, start)
                if group < 0:
                    phrase_hits.setdefault(sig_index, []).append((sentence, raw))
                else:
                    group_hits.setdefault((sig_index, sentence), {}).setdefault(group, []).append(raw)
        out: dict[str, SignalHit] = {}
        for sig_index, found_terms in phrase_hits.items():
            sentence = found_terms[0][0]
            out[self.names[sig_index]] = SignalHit(tuple(dict.fromkeys(t for _s, t in found_terms)),
                                                   _snippet(shown, sentence_ends, sentence))
        for (sig_index, sentence), groups in group_hits.items():
            name = self.names[sig_index]
            if name in out or len(groups) < self._group_counts[sig_index]:
                continue
            terms = tuple(dict.fromkeys(t for g in sorted(groups) for t in groups[g]))
            out[name] = SignalHit(terms, _snippet(shown, sentence_ends, sentence))
        return out or None


def _sentences(text: str) -> list[str]:
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if not ends or ends == [len(text)]:
        return [text]
    starts = [0] + ends
    if ends[-1] != len(text):
        ends.append(len(text))
    return [text[a:b] for a, b in zip(starts, ends) if text[a:b].strip()]


def _drop_contained(hits: list[tuple[int, int, tuple[Any, ...]]]) -> list[tuple[int, int, tuple[Any, ...]]]:
    """A phrase inside a longer phrase of another signal, found at the same place, is not a
    finding of its own: 信用评分 inside 社会信用评分 is social scoring, not credit scoring.
    Group terms are kept (人脸 inside 人脸识别 still counts for the face-scraping signal)."""
    phrases = [(start, end, {e[0] for e in found if e[1] < 0}) for start, end, found in hits]
    if sum(1 for p in phrases if p[2]) < 2:
        return hits
    out = []
    for start, end, found in hits:
        outer = set()
        for s, e, signals in phrases:
            if s <= start and end <= e and (s, e) != (start, end):
                outer |= signals
        if outer:
            found = tuple(x for x in found if x[1] >= 0 or x[0] in outer or not outer - {x[0]})
        if found:
            out.append((start, end, found))
    return out


def _latin_boundaries(text: str, start: int, end: int, prefix: bool) -> bool:
    if start > 0 and _word_char(text[start - 1]):
        return False
    return prefix or end >= len(text) or not _word_char(text[end])


def _clause_before(text: str, start: int) -> str:
    window = text[max(0, start - _SPAN):start]
    last = None
    for last in _CLAUSE_BREAK.finditer(window):
        pass
    return window[last.end():] if last is not None else window


def _negated(text: str, start: int) -> bool:
    clause = _clause_before(text, start)
    if not clause:
        return False
    tokens = _LATIN_TOKEN.findall(clause)
    for i, token in enumerate(tokens[-5:], start=max(0, len(tokens) - 5)):
        if token in NEGATION_EN and not (i + 1 < len(tokens) and tokens[i + 1] in _NOT_NEGATING_EN):
            return True
    if _NEGATION_CHARS.isdisjoint(clause):
        return False
    return any(token in NEGATION_ZH for token in _segment(clause))


@lru_cache(maxsize=8192)
def _segment(clause: str) -> tuple[str, ...]:
    return tuple(_tokenizer().lcut(clause, HMM=False))


def load_segmenter() -> None:
    """Load jieba's dictionary now (~0.6 s, cached in the temp dir): entry points that tier
    filings (the worker, `tierwatch serve`, the rules CLI) call it at start-up, so no request
    pays for it on the first negated Chinese clause it meets."""
    _tokenizer()


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces its dictionary cache on stderr otherwise
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def _snippet(text: str, sentence_ends: list[int], sentence: int) -> str:
    begin = sentence_ends[sentence - 1] if sentence > 0 else 0
    end = sentence_ends[sentence] if sentence < len(sentence_ends) else len(text)
    return _trim(text[begin:end].strip())


def _trim(snippet: str) -> str:
    return snippet if len(snippet) <= 120 else snippet[:117] + "..."
