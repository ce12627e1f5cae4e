"""Downloads: the registry and the supervision calendar as CSV and XLSX, and one application's
record in the shape of other regimes' filings (EU AI Act database, Annex VIII section A; the
CAC filing form). One record, several regimes' filings.

The registry file is in the "tierwatch-registry" format the importer reads
(registry.import_maps.map_tierwatch_registry): an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from tierwatch.core.actors import Actor
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Forbidden
from tierwatch.registry import service, workflow
from tierwatch.registry.models import Application, ApplicationVersion, Company
from tierwatch.registry.supervision import EU_MEMBERS, CalendarEntry
from tierwatch.registry.vocab import APPLICATION_FIELDS

PROVIDER_COLUMNS = ("application_id", "company", "credit_code", "country", "province", "filing_number", "status")
REGISTRY_COLUMNS = (*PROVIDER_COLUMNS, *APPLICATION_FIELDS)
CALENDAR_COLUMNS = ("due_on", "week", "status", "kind", "application_id", "application", "company",
                    "jurisdiction", "tier", "period_key")
LIST_SEPARATOR = "; "


def cell(name: str, value: Any) -> Any:
    """A filing field as a spreadsheet cell: codes joined by "; ", a model as "name | filing
    number", yes/no as "yes"/"no", empty as ""."""
    if value is None:
        return ""
    kind = APPLICATION_FIELDS[name][0] if name in APPLICATION_FIELDS else "str"
    if name == "models":
        return LIST_SEPARATOR.join(f"{m.get('name', '')} | {m.get('filing_number') or ''}".rstrip(" |")
                                   for m in value)
    if kind in ("set", "list") or isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def registry_rows(uow: UnitOfWork, actor: Actor, batch: int = 2000) -> Iterator[list[Any]]:
    """Every application's latest version, one row each (the regulator side only)."""
    if not actor.is_regulator:
        raise Forbidden("the registry export is the regulator's")
    other = aliased(ApplicationVersion)
    latest = (sa.select(sa.func.max(other.number)).where(other.application_id == Application.id)
              .correlate(Application).scalar_subquery())
    columns = [getattr(ApplicationVersion, name) for name in APPLICATION_FIELDS]
    stmt = (sa.select(Application.id, Company.name, Company.credit_code, Company.country, Company.province,
                      Application.filing_number, Application.status, *columns)
            .join(Company, Company.id == Application.company_id)
            .join(ApplicationVersion, sa.and_(ApplicationVersion.application_id == Application.id,
                                              ApplicationVersion.number == latest))
            .order_by(Application.id).execution_options(yield_per=batch))
    for row in uow.session.execute(stmt):
        provider, fields = row[:len(PROVIDER_COLUMNS)], row[len(PROVIDER_COLUMNS):]
        yield [*(v if v is not None else "" for v in provider),
               *(cell(name, v) for name, v in zip(APPLICATION_FIELDS, fields))]


def calendar_rows(entries: Iterable[CalendarEntry]) -> Iterator[list[Any]]:
    for e in entries:
        t = e.task
        yield [t.due_on.isoformat(), e.week, t.status, t.kind, t.application_id, e.application_name,
               e.company_name, t.jurisdiction or "", t.tier or "", t.period_key]


def as_csv(columns: Iterable[str], rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(columns))
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(sheet_title: str, columns: Iterable[str], rows: Iterable[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title[:31])
    sheet.append(list(columns))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- one application in other regimes' shapes ------------------------------------------------

Label = tuple[str, str]  # (zh, en)


@dataclass(frozen=True)
class FormField:
    key: str
    label: Label
    value: Any


@dataclass(frozen=True)
class FormSection:
    key: str
    title: Label
    fields: tuple[FormField, ...]


def _labels(name: str, codes: Any, language: int) -> str:
    vocab = APPLICATION_FIELDS[name][1]
    items = codes if isinstance(codes, list) else ([codes] if codes else [])
    return "、".join(vocab[c][language] if vocab and c in vocab else str(c) for c in items)


def _yes_no(value: bool | None) -> Label:
    return ("未填写", "not stated") if value is None else (("是", "yes") if value else ("否", "no"))


def _status_eu(app: Application) -> Label:
    if app.status == workflow.DEREGISTERED or app.deregistered_at:
        return ("已停止投放市场/停止使用", "no longer placed on the market / in service")
    if app.filing_number:
        return ("已投放市场/已投入使用", "on the market / in service")
    return ("尚未投放市场", "not yet placed on the market")


NOT_HELD: Label = ("本平台未登记（请在欧盟数据库中补充）", "not held by this registry (add it in the EU database)")


def annex_viii_a(uow: UnitOfWork, actor: Actor, app_id: int) -> list[FormSection]:
    """The EU AI Act database registration of a high-risk system by its provider (Art. 49(1),
    Annex VIII section A, points 1-13), filled from the record; what the record does not hold
    says so."""
    app = service.get_application(uow, actor, app_id)
    v = service.latest_version(app)
    c = app.company
    contact = "; ".join(x for x in (c.contact_name, c.contact_email, c.contact_phone) if x) or None
    members = [r for r in (v.regions or []) if str(r).upper() in EU_MEMBERS]
    models = "; ".join(m.get("name", "") for m in v.models or [])

    def both(zh: str, en: str) -> Label:
        return (zh, en)

    points = [
        ("1", both("提供者名称、地址及联系方式", "Name, address and contact details of the provider"),
         {"name": c.name, "country": c.country, "province": c.province, "credit_code": c.credit_code,
          "contact": contact}),
        ("2", both("代表提供者提交者的名称、地址及联系方式", "Person submitting on behalf of the provider"),
         None),
        ("3", both("授权代表的名称、地址及联系方式", "Authorised representative"), None),
        ("4", both("人工智能系统商品名称及可追溯标识", "AI system trade name and unambiguous reference"),
         {"trade_name": v.name, "version": v.version, "reference": app.filing_number or f"tierwatch:{app.id}"}),
        ("5", both("预期用途及其支持的组件和功能", "Intended purpose, components and functions"),
         {"intended_purpose": v.description, "scenario": v.scenario,
          "functions": _labels("capabilities", v.capabilities, 1),
          "deployment": _labels("deployment_channels", v.deployment_channels, 1)}),
        ("6", both("所用信息（数据、输入）及运行逻辑的简要说明", "Information used (data, inputs) and operating logic"),
         {"models": models or None, "personal_data": _labels("personal_info", v.personal_info, 1) or None,
          "human_oversight": _labels("human_oversight", v.human_oversight, 1) or None}),
        ("7", both("系统状态", "Status of the AI system"), _status_eu(app)),
        ("8", both("公告机构证书类型、编号、有效期及机构名称", "Notified body certificate (type, number, expiry, body)"),
         None),
        ("9", both("上述证书扫描件", "Scanned copy of that certificate"), None),
        ("10", both("已投放或投入使用的欧盟成员国", "Member States where placed on the market or in service"),
         ", ".join(members) or None),
        ("11", both("欧盟符合性声明副本", "Copy of the EU declaration of conformity (Art. 47)"), None),
        ("12", both("电子版使用说明", "Electronic instructions for use"), None),
        ("13", both("更多信息的网址（可选）", "URL for additional information (optional)"), None),
    ]
    return [FormSection("annex_viii_a", ("欧盟《人工智能法》附件八A部分：高风险人工智能系统登记",
                                         "EU AI Act Annex VIII, section A: registration of a high-risk AI system"),
                        tuple(FormField(key, label, NOT_HELD if value is None else value)
                              for key, label, value in points))]


# Capability -> the CAC's algorithm category (算法类别) of the filing system.
CAC_CATEGORIES: dict[str, Label] = {
    "text_generation": ("生成合成类", "generation and synthesis"),
    "image_generation": ("生成合成类", "generation and synthesis"),
    "voice_cloning": ("生成合成类", "generation and synthesis"),
    "video_deepfake": ("生成合成类", "generation and synthesis"),
    "recommendation": ("个性化推送类", "personalised push"),
    "decision_making": ("调度决策类", "scheduling and decision-making"),
    "biometric_identification": ("检索过滤类", "retrieval and filtering"),
    "emotion_recognition": ("检索过滤类", "retrieval and filtering"),
}


def cac_form(uow: UnitOfWork, actor: Actor, app_id: int) -> list[FormSection]:
    """The record in the sections of the CAC's algorithm filing form (算法备案)."""
    app = service.get_application(uow, actor, app_id)
    v = service.latest_version(app)
    c = app.company
    categories = list(dict.fromkeys(CAC_CATEGORIES[x] for x in v.capabilities or [] if x in CAC_CATEGORIES))

    def f(key: str, zh: str, en: str, value: Any) -> FormField:
        return FormField(key, (zh, en), ("未填写", "not stated") if value in (None, "", []) else value)

    def both(name: str) -> Label:
        return (_labels(name, getattr(v, name), 0), _labels(name, getattr(v, name), 1))

    return [
        FormSection("provider", ("备案主体信息", "Filing entity"), (
            f("name", "主体名称", "Entity name", c.name),
            f("credit_code", "统一社会信用代码", "Unified social credit code", c.credit_code),
            f("location", "所在地", "Location", c.province or c.country),
            f("contact", "算法安全责任人/联系人", "Person responsible / contact", c.contact_name),
            f("contact_details", "联系方式", "Contact details", "; ".join(x for x in (c.contact_phone, c.contact_email) if x)),
        )),
        FormSection("algorithm", ("算法基础信息", "Algorithm"), (
            f("name", "算法名称", "Algorithm name", v.name),
            f("version", "版本", "Version", v.version),
            f("category", "算法类别", "Algorithm category",
              ("、".join(x[0] for x in categories), ", ".join(x[1] for x in categories)) if categories else None),
            f("domain", "应用领域", "Field of application", both("domain") if v.domain else None),
            f("scenario", "使用场景", "Scenario", v.scenario),
            f("principle", "算法基本原理与运行机制", "Principle and operating mechanism", v.description),
            f("models", "所用模型及其备案号", "Models used and their filing numbers",
              "; ".join(f"{m.get('name')}（{m.get('filing_number') or '未备案'}）" for m in v.models or []) or None),
        )),
        FormSection("product", ("产品及功能信息", "Products and functions"), (
            f("channels", "服务形式", "Form of service", both("deployment_channels") if v.deployment_channels else None),
            f("capabilities", "功能", "Functions", both("capabilities") if v.capabilities else None),
            f("audiences", "服务对象", "Users served", both("audiences") if v.audiences else None),
            f("mau", "月活跃用户数", "Monthly active users", v.monthly_active_users),
            f("regions", "服务地区", "Regions served", "、".join(v.regions or []) or None),
        )),
        FormSection("safety", ("安全与合规信息", "Security and compliance"), (
            f("public_opinion", "是否具有舆论属性或者社会动员能力", "Public-opinion or social-mobilisation attributes",
              _yes_no(v.public_opinion_attributes)),
            f("personal_info", "处理的个人信息类别", "Personal information processed",
              both("personal_info") if v.personal_info else ("无", "none")),
            f("cross_border", "是否存在数据出境", "Cross-border data transfer", _yes_no(v.cross_border_transfer)),
            f("oversight", "人工干预机制", "Human oversight", both("human_oversight") if v.human_oversight else None),
            f("labelling", "生成合成内容标识", "Labelling of generated content", _yes_no(v.content_labelling)),
            f("assessment", "是否已完成安全评估", "Security assessment done", _yes_no(v.security_assessment_done)),
        )),
        FormSection("filing", ("备案信息", "Filing"), (
            f("filing_number", "备案编号", "Filing number", app.filing_number),
            f("status", "状态", "Status", app.status),
        )),
    ]


def form_json(sections: list[FormSection]) -> dict[str, Any]:
    """Sections as JSON: each field's label and value in both languages where it has them."""
    def value(v: Any) -> Any:
        if isinstance(v, tuple) and len(v) == 2:
            return {"zh": v[0], "en": v[1]}
        return v

    return {"sections": [{"key": s.key, "title": {"zh": s.title[0], "en": s.title[1]},
                          "fields": [{"key": f.key, "label": {"zh": f.label[0], "en": f.label[1]},
                                      "value": value(f.value)} for f in s.fields]} for s in sections]}
