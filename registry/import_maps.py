"""How each known filing list maps onto our fields.

Published registers say little in fixed columns, so domain and capability codes are inferred from
their text with the keyword tables below (first matching domain wins; every matching capability
is taken). Anything not inferred stays empty and is flagged, never guessed silently.

The structured questions are answered only where the list itself states the fact by being what
it is (a CAC generative-AI filing is a service offered to the public; a deep-synthesis filing
has an algorithm filing number); each such answer is flagged. An importer never answers an
exemption claim, and every other question stays unanswered (flagged for review when tiered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Mapping

from tierwatch.registry.vocab import APPLICATION_FIELDS

# (keywords, code). Chinese, Dutch and English words in one table: the texts never mix languages,
# and a word in the wrong language simply does not match. Latin words match whole words, or as a
# prefix when they end in "*" (Dutch compounds: "zorgverle*" but not "zorgvuldig").
DOMAIN_KEYWORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("金融", "银行", "保险", "证券", "理财", "信贷", "贷款", "支付", "bank*", "lening*", "krediet*",
      "hypothe*", "pension*", "loan*", "invoice*", "interest"), "finance"),
    (("医疗", "医生", "问诊", "健康", "医院", "药", "全科", "gezondheid*", "medisch*", "patiënt*",
      "ziekenhuis*", "zorgverle*", "zorgaanbied*", "ggz", "huisarts*", "health*", "nhs", "clinical",
      "patient*", "medical"), "healthcare"),
    (("教育", "学习", "作业", "教学", "学生", "课程", "onderwijs*", "leerling*", "school*", "student*",
      "pupil*", "exam*", "ofsted", "education*"), "education"),
    (("招聘", "求职", "简历", "人力资源", "sollicit*", "vacature*", "werkzoekend*", "kandidaat*",
      "kandidaten*", "ww-uitkering*", "arbeidsmarkt*", "re-integratie*", "job applicant*", "recruit*",
      "employment", "jobcentre*", "right to work"), "employment"),
    (("新闻", "资讯", "媒体", "舆情", "nieuws*", "news*", "journalis*"), "media_news"),
    (("电商", "购物", "商品", "带货", "店铺", "商家", "零售", "e-commerce", "webwinkel*", "retail*",
      "shopping"), "ecommerce"),
    (("社交", "交友", "社区", "social media", "sociale media"), "social"),
    (("游戏", "game", "games", "gaming", "kansspel*"), "gaming"),
    (("公安", "执法", "安防", "监控", "politie*", "handhaving*", "opsporing*", "criminal*", "police",
      "policing", "crime*", "offender*", "probation", "prison*", "justice", "reclassering*",
      "strafrecht*", "delinquen*", "verdachte*", "border force"), "security_policing"),
    (("能源", "电力", "交通", "水务", "energie*", "verkeer*", "waterschap*", "riolering*",
      "infrastructu*", "dijk*", "energy", "traffic", "transport*", "water supply", "railway*"),
     "critical_infrastructure"),
    (("社会保障", "社保", "养老", "uitkering*", "bijstand*", "toeslag*", "participatiewet*",
      "jeugdhulp*", "jeugdzorg*", "wmo", "schuldhulp*", "schuldsanering*", "benefit*",
      "universal credit", "social care", "housing", "welfare", "safeguarding"), "public_services"),
    (("政务", "政府", "gemeente*", "belasting*", "vergunning*", "hmrc", "tax", "taxes", "council*",
      "government", "parliament*", "civil servant*", "minister*"), "government"),
)

CAPABILITY_KEYWORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("文本", "对话", "写作", "问答", "文案", "聊天", "翻译", "摘要", "大模型", "语言模型", "客服",
      "chatbot*", "taalmodel*", "tekst genere*", "generatieve", "copilot*", "gpt*", "llm", "llms",
      "large language", "chat", "webchat", "summaris*", "summariz*", "writing assistant",
      "samenvatt*"), "text_generation"),
    (("图像", "图片", "绘图", "绘画", "照片", "修图", "美颜", "画", "image generat*", "afbeelding* genere*",
      "diffusion"), "image_generation"),
    (("语音", "声音", "音频", "配音", "音色", "歌声", "voice*", "speech synthesis", "spraaksynthese",
      "stemkloon*"), "voice_cloning"),
    (("视频", "换脸", "数字人", "虚拟人", "人脸替换", "deepfake*", "video generat*"), "video_deepfake"),
    (("推荐", "排序", "个性化", "aanbeveling*", "recommend*", "ranking", "prioriter*", "prioritis*",
      "prioritiz*"), "recommendation"),
    (("决策", "审批", "评分", "风控", "risicomodel*", "risicoscore*", "risicoprofiel*", "risicotaxatie*",
      "risico-inschatting*", "besluit*", "beslis*", "toekenn*", "selectie*", "eligibility", "risk score*",
      "risk model*", "triage", "decision*", "assessment protocol", "fraud*"), "decision_making"),
    (("人脸识别", "人脸", "指纹", "声纹", "虹膜", "gezichtsherkenning*", "gezichtsvergelijking*", "biometr*",
      "facial", "face match*", "identity verification", "vingerafdruk*"), "biometric_identification"),
    (("情绪", "情感识别", "emotie*", "emotion*", "sentiment"), "emotion_recognition"),
)

CHANNEL_WORDS = {"APP": "app", "网站": "web", "小程序": "mini_program", "API": "api", "接口": "api"}


@dataclass
class MappedRow:
    """One source row, mapped: the provider, the filing fields and how sure we are of them."""

    company_name: str
    fields: dict[str, Any]
    external_ref: str
    country: str = "CN"
    province: str | None = None
    filing_number: str | None = None
    filed_on: date | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


class RowRejected(ValueError):
    """The row cannot become an application; the message says why."""


class _Keywords:
    """One code's keywords, matched fast: Chinese as substrings (no spaces to split on), Latin
    words against the text's tokens, whole or as a prefix ("sollicit*"), phrases on word edges."""

    def __init__(self, words: tuple[str, ...]):
        latin = [w for w in words if w.isascii()]
        self.cjk = tuple(w for w in words if not w.isascii())
        self.whole = frozenset(w for w in latin if " " not in w and not w.endswith("*"))
        self.prefixes = frozenset(w[:-1] for w in latin if " " not in w and w.endswith("*"))
        self.phrases = tuple(" " + w.rstrip("*") + ("" if w.endswith("*") else " ") for w in latin if " " in w)

    def found_in(self, low: str, tokens: set[str], heads: set[str], joined: str) -> bool:
        return (any(w in low for w in self.cjk) or not self.whole.isdisjoint(tokens)
                or not self.prefixes.isdisjoint(heads) or any(p in joined for p in self.phrases))


_DOMAINS = [(_Keywords(words), code) for words, code in DOMAIN_KEYWORDS]
_CAPABILITIES = [(_Keywords(words), code) for words, code in CAPABILITY_KEYWORDS]


def _prepare(text: str) -> tuple[str, set[str], set[str], str]:
    """The text lowered, its tokens, every leading part of every token (for prefix keywords),
    and the tokens joined by single spaces (for phrases)."""
    low = text.lower()
    tokens = re.findall(r"[\w-]+", low)
    heads = {t[:n] for t in set(tokens) if t.isascii() for n in range(3, len(t) + 1)}
    return low, set(tokens), heads, " " + " ".join(tokens) + " "


def infer_domain(text: str, default: str = "other") -> tuple[str, bool]:
    """(domain code, inferred?) from free text; `default` (flagged) when no keyword matches."""
    prepared = _prepare(text)
    for keywords, code in _DOMAINS:
        if keywords.found_in(*prepared):
            return code, True
    return default, False


def infer_capabilities(text: str) -> list[str]:
    prepared = _prepare(text)
    return [code for keywords, code in _CAPABILITIES if keywords.found_in(*prepared)]


def _need(row: Mapping[str, Any], *columns: str) -> list[str]:
    values = [str(row.get(c) or "").strip() for c in columns]
    missing = [c for c, v in zip(columns, values) if not v]
    if missing:
        raise RowRejected(f"empty required column(s): {', '.join(missing)}")
    return values


def _infer(mapped: MappedRow, text: str, default_domain: str = "other") -> MappedRow:
    domain, found = infer_domain(text, default_domain)
    mapped.fields["domain"] = domain
    if not found:
        mapped.flags.append(f"domain not stated; set to {domain}")
    if not mapped.fields.get("capabilities"):
        mapped.fields["capabilities"] = infer_capabilities(text)
    if not mapped.fields["capabilities"]:
        mapped.flags.append("capabilities not recognised")
    return mapped


def map_cac_deep_synthesis(row: Mapping[str, Any]) -> MappedRow:
    name, entity, products, use, number = _need(
        row, "algorithm_name", "entity", "products", "main_use", "filing_no")
    if not re.fullmatch(r"网信算备\d{15,}号", number):
        raise RowRejected(f"filing_no {number!r} is not a deep-synthesis filing number (网信算备…号)")
    kinds = re.findall(r"（([^）]*)）", products)  # "大麦（APP）、写作蛙（小程序）"
    channels = sorted({code for word, code in CHANNEL_WORDS.items() for kind in kinds if word in kind})
    role = str(row.get("role") or "").strip()
    # The answers the list states by being what it is: the algorithm filing number, and for a
    # service provider (not a technical supporter) a service offered to the public.
    answers = {"cac_algorithm_filing": number}
    if role == "服务提供者":
        answers["offered_to_public"] = "public"
    mapped = MappedRow(
        company_name=entity, external_ref=number, filing_number=number,
        filed_on=_month(str(row.get("period") or "")),
        fields={"name": name, "description": use, "scenario": use, "deployment_channels": channels,
                # Filing is owed by services with public-opinion attributes (深度合成管理规定 第十九条).
                "public_opinion_attributes": True, "answers": answers},
        notes={"role": row.get("role"), "products": products, "batch": row.get("batch"),
               "note": row.get("note") or None},
    )
    mapped.flags.append("public_opinion_attributes inferred from the filing regime")
    mapped.flags.append("answers inferred from the filing regime: " + ", ".join(answers)
                        + " (深度合成管理规定 第二条、第十九条)")
    return _infer(mapped, f"{name} {use}")


def map_cac_genai(row: Mapping[str, Any]) -> MappedRow:
    province, model, entity, number, filed = _need(
        row, "province", "model_name", "filing_entity", "filing_no", "filing_date")
    try:
        filed_on = datetime.strptime(filed, "%Y/%m/%d").date()
    except ValueError:
        raise RowRejected(f"filing_date {filed!r} is not a date (YYYY/M/D)") from None
    caps = infer_capabilities(model) or ["text_generation"]
    mapped = MappedRow(
        company_name=entity, external_ref=number, filing_number=number, filed_on=filed_on,
        province=province if province.endswith(("省", "市", "自治区")) else None,
        fields={"name": model, "models": [{"name": model, "filing_number": number}], "capabilities": caps,
                "regions": [province], "public_opinion_attributes": True,
                "security_assessment_done": True,
                # The CAC files generative-AI services offered to the public (Interim Measures Arts. 2, 17).
                "answers": {"offered_to_public": "public"}},
        notes={"kind": row.get("kind"), "period": row.get("period"), "seq": row.get("seq")},
    )
    # Art. 17 of the Interim Measures ties this filing to public-opinion attributes and a
    # completed security assessment.
    mapped.flags.append("public_opinion_attributes, security_assessment_done inferred from the "
                        "filing regime (生成式人工智能服务管理暂行办法 第十七条)")
    mapped.flags.append("answers inferred from the filing regime: offered_to_public "
                        "(生成式人工智能服务管理暂行办法 第二条)")
    if caps == ["text_generation"] and not infer_capabilities(model):
        mapped.flags.append("capabilities assumed: generative service without stated modality")
    return _infer(mapped, f"{model} {entity}")


NL_SKIPPED_STATUS = {"buiten_gebruik": "no longer in use (status buiten_gebruik): nothing to supervise"}


def map_nl_algoritmeregister(row: Mapping[str, Any]) -> MappedRow:
    ident, title, org = _need(row, "id", "title", "organisatie")
    status = str(row.get("status") or "")
    if status in NL_SKIPPED_STATUS:
        raise RowRejected(NL_SKIPPED_STATUS[status])
    purpose = str(row.get("doel") or "").strip()
    mapped = MappedRow(
        company_name=org, country="NL", external_ref=ident,
        fields={"name": title[:200], "description": purpose or None, "regions": ["NL"],
                "deployment_channels": [], "audiences": ["general"]},
        notes={"status": status, "impact_assessment": row.get("impactassessment"),
               "legal_basis": row.get("juridische_basis") or None, "url": row.get("url"),
               "registered": row.get("geregistreerd")},
    )
    mapped.flags.append("audiences assumed: a public body's algorithm serves the general public")
    if not purpose:
        mapped.flags.append("no purpose text (doel)")
    # Every publisher is a public body: "government" unless the text names a more specific area.
    return _infer(mapped, f"{title} {purpose}", default_domain="government")


def map_uk_atrs(row: Mapping[str, Any]) -> MappedRow:
    tool, url = _need(row, "tool_name", "url")
    body = str(row.get("publishing_body") or "").strip()
    if not body:
        raise RowRejected("publishing_body is empty: the provider is unknown")
    description = str(row.get("description") or "").strip()
    mapped = MappedRow(
        company_name=body, country="GB", external_ref=url,
        fields={"name": tool[:200], "description": description or None, "regions": ["GB"],
                "audiences": ["general"]},
        notes={"url": url, "published": row.get("published")},
    )
    mapped.flags.append("audiences assumed: a public body's tool serves the general public")
    return _infer(mapped, f"{tool} {description}", default_domain="government")


def map_tierwatch_registry(row: Mapping[str, Any]) -> MappedRow:
    """tierwatch's own registry export (registry.exports): field columns holding codes, lists
    joined by ";", models as "name | filing number", yes/no. An export imports back unchanged."""
    name, company = _need(row, "name", "company")
    fields: dict[str, Any] = {}
    for field_name, (kind, _vocab) in APPLICATION_FIELDS.items():
        raw = row.get(field_name)
        text = "" if raw is None else str(raw).strip()
        if not text:
            continue
        if field_name == "models":
            fields[field_name] = [{"name": n.strip(), "filing_number": (f.strip() or None)}
                                  for n, _, f in (item.partition("|") for item in text.split(";") if item.strip())]
        elif kind in ("set", "list"):
            fields[field_name] = [item.strip() for item in text.split(";") if item.strip()]
        elif kind == "bool":
            if text.lower() not in ("yes", "no", "true", "false"):
                raise RowRejected(f"{field_name}: {text!r} is not yes/no")
            fields[field_name] = text.lower() in ("yes", "true")
        elif kind == "int":
            if not text.removesuffix(".0").isdigit():
                raise RowRejected(f"{field_name}: {text!r} is not a whole number")
            fields[field_name] = int(text.removesuffix(".0"))
        else:
            fields[field_name] = text
    number = str(row.get("filing_number") or "").strip() or None
    code = str(row.get("credit_code") or "").strip()
    return MappedRow(company_name=company, fields=fields, filing_number=number,
                     external_ref=number or f"{code or company}:{row.get('application_id') or name}",
                     country=str(row.get("country") or "CN").strip() or "CN",
                     province=str(row.get("province") or "").strip() or None,
                     notes={"credit_code": code or None, "exported_status": row.get("status")})


FORMATS: dict[str, Callable[[Mapping[str, Any]], MappedRow]] = {
    "tierwatch-registry": map_tierwatch_registry,
    "cac-deep-synthesis": map_cac_deep_synthesis,
    "cac-genai": map_cac_genai,
    "nl-algoritmeregister": map_nl_algoritmeregister,
    "uk-atrs": map_uk_atrs,
}
# Imported filings with a real CAC number were approved by the CAC; the others await review here.
APPROVED_FORMATS = frozenset({"cac-deep-synthesis", "cac-genai", "tierwatch-registry"})
SIGNATURES = {
    "tierwatch-registry": {"application_id", "company", "credit_code", "filing_number", "status", "name"},
    "cac-deep-synthesis": {"algorithm_name", "entity", "main_use", "filing_no"},
    "cac-genai": {"model_name", "filing_entity", "filing_no"},
    "nl-algoritmeregister": {"organisatie", "doel", "title"},
    "uk-atrs": {"publishing_body", "tool_name"},
}


def _month(period: str) -> date | None:
    match = re.fullmatch(r"(\d{4})-(\d{2})", period.strip())
    return date(int(match[1]), int(match[2]), 1) if match else None
