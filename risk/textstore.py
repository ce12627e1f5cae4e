"""Stored text matches: what a rule set's signals found in each filing text, kept by the text's
hash and the signals' key (risk.engine.signals_key), so that re-tiering under rules whose
synonym lists did not change reads them instead of matching every text again (matching unique
texts was the largest cost of tiering answered filings; bench/README.md).

Matches are stored when a filing is tiered on submission and when a rule set is activated;
what-ifs and diffs read them but write nothing. A rule set's key changes with any phrase, so a
stale match is never read; rows of keys no active rule set uses are deleted at activation.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.risk.engine import CompiledRuleSet
from tierwatch.risk.models import RuleSetVersion, TextMatch
from tierwatch.risk.textmatch import SignalHit

Signals = dict[str, SignalHit] | None
_TABLE = TextMatch.__table__
_TEXT_FIELDS = ("name", "scenario", "description")


def text_hash(fields: Mapping[str, Any]) -> str:
    text = "\x1f".join(fields.get(name) or "" for name in _TEXT_FIELDS)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode(signals: Signals) -> dict[str, Any] | None:
    return {name: hit.as_dict() for name, hit in signals.items()} if signals else None


def decode(stored: Mapping[str, Any] | None) -> Signals:
    if not stored:
        return None
    return {name: SignalHit(tuple(hit["terms"]), hit["snippet"]) for name, hit in stored.items()}


class TextMatches:
    """The stored matches of one rule set's signals (all of them, or only those of `hashes`),
    read once; new ones collected to save."""

    def __init__(self, uow: UnitOfWork, compiled: CompiledRuleSet, hashes: Iterable[str] | None = None):
        self.compiled, self.key = compiled, compiled.signals_key
        self._known: dict[str, Signals] = {}
        self.new: dict[str, Signals] = {}
        if self.key is not None:
            stmt = sa.select(TextMatch.text_hash, TextMatch.matches).where(TextMatch.signals_key == self.key)
            if hashes is not None:
                stmt = stmt.where(TextMatch.text_hash.in_(list(hashes)))
            self._known = {h: decode(m) for h, m in uow.session.execute(stmt)}

    def attach(self, fields: Mapping[str, Any]) -> Mapping[str, Any]:
        """The filing with its text matches attached (stored ones, or matched now)."""
        if self.key is None or not all(isinstance(fields.get(n) or "", str) for n in _TEXT_FIELDS):
            return fields  # a mistyped text: the engine names the field in its own error
        h = text_hash(fields)
        if h in self._known:
            signals = self._known[h]
        else:
            signals = self._known[h] = self.new[h] = self.compiled.text_signals(fields)
        return self.compiled.with_text_signals(fields, signals)

    def save(self, uow: UnitOfWork) -> int:
        """Store the matches found now (the caller commits); returns how many."""
        if not self.new:
            return 0
        now = utcnow()
        rows = [{"signals_key": self.key, "text_hash": h, "matches": encode(s), "created_at": now}
                for h, s in self.new.items()]
        # Another transaction may store the same text meanwhile (two filings, one text): same
        # content by construction, so the second insert is skipped rather than failing.
        dialect = uow.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        for start in range(0, len(rows), 2000):
            uow.session.execute(insert(_TABLE).on_conflict_do_nothing(), rows[start:start + 2000])
        saved = len(rows)
        self.new = {}
        return saved


def prune(uow: UnitOfWork, keys_in_use: Iterable[str]) -> None:
    """Delete matches of signals no active rule set has (they can never be read again)."""
    keep = [k for k in keys_in_use if k]
    uow.session.execute(sa.delete(TextMatch).where(TextMatch.signals_key.not_in(keep)) if keep
                        else sa.delete(TextMatch))


def active_keys(uow: UnitOfWork, compiled_of: Any) -> list[str]:
    rows = uow.session.scalars(sa.select(RuleSetVersion).where(RuleSetVersion.status == "active"))
    return [k for k in (compiled_of(r).signals_key for r in rows) if k]
