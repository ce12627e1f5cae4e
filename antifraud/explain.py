"""Per-report explanations: XGBoost's own feature contributions, put into plain words.

The contributions are in log-odds: positive pushes towards "scam", negative away from it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp
import xgboost as xgb

from tierwatch.antifraud.results import Contribution
from tierwatch.antifraud.vocab import (
    AI_TECHNIQUES,
    APP_TIERS,
    CHANNELS,
    INCIDENT_TYPES,
    PROVINCES,
    REPORTER_TYPES,
)

GROUP_WORDS = {
    "phone": ("电话号码", "phone number"),
    "web": ("网址/域名", "URL or domain"),
    "account": ("社交账号", "account"),
    "payment": ("收款账户", "payment account"),
    "app": ("应用", "app"),
}


def contributions(booster: xgb.Booster, X: sp.csr_matrix, chunk: int = 512, threads: int | None = None) -> np.ndarray:
    """Log-odds contributions from XGBoost itself, bias column dropped: (n, features), or
    (n, classes, features) for a multi-class booster. Saabas approximation."""
    from tierwatch.antifraud.heads import set_threads

    threads = set_threads(booster, threads, X.shape[0]) or 1
    out = []
    for start in range(0, X.shape[0], chunk):
        part = xgb.DMatrix(X[start : start + chunk], nthread=threads)
        out.append(booster.predict(part, pred_contribs=True, approx_contribs=True)[..., :-1])
    return np.concatenate(out) if out else np.zeros((0, X.shape[1]))


def top_contributions(
    contrib: np.ndarray, X: sp.csr_matrix, names: list[str], k: int = 5, min_weight: float = 0.02
) -> list[list[Contribution]]:
    """Per row, the k largest contributions by size (at least ``min_weight``), described with the
    row's stored values; the selection runs once over the whole matrix (per-row numpy calls
    were a third of a report's scoring time)."""
    n, width = contrib.shape
    if n == 0:
        return []
    size = np.abs(contrib)
    picked = np.argpartition(-size, min(k, width - 1), axis=1)[:, :k]
    order = np.take_along_axis(picked, np.argsort(-np.take_along_axis(size, picked, axis=1), axis=1), axis=1)
    weights = np.take_along_axis(contrib, order, axis=1).tolist()
    # The picked cells' stored values (None where the row has no entry), read in one go.
    per_row = order.shape[1]
    rows, columns = np.repeat(np.arange(n), per_row), order.ravel()
    stored = sp.csr_matrix((np.ones_like(X.data), X.indices, X.indptr), shape=X.shape)
    values = np.asarray(X[rows, columns]).ravel().tolist()
    present = (np.asarray(stored[rows, columns]).ravel() > 0).tolist()
    out = []
    for row, (row_columns, row_weights) in enumerate(zip(order.tolist(), weights)):
        described = []
        for i, (j, weight) in enumerate(zip(row_columns, row_weights)):
            if abs(weight) < min_weight:
                break
            cell = row * per_row + i
            zh, en = describe(names[j], values[cell] if present[cell] else None)
            described.append(Contribution(names[j], zh, en, round(weight, 4)))
        out.append(described)
    return out


@lru_cache(maxsize=1 << 16)  # a report's reasons repeat the same few hundred phrases
def describe(name: str, value: float | None) -> tuple[str, str]:
    """Plain zh / en words for one feature and its value (None: not given or absent)."""
    if name.startswith("text:"):
        gram = name[5:]
        if value:
            return f"文本含有“{gram}”", f'text contains "{gram}"'
        return f"文本没有“{gram}”", f'text lacks "{gram}"'
    key, _, code = name.partition("=")
    if code:
        return _describe_code(key, code, bool(value))
    return _describe_number(name, value)


def _describe_code(key: str, code: str, on: bool) -> tuple[str, str]:
    vocab = {"channel": CHANNELS, "suspected": AI_TECHNIQUES, "reporter": REPORTER_TYPES, "type": INCIDENT_TYPES, "tier": APP_TIERS}[key]
    zh, en = vocab[code]
    if key == "channel":
        return (f"举报渠道为{zh}", f"reported via {en}") if on else (f"举报渠道不是{zh}", f"not reported via {en}")
    if key == "suspected" and code == "none":
        return ("举报人认为没有 AI 手段", "reporter saw no AI technique") if on else ("举报人未排除 AI 手段", "reporter did not rule out AI")
    if key == "suspected":
        return (f"举报人怀疑{zh}", f"reporter suspects {en}") if on else (f"举报人未提到{zh}", f"reporter did not mention {en}")
    if key == "reporter":
        return (f"来源为{zh}", f"source: {en}") if on else (f"来源不是{zh}", f"source is not {en}")
    if key == "type":
        return (f"事件类型为{zh}", f"incident type: {en}") if on else (f"事件类型不是{zh}", f"incident type is not {en}")
    return (f"应用为{zh}", f"application tier: {en}") if on else (f"应用不是{zh}", f"application tier is not {en}")


def _describe_number(name: str, v: float | None) -> tuple[str, str]:
    if name.startswith("rep_") and name.endswith("_count"):
        zh, en = GROUP_WORDS[name[4:-6]]
        if v is None:
            return f"没有可查的{zh}举报记录", f"no report history for a {en}"
        if v == 0:
            return f"该{zh}此前未被举报", f"this {en} was never reported before"
        # The value is independent reporters weighted by trust (antifraud.trust), not reports.
        return (f"该{zh}此前被 {v:g} 位举报人举报（按可信度折算）",
                f"this {en} was reported before by {v:g} reporters (weighted by trust)")
    if v is None:
        return _MISSING.get(name, (f"{name} 未知", f"{name} unknown"))
    if name in ("amount_lost_log10", "affected_users_log10"):
        n = 10**v - 1
        if name == "affected_users_log10":
            return f"影响约 {n:,.0f} 名用户", f"about {n:,.0f} users affected"
        return f"报告损失约 {n:,.0f} 元", f"reported loss about CNY {n:,.0f}"
    words = _NUMBER_WORDS.get(name)
    return words(v) if words else (f"{name} = {v:g}", f"{name} = {v:g}")


_NUMBER_WORDS = {
    "hour_local": lambda v: (f"举报时间为当地 {v:.0f} 点", f"reported at {v:.0f}:00 local time"),
    "night": lambda v: ("夜间举报", "reported at night") if v else ("白天举报", "reported in the daytime"),
    "province": lambda v: (f"地区：{PROVINCES[int(v)]}", f"region: {PROVINCES[int(v)]}"),
    "n_identifiers": lambda v: (f"附带 {v:.0f} 个联系标识（电话、网址、账号）", f"{v:.0f} identifier(s) given (phone, URL, account)"),
    "rep_regions_max": lambda v: (f"此前的举报来自 {v:.0f} 个地区", f"earlier reports came from {v:.0f} regions"),
    "rep_span_days_max": lambda v: (f"此前的举报跨越 {v:.0f} 天", f"earlier reports span {v:.0f} days"),
    "rep_days_since_last_min": lambda v: (f"距上次被举报 {v:.1f} 天", f"last reported {v:.1f} days ago"),
    "rep_known": lambda v: (f"{v:.0f} 个标识此前被举报过", f"{v:.0f} of its identifiers were reported before"),
}


_MISSING = {
    "amount_lost_log10": ("未填写损失金额", "no amount lost given"),
    "affected_users_log10": ("未填写影响用户数", "number of affected users not given"),
    "hour_local": ("举报时间未知", "time of report unknown"),
    "night": ("举报时间未知", "time of report unknown"),
    "province": ("地区未知", "region unknown"),
    "rep_regions_max": ("没有此前的举报记录", "no earlier reports"),
    "rep_span_days_max": ("没有此前的举报记录", "no earlier reports"),
    "rep_days_since_last_min": ("标识此前未被举报", "identifiers not reported before"),
    "rep_known": ("没有可查的举报记录", "no report history available"),
    "n_identifiers": ("未提供联系标识", "no identifiers given"),
}
