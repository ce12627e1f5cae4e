"""Demo data for the embedded default: rule sets, accounts, real filings, a detector, reports.

Idempotent: each step checks what is already there. Credentials are generated at random and
written to <data dir>/demo-credentials.txt (mode 600), never printed or logged.

The demo registry is meant to teach (issue 14): every tier appears under both regimes, in the
proportions real filings give, so dashboards and what-ifs show movement. It holds the real CAC
filing lists (generative AI, deep synthesis), a seeded sample of the Dutch algorithm register
and the UK ATRS records, read from ../shared/data at run time, plus generated filings of a
fictitious demo company: the profiles of the published case suite (tests/cases/tiering.yaml, in
the checkout), which bring every prohibited practice, every exemption claim with and without a
written justification, every finding and the knife-edge scores.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from tierwatch.bootstrap import Container
from tierwatch.risk.loader import BUNDLED_RULES

RULE_FILES = (BUNDLED_RULES / "cn-gd.yaml", BUNDLED_RULES / "eu-ai-act.yaml")
CAC_FILES = (
    "cn_cac_ai_filings_sample/cac_genai_service_filings_2024-04_rows1-114.csv",
    "cn_cac_ai_filings_sample/cac_deep_synthesis_algorithm_filings_batch1_full_batch2_partial.csv",
)
NL_FILE = "nl_algoritmeregister_2026-08/algoritmes.csv"
UK_FILE = "uk_atrs_records_2026-08/atrs_records.json"
NL_SAMPLE, NL_SEED = 150, 2026  # 1,465 entries in use or in development: a sample keeps the mix readable
CASE_SUITE = Path(__file__).resolve().parent.parent / "tests" / "cases" / "tiering.yaml"
GENERATED_COMPANY = "粤示例智能科技有限公司（演示数据，虚构）"
GENERATED_CREDIT_CODE_BASE = "91440101MA5GEN000"  # fictitious; the check digit is computed
GENERATED_USERS = 50_000  # monthly users of a generated filing whose profile states none (below every scale rule)
DEMO_USERS: tuple[tuple[str, str, Literal["regulator", "analyst", "admin", "company", "partner"]], ...] = (
    ("regulator@demo.tierwatch.cn", "演示监管员", "regulator"),
    ("analyst@demo.tierwatch.cn", "演示研判员", "analyst"),
    ("admin@demo.tierwatch.cn", "演示管理员", "admin"),
    ("company@demo.tierwatch.cn", "演示企业用户", "company"),
    ("partner@demo.tierwatch.cn", "演示合作数据源", "partner"),
)
DEMO_COMPANY = "广州演示人工智能科技有限公司"
DEMO_CREDIT_CODE_BASE = "914401060000TW0A1"  # made up (Guangzhou, Tianhe); the check digit is computed
DEMO_REPORTS = 500

Echo = Callable[[str], None]


def load_demo(container: Container, echo: Echo = print) -> None:
    _rule_sets(container, echo)
    _accounts(container, echo)
    _filings(container, echo)
    _generated_filings(container, echo)
    _tier_summary(container, echo)
    _detector(container, echo)
    _reports(container, echo)


def _rule_sets(container: Container, echo: Echo) -> None:
    from tierwatch.registry.service import iter_current_applications
    from tierwatch.risk import service as risk_service
    from tierwatch.risk.loader import load_ruleset

    with container.uow() as uow:
        active = {v.jurisdiction for v in risk_service.active_versions(uow)}
        for path in RULE_FILES:
            jurisdiction = load_ruleset(path).jurisdiction
            if jurisdiction in active:
                continue
            report = risk_service.activate_ruleset(
                uow, path, "demo", list(iter_current_applications(uow))
            )
            echo(f"rule set {jurisdiction} v{report.version} active")
        uow.commit()


def _accounts(container: Container, echo: Echo) -> None:
    from stdnum.cn import uscc

    from tierwatch.registry import accounts
    from tierwatch.core.actors import Actor
    from tierwatch.registry.models import Company, User
    from tierwatch.registry.schemas import CompanyIn, UserIn

    lines = []
    system = Actor.system("demo")
    with container.uow() as uow:
        code = DEMO_CREDIT_CODE_BASE + uscc.calc_check_digit(DEMO_CREDIT_CODE_BASE)
        company = uow.session.query(Company).filter_by(credit_code=code).first() or accounts.create_company(
            uow, system, CompanyIn(name=DEMO_COMPANY, credit_code=code, province="广东省"))
        for email, name, role in DEMO_USERS:
            if uow.session.query(User).filter_by(email=email).first() is not None:
                continue
            password = secrets.token_urlsafe(12)
            accounts.create_user(uow, system, UserIn(
                email=email, name=name, password=password, role=role,
                company_id=company.id if role == "company" else None))
            lines.append(f"{role:10} {email} {password}")
        uow.commit()
    if lines:
        path = container.settings.data_dir / "demo-credentials.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        path.chmod(0o600)
        echo(f"{len(lines)} demo accounts created; passwords in {path}")


def _filings(container: Container, echo: Echo) -> None:
    from tierwatch.registry.importer import run_import
    from tierwatch.risk.service import tier_imported

    shared_data = container.settings.resolved_shared_data_dir
    if not shared_data.is_dir():
        echo(f"no shared datasets at {shared_data}: registry left empty")
        return

    def nl_sample(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        in_use = [r for r in rows if r.get("status") in ("in_gebruik", "ontwikkeling")]
        return random.Random(NL_SEED).sample(in_use, min(NL_SAMPLE, len(in_use)))  # nosec B311 # a fixed demo sample; not security

    sources: list[tuple[str, Any]] = [(rel, None) for rel in CAC_FILES]
    sources += [(NL_FILE, nl_sample), (UK_FILE, None)]
    for rel, select in sources:
        with container.uow() as uow:
            report = run_import(uow, shared_data / rel, select=select)
            tiering = tier_imported(uow, report.imported)
            uow.commit()
        echo(f"{Path(rel).name}: {report.summary()}; {tiering}")


def _generated_filings(container: Container, echo: Echo) -> None:
    """The case suite's profiles, filed and submitted by the demo administrator for a fictitious
    company through the ordinary use cases (validated, audited, tiered on submission)."""
    import yaml
    from stdnum.cn import uscc

    from tierwatch.core.actors import actor_of
    from tierwatch.registry import accounts
    from tierwatch.registry import service as registry
    from tierwatch.registry.models import Company, User
    from tierwatch.registry.schemas import CompanyIn, CreateApplicationIn

    if not CASE_SUITE.is_file():
        echo(f"no case suite at {CASE_SUITE} (not a checkout): no generated filings")
        return
    suite = yaml.safe_load(CASE_SUITE.read_text(encoding="utf-8"))
    with container.uow() as uow:
        if uow.session.query(Company).filter_by(name=GENERATED_COMPANY).first() is not None:
            return
        admin = uow.session.query(User).filter_by(email=DEMO_USERS[2][0]).one()
        code = GENERATED_CREDIT_CODE_BASE + uscc.calc_check_digit(GENERATED_CREDIT_CODE_BASE)
        company = accounts.create_company(uow, actor_of(admin), CompanyIn(name=GENERATED_COMPANY, credit_code=code),
                                          source="demo")
        for case in suite["cases"]:
            fields = {**suite["defaults"], **case["profile"], "company_id": company.id}
            # What a submission needs and the profiles leave out: nothing here moves a tier.
            fields.setdefault("version", "1.0")
            fields.setdefault("description", fields.get("scenario"))
            fields.setdefault("monthly_active_users", GENERATED_USERS)
            fields.setdefault("personal_info", [])
            app = registry.create_application(uow, actor_of(admin), CreateApplicationIn(**fields))
            registry.transition(uow, actor_of(admin), app.id, "submit")
        uow.commit()
    echo(f"{len(suite['cases'])} generated filings of {GENERATED_COMPANY} submitted and tiered")


def _tier_summary(container: Container, echo: Echo) -> None:
    import sqlalchemy as sa

    from tierwatch.risk.models import RiskAssessment

    with container.uow() as uow:
        rows = uow.session.execute(
            sa.select(RiskAssessment.jurisdiction, RiskAssessment.tier, sa.func.count(),
                      sa.func.sum(sa.case((RiskAssessment.flag_count > 0, 1), else_=0)))
            .where(RiskAssessment.is_current).group_by(RiskAssessment.jurisdiction, RiskAssessment.tier)).all()
    for jurisdiction in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == jurisdiction]
        total = sum(r[2] for r in mine)
        shares = ", ".join(f"{tier} {n} ({n / total:.0%})" for _j, tier, n, _f in
                           sorted(mine, key=lambda r: ("low", "medium", "high", "prohibited").index(r[1])))
        echo(f"{jurisdiction}: {total} applications: {shares}; {sum(r[3] for r in mine)} in the review queue")


def _detector(container: Container, echo: Echo) -> None:
    # The XGBoost kind, trained on synthetic reports written as citizens write them. The linear
    # kind (issue 15) learned scam messages themselves and scores a citizen's own account of a
    # scam ("收到短信称……被扣款2000元") low: all 500 demo reports under 0.3.
    from tierwatch.antifraud.training.pipeline import Corpus, train_report
    from tierwatch.antifraud.model_store import ModelStore

    models_dir = container.settings.models_dir
    if ModelStore(models_dir).active("report") is not None:
        return
    echo("training the demo scam detector on synthetic reports (about a minute)...")
    outcome = train_report(models_dir, Corpus(None, synthetic=4000, seed=0), activate=True, progress=False)
    echo(f"detector {outcome.version} active")


def _recent_in_guangdong(report: dict[str, Any], i: int, now: datetime) -> dict[str, Any]:
    """A synthetic report moved into the last 12 weeks (more of them lately, as a wave builds)
    and, mostly, into one of Guangdong's cities: the trends page then has something to show."""
    from tierwatch.antifraud.vocab import GD_CITIES, city_region

    rng = random.Random(i)  # nosec B311 # spreads demo reports over weeks and cities; not security
    age = timedelta(days=84) * (1 - (i / DEMO_REPORTS) ** 0.5) + timedelta(minutes=rng.randrange(60))
    cities = list(GD_CITIES)
    shifted = {**report, "reported_at": (now - age).isoformat(), "occurred_at": (now - age - timedelta(hours=6)).isoformat()}
    if rng.random() < 0.85:
        shifted["region"] = city_region(cities[min(int(rng.expovariate(0.25)), len(cities) - 1)])
    return shifted


def _reports(container: Container, echo: Echo) -> None:
    from tierwatch.monitoring.intake import publish_raw
    from tierwatch.monitoring.loadgen import synthetic_reports
    topic = container.settings.intake.scam_topic
    container.bus.ensure_topics([topic])
    now = datetime.now(UTC)
    lines = (json.dumps(_recent_in_guangdong(r, i, now), ensure_ascii=False).encode()
             for i, r in enumerate(synthetic_reports(DEMO_REPORTS, seed=7, prefix="demo")))
    sent = publish_raw(container.bus, topic, lines)
    echo(f"{sent} demo scam reports queued (ids are fixed, so a re-run adds no duplicates)")
