"""Scoring behind one small protocol: the trained detector when one is active, else rules.

The worker only sees ``Scorer.score_batch``. ``RuleScorer`` is the interim scorer (keywords plus
identifier reputation) used when no trained model is active; ``DetectorScorer`` adapts
``antifraud.scoring.Detector``. Both return ``antifraud.results.Score`` and ask a ReputationSource
about each report's identifiers as of the report's time; a ``None`` in the result means "could
not score this one" and the report is stored unscored rather than lost. ``ActiveModelScorer`` is
what a worker runs: it follows the model store's active pointer without a restart.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from tierwatch.antifraud.model_store import ModelStore
from tierwatch.antifraud.reputation import ReputationSource
from tierwatch.antifraud.results import Contribution, Score
from tierwatch.antifraud.vocab import AI_TECHNIQUES, SCAM_TYPES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoringInput:
    report_id: str
    kind: str
    text: str
    channel: str | None
    amount_lost: float | None
    ai_technique: str | None
    region: str | None
    reported_at: datetime
    identifiers: tuple[str, ...]  # "kind:value"
    reporter_type: str | None = None
    ai_techniques: tuple[str, ...] = ()  # every technique named (ai_technique is the first)


class Scorer(Protocol):
    @property
    def version(self) -> str: ...

    def score_batch(self, reports: Sequence[ScoringInput], reputation: ReputationSource) -> list[Score | None]: ...


# scam type (antifraud.vocab.SCAM_TYPES) -> (weight, keywords)
_KEYWORDS: dict[str, tuple[float, tuple[str, ...]]] = {
    "impersonate_authority": (1.6, ("公安", "警官", "检察院", "法院", "通缉", "洗钱", "安全账户", "逮捕", "涉嫌", "冻结")),
    "loan_credit": (1.2, ("贷款", "额度", "征信", "解冻", "保证金", "放款", "无抵押", "利息", "网贷", "手续费")),
    "fake_customer_service": (1.3, ("客服", "退款", "理赔", "快递丢失", "注销", "百万保障", "会员", "扣费", "赔偿")),
    "impersonate_acquaintance": (1.2, ("领导", "老板", "同学", "急用", "借钱", "换号", "亲戚", "老同学")),
    "investment": (1.2, ("投资", "理财", "高回报", "稳赚", "导师", "收益", "虚拟币", "炒股", "内幕")),
    "task_rebate": (1.3, ("刷单", "返利", "点赞", "做任务", "佣金", "垫付", "兼职")),
    "phishing": (1.2, ("链接", "网址", "点击", "登录", "认证", "失效")),
}
_AI_WORDS = ("换脸", "视频通话", "声音", "AI", "克隆", "合成", "一模一样", "深度伪造")
_ACTION_WORDS = ("转账", "汇款", "验证码", "屏幕共享", "下载", "链接", "银行卡", "密码", "共享屏幕")
_AI_TECHNIQUES = {"cloned_voice", "face_swap_video", "chatbot", "generated_media"}


class RuleScorer:
    """Interim scorer: keyword evidence plus reputation, squashed to a probability.

    Not calibrated; good enough to rank reports until the trained detector is active.
    """

    version = "rules-v1"

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold

    def score_batch(self, reports: Sequence[ScoringInput], reputation: ReputationSource) -> list[Score | None]:
        return [self._score(r, reputation) for r in reports]

    def _score(self, report: ScoringInput, reputation: ReputationSource) -> Score:
        if report.kind != "scam":
            return _not_scam_scored(self.version)
        text = report.text
        logit, reasons, best, best_type = -2.0, [], 0.0, None
        for scam_type, (weight, words) in _KEYWORDS.items():
            hits = [w for w in words if w in text]
            if hits:
                gain = weight * min(len(hits), 3) / 2
                logit += gain
                shown = "、".join(hits[:3])
                reasons.append(Contribution(f"words:{scam_type}", f"{SCAM_TYPES[scam_type][0]}用语：{shown}",
                                            f"{scam_type}: {shown}", gain))
                if gain > best:
                    best, best_type = gain, scam_type
        actions = [w for w in _ACTION_WORDS if w in text]
        if actions:
            gain = 0.5 * min(len(actions), 3)
            logit += gain
            shown = "、".join(actions[:3])
            reasons.append(Contribution("words:action", f"要求操作：{shown}", f"asks to act: {shown}", gain))
        ai_words = [w for w in _AI_WORDS if w in text]
        if ai_words:
            logit += 0.8
            shown = "、".join(ai_words[:3])
            reasons.append(Contribution("words:ai", f"提到 AI 手段：{shown}", f"AI wording: {shown}", 0.8))
        named = [t for t in (report.ai_techniques or (report.ai_technique,)) if t in _AI_TECHNIQUES]
        if named:
            # One bonus however many are named: several techniques are no stronger evidence of a
            # scam than one, and the keyword part already rewards the words.
            logit += 1.0
            reasons.append(Contribution("ai_technique=" + "+".join(named),
                                        "举报人指出 AI 手段：" + "、".join(AI_TECHNIQUES[t][0] for t in named),
                                        "AI technique reported: " + ", ".join(named), 1.0))
        if report.amount_lost:
            gain = 0.5 + min(math.log10(1 + report.amount_lost) / 4, 1.0)
            logit += gain
            reasons.append(Contribution("amount_lost", f"损失金额：{report.amount_lost:.0f}",
                                        f"money lost: {report.amount_lost:.0f}", gain))
        known = reputation.lookup(list(report.identifiers), report.reported_at) if report.identifiers else {}
        seen = sorted(known.items())
        if seen:
            # Trust-weighted independent reporters (antifraud.trust), not reports: one reporter's
            # many reports count once, an anonymous one a quarter of a verified partner's.
            key, stats = max(seen, key=lambda kv: kv[1].weight)
            gain = min(math.log2(1 + stats.weight), 4.0)
            logit += gain
            reasons.append(Contribution(
                f"reputation:{key}", f"{key} 此前被举报 {stats.count} 次（按可信度折算 {stats.weight:g} 位举报人）",
                f"{key} reported {stats.count} times before (worth {stats.weight:g} reporters by trust)", gain))
        probability = 1 / (1 + math.exp(-logit))
        return Score(round(probability, 4), probability >= self.threshold, best_type or "other", None, None,
                     reasons, self.version)


def _not_scam_scored(version: str) -> Score:
    return Score(0.0, False, None, None, None,
                 [Contribution("kind", "事故报告：不做诈骗评分", "incident report: not scored as a scam", 0.0)], version)


class DetectorScorer:
    """Adapter for ``antifraud.scoring.Detector``: its Rejected -> None; incidents are not sent."""

    def __init__(self, detector: Any):
        self.detector = detector
        self.version = str(detector.version or "detector")

    def score_batch(self, reports: Sequence[ScoringInput], reputation: ReputationSource) -> list[Score | None]:
        out: list[Score | None] = []
        scam = [r for r in reports if r.kind == "scam"]
        results = iter(self.detector.score_batch([_detector_input(r) for r in scam], reputation) if scam else [])
        for report in reports:
            if report.kind != "scam":
                out.append(_not_scam_scored(self.version))
                continue
            result = next(results)
            if not isinstance(result, Score):  # Rejected(reason)
                out.append(None)
                continue
            # stored rounded, as the rules' scores are
            out.append(replace(result, scam_probability=round(float(result.scam_probability), 4)))
        return out


def _detector_input(report: ScoringInput) -> dict[str, Any]:
    identifiers: dict[str, list[str]] = {}
    for key in report.identifiers:
        kind, _, value = key.partition(":")
        identifiers.setdefault(kind, []).append(value)
    return {
        "text": report.text,
        "channel": report.channel,
        "amount_lost": report.amount_lost,
        "ai_technique": report.ai_technique,
        "ai_techniques": list(report.ai_techniques),
        "region": report.region,
        "reported_at": report.reported_at,
        "reporter_type": report.reporter_type,
        "identifiers": identifiers,
    }


def load_scorer(models_dir: Path | None) -> Scorer:
    """The active trained detector if there is one, else the rule scorer."""
    if models_dir is not None and models_dir.is_dir():
        from tierwatch.antifraud.scoring import Detector

        detector = Detector.load_active(models_dir)
        if detector is not None:
            return DetectorScorer(detector)
    return RuleScorer()


class ActiveModelScorer:
    """Scores with whatever model the store says is active, so ``tierwatch model activate``
    reaches a running worker without a restart.

    The store's active pointers are re-read at most every ``check_every`` seconds (as the
    linker's registry snapshot is), at the start of a batch; when they moved, the new model is
    loaded and scores from that batch on. A model that fails to load is logged and the current
    one kept, so a bad activation never stops intake. The rules score while none is active.
    """

    def __init__(self, models_dir: Path, check_every: float = 60.0):
        self.models_dir = Path(models_dir)
        self.check_every = check_every
        self._pointers = self._read_pointers()
        self._current = load_scorer(self.models_dir)
        self._checked_at = time.monotonic()

    @property
    def version(self) -> str:
        return self._current.version

    def score_batch(self, reports: Sequence[ScoringInput], reputation: ReputationSource) -> list[Score | None]:
        self._refresh()
        return self._current.score_batch(reports, reputation)

    def _read_pointers(self) -> tuple[str | None, str | None]:
        store = ModelStore(self.models_dir)
        return store.active("report"), store.active("incident")

    def _refresh(self) -> None:
        if time.monotonic() - self._checked_at < self.check_every:
            return
        self._checked_at = time.monotonic()
        try:
            pointers = self._read_pointers()
            if pointers == self._pointers:
                return
            scorer = load_scorer(self.models_dir)
        except Exception:  # noqa: BLE001 - keep scoring with the model we have
            log.exception("the active model changed in %s but cannot be loaded; still scoring with %s",
                          self.models_dir, self.version)
            return
        log.info("active model changed: scoring with %s (was %s)", scorer.version, self.version)
        self._current, self._pointers = scorer, pointers
