"""Demo data for the embedded default: rule sets, accounts, real filings, a detector, reports.

Idempotent: each step checks what is already there. Credentials are generated at random and
written to <data dir>/demo-credentials.txt (mode 600), never printed or logged.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from tierwatch.bootstrap import Container
from tierwatch.risk.loader import BUNDLED_RULES

RULE_FILES = (BUNDLED_RULES / "cn-gd.yaml", BUNDLED_RULES / "eu-ai-act.yaml")
CAC_FILES = (
    "cn_cac_ai_filings_sample/cac_genai_service_filings_2024-04_rows1-114.csv",
    "cn_cac_ai_filings_sample/cac_deep_synthesis_algorithm_filings_batch1_full_batch2_partial.csv",
)
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
    for rel in CAC_FILES:
        with container.uow() as uow:
            report = run_import(uow, shared_data / rel)
            tiering = tier_imported(uow, report.imported)
            uow.commit()
        echo(f"{Path(rel).name}: {report.summary()}; {tiering}")


def _detector(container: Container, echo: Echo) -> None:
    from tierwatch.antifraud.training.pipeline import Corpus, train_report
    from tierwatch.antifraud.model_store import ModelStore

    models_dir = container.settings.models_dir
    if ModelStore(models_dir).active("report") is not None:
        return
    echo("training the demo scam detector on synthetic reports (about a minute)...")
    outcome = train_report(models_dir, Corpus(None, synthetic=4000, seed=0), activate=True, progress=False)
    echo(f"detector {outcome.version} active")


def _reports(container: Container, echo: Echo) -> None:
    from tierwatch.monitoring.intake import publish_raw
    from tierwatch.monitoring.loadgen import synthetic_reports
    topic = container.settings.intake.scam_topic
    container.bus.ensure_topics([topic])
    lines = (json.dumps(r, ensure_ascii=False).encode() for r in synthetic_reports(DEMO_REPORTS, seed=7, prefix="demo"))
    sent = publish_raw(container.bus, topic, lines)
    echo(f"{sent} demo scam reports queued (ids are fixed, so a re-run adds no duplicates)")
