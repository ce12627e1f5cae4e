"""`tierwatch registry import FILE`: lists of filings (CSV, XLSX, JSON) into the registry.

Known formats (the CAC filing lists, the Dutch algorithm register, the UK ATRS) map through
`registry.import_maps`; any other file needs a mapping file (YAML) naming which column feeds which
field. Each row is imported or rejected with a reason; a rejected row leaves nothing behind.
Rows already imported (same source and reference) are left as they are.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import sqlalchemy as sa
import yaml

from tierwatch.core.clock import CHINA_TZ, utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.registry import audit, workflow
from tierwatch.core.actors import Actor
from tierwatch.core.errors import Invalid
from tierwatch.registry.import_maps import APPROVED_FORMATS, FORMATS, SIGNATURES, MappedRow, RowRejected
from tierwatch.registry.import_maps import infer_capabilities, infer_domain
from tierwatch.registry.models import Application, ApplicationVersion, Company
from tierwatch.registry.schemas import ApplicationFields, parse, validate_credit_code
from tierwatch.registry.service import FIELD_NAMES, set_fields, version_fields
from tierwatch.registry.vocab import APPLICATION_FIELDS, FILING_FIELDS, QUESTIONS


@dataclass
class ImportReport:
    file: str
    format: str
    rows: int = 0
    imported: list[int] = field(default_factory=list)  # application ids (none in a dry run)
    accepted: int = 0  # rows that are (or, in a dry run, would be) imported
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    flagged: dict[str, int] = field(default_factory=dict)  # flag -> rows
    companies_created: int = 0

    def summary(self) -> str:
        verb = "imported" if self.accepted == len(self.imported) else "would be imported (dry run)"
        return (f"{self.file} ({self.format}): {self.rows} rows, {self.accepted} {verb}, "
                f"{self.unchanged} already present, {len(self.rejected)} rejected")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, unknown format, bad mapping)."""


def read_rows(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ","))
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        return [dict(zip(header, r)) for r in rows if any(v not in (None, "") for v in r)]
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):  # {"records": [...]} / {"algoritmes": [...]}
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise ImportFileError(f"{path.name}: expected one list of records in the JSON object")
            data = lists[0]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ImportFileError(f"{path.name}: expected a JSON list of objects")
        return data
    raise ImportFileError(f"{path.name}: unsupported file type {suffix or '(none)'}; use .csv, .xlsx or .json")


def detect_format(rows: list[dict[str, Any]]) -> str:
    columns = set(rows[0]) if rows else set()
    for name, needed in SIGNATURES.items():
        if needed <= columns:
            return name
    raise ImportFileError(f"unknown columns {sorted(columns)}; give --format or --mapping")


def run_import(
    uow: UnitOfWork,
    path: Path,
    fmt: str = "auto",
    mapping: Path | None = None,
    actor: Actor | None = None,
    dry_run: bool = False,
    select: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
) -> ImportReport:
    """Import every row (caller commits); with dry_run map and check every row, store nothing.
    `select` picks the rows to import from the file's (the demo imports a seeded sample)."""
    actor = actor or Actor.system("import")
    rows = read_rows(path)
    if select is not None:
        rows = select(rows)
    mapper: Callable[[Mapping[str, Any]], MappedRow]
    if mapping is not None:
        mapper, fmt = MappingFile(mapping).map_row, f"mapping:{mapping.stem}"
    else:
        fmt = detect_format(rows) if fmt == "auto" else fmt
        if fmt not in FORMATS:
            raise ImportFileError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)} or auto")
        mapper = FORMATS[fmt]
    report = ImportReport(file=path.name, format=fmt, rows=len(rows))
    companies = _CompanyCache(uow, actor, fmt)
    seen: set[str] = set()
    present = _present_refs(uow, fmt)
    for number, row in enumerate(rows, start=1):
        try:
            mapped = mapper(row)
            if mapped.external_ref in seen:
                raise RowRejected(f"duplicate of an earlier row (reference {mapped.external_ref})")
            seen.add(mapped.external_ref)
            fields = _validated(mapped)
        except RowRejected as exc:
            report.rejected.append((number, str(exc)))
            continue
        if mapped.external_ref in present:
            report.unchanged += 1
            continue
        taken = _filing_number_owner(uow, mapped.filing_number)
        if taken is not None:
            report.rejected.append((number, f"filing number {mapped.filing_number} is already "
                                            f"registered (application {taken})"))
            continue
        report.accepted += 1
        for flag in mapped.flags:
            report.flagged[flag] = report.flagged.get(flag, 0) + 1
        if not dry_run:
            report.imported.append(_store(uow, actor, fmt, mapped, fields, companies, number).id)
    report.companies_created = companies.created
    if dry_run:
        return report
    audit.record(uow, actor, "registry.import", "import", path.name, changes={
        "format": {"before": None, "after": fmt}, "rows": {"before": None, "after": report.rows},
        "imported": {"before": None, "after": len(report.imported)},
        "rejected": {"before": None, "after": len(report.rejected)}})
    return report


def _validated(mapped: MappedRow) -> dict[str, Any]:
    try:
        fields = parse(ApplicationFields, mapped.fields).given()
    except Invalid as exc:
        raise RowRejected("; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)) from None
    if not fields.get("name"):
        raise RowRejected("no application name")
    return fields


def _present_refs(uow: UnitOfWork, fmt: str) -> set[str]:
    stmt = sa.select(Application.external_ref).where(Application.source == f"import:{fmt}")
    return {ref for ref in uow.session.scalars(stmt) if ref is not None}


def _filing_number_owner(uow: UnitOfWork, number: str | None) -> int | None:
    if number is None:
        return None
    return uow.session.scalars(sa.select(Application.id).where(Application.filing_number == number)).first()


def _store(uow: UnitOfWork, actor: Actor, fmt: str, mapped: MappedRow, fields: dict[str, Any],
           companies: "_CompanyCache", row_number: int) -> Application:
    company = companies.get(mapped)
    approved = mapped.filing_number is not None and (fmt in APPROVED_FORMATS or fmt.startswith("mapping:"))
    status = workflow.APPROVED if approved else workflow.SUBMITTED
    now = utcnow()
    filed_at = datetime.combine(mapped.filed_on, time(12), CHINA_TZ) if mapped.filed_on else now
    app = Application(
        company_id=company.id, name=fields["name"], status=status, source=f"import:{fmt}",
        external_ref=mapped.external_ref, filing_number=mapped.filing_number if approved else None,
        approved_at=filed_at if approved else None,
        import_notes={"row": row_number, "flags": mapped.flags, **{k: v for k, v in mapped.notes.items() if v}},
    )
    version = ApplicationVersion(application=app, number=1, status=status, name=fields["name"],
                                 submitted_at=filed_at, decided_at=filed_at if approved else None)
    for name in FIELD_NAMES:
        kind = FILING_FIELDS[name][0]
        default: Any = [] if kind in ("set", "list") else None
        setattr(version, name, fields.get(name, default))
    set_fields(version, {"answers": fields.get("answers") or {}})
    uow.session.add_all([app, version])
    uow.session.flush()
    audit.record(uow, actor, "application.import", "application", app.id,
                 changes=audit.diff({}, {**version_fields(version), "status": status,
                                         "filing_number": app.filing_number}),
                 reason=f"imported from {fmt} row {row_number}")
    return app


class _CompanyCache:
    """Providers by (country, name): one company per provider however many rows name it."""

    def __init__(self, uow: UnitOfWork, actor: Actor, fmt: str):
        self.uow, self.actor, self.fmt, self.created = uow, actor, fmt, 0
        self._known: dict[tuple[str, str], Company] = {}

    def get(self, mapped: MappedRow) -> Company:
        key = (mapped.country, mapped.company_name.strip())
        if key not in self._known:
            self._known[key] = self._find(mapped, key) or self._create(mapped, key)
        return self._known[key]

    def _find(self, mapped: MappedRow, key: tuple[str, str]) -> Company | None:
        code = mapped.notes.get("credit_code")
        stmt = sa.select(Company).where(Company.credit_code == code) if code else \
            sa.select(Company).where(Company.country == key[0], Company.name == key[1])
        return self.uow.session.scalars(stmt.order_by(Company.id)).first()

    def _create(self, mapped: MappedRow, key: tuple[str, str]) -> Company:
        company = Company(name=key[1], country=key[0], province=mapped.province,
                          credit_code=mapped.notes.get("credit_code"), source=f"import:{self.fmt}")
        self.uow.session.add(company)
        self.uow.session.flush()
        audit.record(self.uow, self.actor, "company.import", "company", company.id,
                     changes=audit.diff({}, {"name": company.name, "country": company.country,
                                             "province": company.province, "credit_code": company.credit_code}))
        self.created += 1
        return company


_TRUE = {"true", "yes", "y", "1", "是", "有", "ja"}
_FALSE = {"false", "no", "n", "0", "否", "无", "nee"}


class MappingFile:
    """A YAML mapping for files of no known format:

        columns: {name: 应用名称, company: 企业名称, credit_code: 统一社会信用代码, domain: 领域, ...}
        reference: 备案编号      # column that identifies a row (default: filing_number, else row)
        country: CN
        infer: true             # infer domain / capabilities from name + description if not mapped

    Enum and set columns take our codes or their Chinese / English labels.
    """

    PROVIDER_KEYS = {"company", "credit_code", "province", "filing_number"}

    def __init__(self, path: Path):
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ImportFileError(f"mapping {path}: {exc}") from None
        columns = spec.get("columns") if isinstance(spec, dict) else None
        if not isinstance(columns, dict) or "name" not in columns or "company" not in columns:
            raise ImportFileError(f"mapping {path}: needs `columns:` with at least name and company")
        unknown = set(columns) - set(APPLICATION_FIELDS) - self.PROVIDER_KEYS
        if unknown:
            raise ImportFileError(f"mapping {path}: unknown target field(s) {sorted(unknown)}")
        self.columns: dict[str, str] = {k: str(v) for k, v in columns.items()}
        self.reference = spec.get("reference")
        self.country = str(spec.get("country", "CN"))
        self.infer = bool(spec.get("infer", True))
        self._rows = 0

    def map_row(self, row: Mapping[str, Any]) -> MappedRow:
        self._rows += 1
        raw = {target: row.get(column) for target, column in self.columns.items()}
        company = str(raw.get("company") or "").strip()
        if not company:
            raise RowRejected(f"empty provider column {self.columns['company']!r}")
        notes: dict[str, Any] = {}
        if raw.get("credit_code"):
            try:
                notes["credit_code"] = validate_credit_code(str(raw["credit_code"]))
            except ValueError as exc:
                raise RowRejected(f"credit_code: {exc}") from None
        fields = {name: self._value(name, raw[name]) for name in FILING_FIELDS if name in raw}
        answers = {q: self._value(q, raw[q]) for q in QUESTIONS if q in raw and raw[q] not in (None, "")}
        if answers:  # a mapping file may map columns onto structured questions too
            fields["answers"] = answers
        number = str(raw.get("filing_number") or "").strip() or None
        ref = str(row.get(self.reference) or "").strip() if self.reference else (number or f"row-{self._rows}")
        mapped = MappedRow(company_name=company, fields=fields, external_ref=ref or f"row-{self._rows}",
                           country=self.country, province=raw.get("province"), filing_number=number,
                           notes=notes)
        text = f"{fields.get('name') or ''} {fields.get('description') or ''}"
        if self.infer and "domain" not in fields:
            fields["domain"], found = infer_domain(text)
            if not found:
                mapped.flags.append("domain not stated; set to other")
        if self.infer and "capabilities" not in fields:
            fields["capabilities"] = infer_capabilities(text)
        return mapped

    @staticmethod
    def _value(name: str, value: Any) -> Any:
        kind, vocab = APPLICATION_FIELDS[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if kind in ("set", "list") and isinstance(value, str):
            items = [v.strip() for v in re.split(r"[,，、;；|]", value) if v.strip()]
            if name == "models":
                return [{"name": v, "filing_number": None} for v in items]
            return [_code(vocab, v) for v in items] if vocab else items
        if kind == "enum":
            return _code(vocab, str(value).strip())
        if kind == "bool" and not isinstance(value, bool):
            text = str(value).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise RowRejected(f"{name}: {value!r} is not yes/no")
        if kind == "int" and isinstance(value, str):
            digits = value.replace(",", "").strip()
            if not digits.isdigit():
                raise RowRejected(f"{name}: {value!r} is not a whole number")
            return int(digits)
        return value


def _code(vocab: Mapping[str, tuple[str, str]] | None, value: str) -> str:
    """A code from a code or one of its labels; unknown values pass through (validation names them)."""
    if vocab is None or value in vocab:
        return value
    for code, (zh, en) in vocab.items():
        if value == zh or value.lower() == en.lower():
            return code
    return value


def imported_pairs(uow: UnitOfWork, app_ids: Iterable[int]) -> list[tuple[int, int, dict[str, Any]]]:
    """(app id, version id, fields) of freshly imported applications, for tiering."""
    ids = list(app_ids)
    if not ids:
        return []
    stmt = sa.select(ApplicationVersion).where(ApplicationVersion.application_id.in_(ids))
    return [(v.application_id, v.id, version_fields(v)) for v in uow.session.scalars(stmt)]
