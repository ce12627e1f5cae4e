"""Synthetic company incident reports with a severity label.

No public dataset grades AI incidents on our four levels, so severity comes from a stated rule
(type, scale, the application's tier, what the description says: sensitive data, minors,
whether it is contained) plus noise. The model learns that rule from the wording; the
evaluation on held-out synthetic incidents shows it does, not that the rule is right.
"""

from __future__ import annotations

import math
import random

from tierwatch.antifraud.vocab import INCIDENT_TYPES

BASE = {"harmful_content": 1.0, "data_leak": 1.5, "bias_discrimination": 0.8,
        "security_breach": 1.6, "model_misuse": 1.2, "outage": 0.5}
TIER = {"high": 0.8, "medium": 0.3, "low": 0.0, None: 0.2}
CUTS = (2.0, 3.2, 4.3)  # low | medium | high | critical
SEVERITY_ORDER = ["low", "medium", "high", "critical"]

WHAT = {
    "harmful_content": (["生成了涉及暴力的内容", "输出了虚假医疗建议", "生成了侮辱性言论", "被诱导生成违法信息"],
                        ["generated violent content", "gave false medical advice", "produced abusive text", "was jailbroken into illegal instructions"]),
    "data_leak": (["用户对话记录被泄露", "训练数据中的个人信息被还原", "后台接口暴露了用户资料"],
                  ["user chat logs were exposed", "personal data was extracted from the model", "an API exposed user profiles"]),
    "bias_discrimination": (["招聘筛选模型对女性评分偏低", "信贷模型对农村用户拒贷率偏高", "人脸识别对部分人群准确率明显偏低"],
                            ["the hiring model scored women lower", "the credit model rejected rural applicants more often", "face recognition failed more for some groups"]),
    "security_breach": (["攻击者获取了模型管理后台权限", "API密钥被盗用", "模型权重被窃取"],
                        ["attackers got into the model admin console", "API keys were stolen", "model weights were exfiltrated"]),
    "model_misuse": (["产品被用于批量生成诈骗话术", "声音克隆功能被用于冒充他人", "换脸功能被用于制作虚假视频"],
                     ["the product was used to mass-produce scam scripts", "voice cloning was used to impersonate people", "face swap was used to make fake videos"]),
    "outage": (["服务中断两小时", "推理服务大面积超时", "审核模块宕机"],
               ["service was down for two hours", "inference timed out widely", "the moderation module went down"]),
}
AGGRAVATING = [("涉及身份证号和银行卡信息", "including ID numbers and bank cards"),
               ("涉及未成年人", "affecting minors"),
               ("包含人脸等生物识别信息", "including biometric face data"),
               ("包含病历等健康信息", "including health records"),
               ("已被用于实施诈骗", "already used in fraud")]
ONGOING = ("问题仍在持续", "the problem is ongoing")
CONTAINED = ("已修复并通知用户", "fixed and users notified")


def generate_incidents(n: int, seed: int = 0, en_share: float = 0.3) -> list[tuple[dict, str]]:
    rng = random.Random(seed)  # nosec B311 # synthetic incidents, reproducible by seed; not security
    out = []
    for _ in range(n):
        lang = 1 if rng.random() < en_share else 0
        kind = rng.choice(list(INCIDENT_TYPES))
        users = int(10 ** rng.uniform(0, 7)) if rng.random() > 0.1 else None
        tier = rng.choice(["low", "medium", "high", None])
        parts = [rng.choice(WHAT[kind][lang])]
        score = BASE[kind] + TIER[tier] + 0.45 * math.log10((users or 100) + 1)
        for phrase in rng.sample(AGGRAVATING, k=rng.choice([0, 0, 1, 1, 2])):
            parts.append(phrase[lang])
            score += 0.8
        roll = rng.random()
        if roll < 0.3:
            parts.append(ONGOING[lang])
            score += 0.5
        elif roll < 0.6:
            parts.append(CONTAINED[lang])
            score -= 0.6
        if users is not None and rng.random() < 0.5:
            parts.append(f"影响约{users}名用户" if lang == 0 else f"about {users} users affected")
        score += rng.gauss(0, 0.35)
        severity = SEVERITY_ORDER[sum(score >= c for c in CUTS)]
        sep = "，" if lang == 0 else ", "
        incident = {"type": kind, "description": sep.join(parts), "affected_users": users, "app_tier": tier}
        out.append((incident, severity))
    return out
