"""Report -> feature matrix, the same code at training and at scoring time.

Columns: selected text n-grams (binary presence, see text.py), then structured fields and
identifier reputation. The fitted state is a list of hash buckets with their display names and
the dense column names: plain JSON, nothing to unpickle.

Missing values are left out of the sparse matrix (XGBoost treats them as missing); a real zero,
such as "reported 0 times before", is stored explicitly so the two stay distinct.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import scipy.sparse as sp

from tierwatch.antifraud.reputation import ReputationSource, as_utc, identifier_keys
from tierwatch.antifraud.text import N_BUCKETS, HashedBatch, first_index, lookup_batch, ngram_text, unique
from tierwatch.antifraud.vocab import AI_TECHNIQUES, CHANNELS, PROVINCES, REPORTER_TYPES
from tierwatch.core.clock import utcnow

MAX_TEXT_CHARS = 4000
PARALLEL_MIN = 2000
REP_GROUPS = {
    "phone": "phone",
    "url": "web",
    "domain": "web",
    "app": "app",
    "payment_account": "payment",
    "bank_card": "payment",
    "alipay": "payment",
    "payment": "payment",
}  # every other kind (account, qq, wechat, email, telegram) counts as "account"
GROUPS = ("phone", "web", "account", "payment", "app")

DENSE = (
    [f"channel={c}" for c in CHANNELS]
    + [f"suspected={t}" for t in AI_TECHNIQUES]
    + [f"reporter={r}" for r in REPORTER_TYPES]
    + ["amount_lost_log10", "hour_local", "night", "province", "n_identifiers"]
    + [f"rep_{g}_count" for g in GROUPS]
    + ["rep_regions_max", "rep_span_days_max", "rep_days_since_last_min", "rep_known"]
)
_DENSE_INDEX = {name: i for i, name in enumerate(DENSE)}
_CHANNEL_COL = {c: _DENSE_INDEX[f"channel={c}"] for c in CHANNELS}
_TECH_COL = {t: _DENSE_INDEX[f"suspected={t}"] for t in AI_TECHNIQUES}
_REPORTER_COL = {r: _DENSE_INDEX[f"reporter={r}"] for r in REPORTER_TYPES}
_AMOUNT, _HOUR, _NIGHT = (_DENSE_INDEX[n] for n in ("amount_lost_log10", "hour_local", "night"))
_PROVINCE, _N_IDS, _REP = (_DENSE_INDEX[n] for n in ("province", "n_identifiers", "rep_phone_count"))
N_ONEHOT = len(CHANNELS) + len(AI_TECHNIQUES) + len(REPORTER_TYPES)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A report that passed validation, with its fields coerced to known types."""

    text: str
    channel: str | None
    amount_lost: float | None
    ai_technique: str | None  # the first of ai_techniques (kept for readers of one technique)
    province: int | None
    reported_at: datetime | None
    reporter_type: str | None
    identifiers: tuple[str, ...]
    notes: tuple[str, ...] = ()
    # Every technique the reporter named (a report may name a cloned voice and a chatbot).
    ai_techniques: tuple[str, ...] = ()


def prepare(report: Any) -> Prepared | str:
    """Validate one report. Returns a Prepared, or a rejection reason (never raises)."""
    if not isinstance(report, dict):
        return f"report must be a dict, got {type(report).__name__}"
    notes: list[str] = []
    text = report.get("text")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
        notes.append("text was bytes; decoded as UTF-8")
    if text is None:
        text = ""
    if not isinstance(text, str):
        return f"text must be a string, got {type(text).__name__}"
    if not text.strip():
        return "empty text: nothing to score"
    if len(text) > MAX_TEXT_CHARS:
        notes.append(f"text of {len(text)} characters truncated to the first {MAX_TEXT_CHARS}")
        text = text[:MAX_TEXT_CHARS]
    techniques = _techniques(report.get("ai_techniques"), report.get("ai_technique"), notes)
    return Prepared(
        text=text,
        channel=_code(report.get("channel"), CHANNELS, "channel", notes),
        amount_lost=_amount(report.get("amount_lost"), notes),
        ai_technique=techniques[0] if techniques else None,
        ai_techniques=techniques,
        province=_province(report.get("region")),
        reported_at=_when(report.get("reported_at"), notes),
        reporter_type=_code(report.get("reporter_type"), REPORTER_TYPES, "reporter_type", notes),
        identifiers=tuple(identifier_keys(report.get("identifiers"))),
        notes=tuple(notes),
    )


def _code(value: Any, allowed: Any, field: str, notes: list[str]) -> str | None:
    if value is None or (isinstance(value, str) and value in allowed):
        return value
    notes.append(f"unknown {field} {str(value)[:40]!r} ignored")
    return None


def _techniques(many: Any, one: Any, notes: list[str]) -> tuple[str, ...]:
    """``ai_techniques`` (a list) and the older single ``ai_technique``, known codes only, in
    the order given, each once."""
    given = list(many) if isinstance(many, (list, tuple)) else ([] if many is None else [many])
    if one is not None:
        given.append(one)
    out: list[str] = []
    for value in given:
        code = _code(value, AI_TECHNIQUES, "ai_technique", notes)
        if code is not None and code not in out:
            out.append(code)
    return tuple(out)


def _amount(value: Any, notes: list[str]) -> float | None:
    if value is None:
        return None
    try:
        amount = float(value)
    except (TypeError, ValueError):
        notes.append(f"amount_lost {str(value)[:40]!r} is not a number; ignored")
        return None
    if not math.isfinite(amount) or amount < 0:
        notes.append(f"amount_lost {amount} out of range; ignored")
        return None
    return amount


_PROVINCE_INDEX = {name: i for i, name in enumerate(PROVINCES)}


def _province(value: Any) -> int | None:
    """Index of the province a region starts with ("广东省深圳市" -> 广东); names are 2 or 3 long."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return _PROVINCE_INDEX.get(value[:2], _PROVINCE_INDEX.get(value[:3]))


def _when(value: Any, notes: list[str]) -> datetime | None:
    if value is None:
        return None
    when = as_utc(value)
    if when is None:
        notes.append(f"reported_at {str(value)[:40]!r} is not a date; ignored")
    return when


class Featurizer:
    """Selected n-gram buckets + the dense columns; ``to_json``/``from_json`` round-trip.

    A model keeps the dense columns it was trained with (``dense_names``), by name: a code
    version that adds a column (a new channel such as "in_person") still feeds an older model
    exactly its own columns, and a value the model never saw is simply absent for it."""

    def __init__(self, buckets: list[int], names: list[str], timezone: str = "Asia/Shanghai",
                 dense_names: list[str] | None = None):
        self.buckets = np.asarray(buckets, dtype=np.int64)
        self.names = list(names)
        self.timezone = timezone
        self.dense_names = list(DENSE if dense_names is None else dense_names)
        unknown = [n for n in self.dense_names if n not in _DENSE_INDEX]
        if unknown:
            raise ValueError(f"featurizer file does not match this code version: unknown columns {unknown[:5]}")
        # None: the model's columns are this code's, in this order (no selection needed).
        self._columns = None if self.dense_names == DENSE else np.array([_DENSE_INDEX[n] for n in self.dense_names])
        self._tz = ZoneInfo(timezone)
        self._table = np.full(N_BUCKETS, -1, dtype=np.int32)
        self._table[self.buckets] = np.arange(len(self.buckets), dtype=np.int32)

    @property
    def n_text(self) -> int:
        return len(self.buckets)

    @property
    def feature_names(self) -> list[str]:
        return [f"text:{n}" for n in self.names] + self.dense_names

    def to_json(self) -> dict:
        return {
            "kind": "report-featurizer/1",
            "timezone": self.timezone,
            "buckets": self.buckets.tolist(),
            "names": self.names,
            "dense": self.dense_names,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Featurizer":
        if data.get("kind") != "report-featurizer/1" or not isinstance(data.get("dense"), list):
            raise ValueError("featurizer file does not match this code version")
        return cls(data["buckets"], data["names"], data["timezone"], data["dense"])

    def transform(
        self, items: list[Prepared], reputation: ReputationSource | None = None, parallel: bool = True
    ) -> sp.csr_matrix:
        if parallel and len(items) >= 2 * PARALLEL_MIN:
            # numpy releases the GIL in the hashing, so two halves use both cores
            half = len(items) // 2
            with ThreadPoolExecutor(2) as pool:
                text = sp.vstack(list(pool.map(self._text, (items[:half], items[half:]))), format="csr")
        else:
            text = self._text(items)
        dense = self.dense(items, reputation)
        return sp.hstack([text, dense_to_csr(dense)], format="csr")

    def _text(self, items: list[Prepared]) -> sp.csr_matrix:
        return text_matrix(*lookup_batch([p.text for p in items], self._table), self.n_text, len(items))

    def dense(self, items: list[Prepared], reputation: ReputationSource | None) -> np.ndarray:
        """The model's dense columns (``dense_names``, in its order)."""
        out = self.all_dense(items, reputation)
        return out if self._columns is None else out[:, self._columns]

    def all_dense(self, items: list[Prepared], reputation: ReputationSource | None) -> np.ndarray:
        """Every dense column this code computes (``DENSE``), whatever the model uses."""
        out = np.full((len(items), len(DENSE)), np.nan)
        onehot = np.zeros((len(items), N_ONEHOT))
        for i, p in enumerate(items):
            if p.channel:
                onehot[i, _CHANNEL_COL[p.channel]] = 1.0
            for technique in p.ai_techniques or ((p.ai_technique,) if p.ai_technique else ()):
                onehot[i, _TECH_COL[technique]] = 1.0
            if p.reporter_type:
                onehot[i, _REPORTER_COL[p.reporter_type]] = 1.0
            row = out[i]
            if p.amount_lost is not None:
                row[_AMOUNT] = math.log10(1.0 + p.amount_lost)
            if p.reported_at is not None:
                hour = p.reported_at.astimezone(self._tz).hour
                row[_HOUR], row[_NIGHT] = hour, float(hour >= 22 or hour < 6)
            if p.province is not None:
                row[_PROVINCE] = p.province
            row[_N_IDS] = len(p.identifiers)
            if reputation is not None and p.identifiers:
                _reputation_row(row, p, reputation)
        out[:, :N_ONEHOT] = onehot
        return out


def _reputation_row(row: np.ndarray, p: Prepared, reputation: ReputationSource) -> None:
    before = p.reported_at or utcnow()
    stats = reputation.lookup(list(p.identifiers), before)
    counts = dict.fromkeys(GROUPS, 0.0)
    regions = span = known = 0.0
    since = math.nan
    for key, s in stats.items():
        group = REP_GROUPS.get(key.split(":", 1)[0], "account")
        # Independent reporters weighted by trust, not reports: one reporter's 50 reports count once.
        counts[group] = max(counts[group], float(s.weight))
        # regions is a count; a store that returns the set of regions is accepted too
        regions = max(regions, float(s.regions if isinstance(s.regions, (int, float)) else len(s.regions)))
        span = max(span, (s.last_seen - s.first_seen).total_seconds() / 86400)
        gap = (before - s.last_seen).total_seconds() / 86400
        since = gap if math.isnan(since) else min(since, gap)
        known += 1
    for j, g in enumerate(GROUPS):
        row[_REP + j] = counts[g]
    row[_REP + 5 : _REP + 9] = regions, span, since, known


def text_matrix(doc: np.ndarray, col: np.ndarray, n_cols: int, n_docs: int) -> sp.csr_matrix:
    """Binary presence of the selected n-grams: presence, not counts, so long texts are not
    favoured."""
    key = unique(doc * n_cols + col)
    data = np.ones(len(key), dtype=np.float32)
    indptr = np.searchsorted(key, np.arange(n_docs + 1, dtype=np.int64) * n_cols)
    return sp.csr_matrix((data, (key % n_cols).astype(np.int32), indptr), shape=(n_docs, n_cols))


def dense_to_csr(dense: np.ndarray) -> sp.csr_matrix:
    present = ~np.isnan(dense)
    indptr = np.concatenate(([0], np.cumsum(present.sum(axis=1))))
    cols = np.nonzero(present)[1].astype(np.int32)
    return sp.csr_matrix((dense[present].astype(np.float32), cols, indptr), shape=dense.shape)


def display_name(span: str) -> str:
    """A word bigram's span may hold punctuation or Chinese between the words: show the words."""
    words = re.findall(r"[A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+", span)
    if len(words) >= 2:
        return f"{words[0]} {words[-1]}".lower()
    return span.lower() if words else span


def bucket_names(batch: HashedBatch, buckets: np.ndarray) -> list[str]:
    """The first text seen for each selected bucket (collisions are rare at 2^22 buckets)."""
    wanted = np.full(N_BUCKETS, False)
    wanted[buckets] = True
    hits = np.flatnonzero(wanted[batch.bucket])
    first_bucket, first_idx = first_index(batch.bucket[hits])
    where = dict(zip(first_bucket.tolist(), hits[first_idx].tolist()))
    return [display_name(ngram_text(batch, where[b])) if b in where else "?" for b in buckets.tolist()]
