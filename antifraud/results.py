"""What scoring returns: a ``Score`` per report, an ``IncidentSeverity`` per incident, or a
``Rejected`` item in its place, with the ``Contribution`` lines that explain them.

One ``Score`` for every scorer: the trained detector (``antifraud.scoring``) and the interim
rules (``monitoring.scoring``) both return it, and the worker stores it. Plain data, no numpy or
XGBoost here, so the worker and the web app can use the types without loading a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Contribution:
    """One piece of evidence: a feature, what it means in Chinese and English, and its signed
    weight in log-odds (positive pushes towards "scam")."""

    feature: str
    label_zh: str
    label_en: str
    weight: float


@dataclass(frozen=True, slots=True)
class Score:
    scam_probability: float
    is_scam: bool
    scam_type: str | None  # None: not judged (an incident report)
    scam_type_probability: float | None  # None: the scorer does not estimate it (the rules)
    ai_technique: str | None  # None: the scorer does not judge it (the rules)
    explanation: list[Contribution]
    model_version: str
    notes: tuple[str, ...] = ()  # fields ignored or truncated on the way in

    @property
    def reasons(self) -> list[str]:
        """The explanation as stored with a report, one readable line each, Chinese first:
        文本含有“转账” / text contains "转账" (+0.81)."""
        return [f"{c.label_zh} / {c.label_en} ({c.weight:+.2f})" for c in self.explanation[:10]]


@dataclass(frozen=True)
class IncidentSeverity:
    severity: str
    probability: float
    probabilities: dict[str, float]
    explanation: list[Contribution]
    model_version: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """An item that could not be scored, and why (the worker can dead-letter it)."""

    reason: str
    model_version: str = ""
    notes: tuple[str, ...] = field(default=())
