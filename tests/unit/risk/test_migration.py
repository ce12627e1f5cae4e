"""The 0003_risk migration creates the risk tables and their invariants on a fresh SQLite."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tierwatch.core.db import make_engine


def test_upgrade_creates_the_risk_tables(migrated_sqlite: str) -> None:
    engine = make_engine(migrated_sqlite)
    try:
        inspector = sa.inspect(engine)
        assert {"rule_set_versions", "risk_assessments", "tier_overrides"} <= set(inspector.get_table_names())
        indexes = {i["name"]: i for i in inspector.get_indexes("risk_assessments")}
        assert indexes["uq_risk_assessments_current"]["unique"]
        with engine.begin() as conn:
            row = ("INSERT INTO rule_set_versions (jurisdiction, version, edition, title, filename, "
                   "source_text, checksum, rule_count, status, created_at, created_by) VALUES "
                   "('eu', :v, 'e', '{}', 'f', 's', 'c', 1, :status, '2026-01-01', 'test')")
            conn.execute(sa.text(row), {"v": 1, "status": "retired"})
            conn.execute(sa.text(row), {"v": 2, "status": "active"})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(row), {"v": 3, "status": "active"})  # a second active version
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(row), {"v": 4, "status": "pending"})
    finally:
        engine.dispose()


def test_existing_filings_migrate_unanswered_flagged_and_keep_their_tier(sqlite_url: str, tmp_path: Any) -> None:
    """A registry from before issue 14: one filing tiered under the version-1 rules. After the
    0014 revisions its questions are NULL (never "no"), its current assessment is flagged
    `unanswered` and sits in the review queue with its tier unchanged; activating the version-2
    rules re-tiers it from the profile (no tier drops because a question is unanswered) with
    the specific unanswered flags instead."""
    import hashlib
    from pathlib import Path

    from tierwatch.bootstrap import build
    from tierwatch.core.migrate import upgrade
    from tierwatch.core.settings import load_settings
    from tierwatch.registry.service import iter_current_applications
    from tierwatch.core.actors import Actor
    from tierwatch.risk import service
    from tierwatch.risk.flags import review_queue

    upgrade(sqlite_url, "0006_registry_hardening")
    upgrade(sqlite_url, "0003_risk")
    legacy = Path(__file__).parent / "legacy_rules" / "cn-gd.yaml"
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO companies (id, name, country, source, created_at) "
                             "VALUES (1, '示例公司', 'CN', 'registered', '2026-01-01')"))
        conn.execute(sa.text("INSERT INTO applications (id, company_id, name, status, source, created_at, updated_at) "
                             "VALUES (1, 1, '信用评分', 'submitted', 'registered', '2026-01-01', '2026-01-01')"))
        conn.execute(sa.text(
            "INSERT INTO application_versions (id, application_id, number, status, name, deployment_channels, "
            "models, capabilities, domain, regions, audiences, personal_info, human_oversight, created_at, "
            "updated_at) VALUES (1, 1, 1, 'submitted', '个人信用评分', '[\"app\"]', '[]', '[\"decision_making\"]', "
            "'finance', '[]', '[\"general\"]', '[\"financial\"]', 'on_request', '2026-01-01', '2026-01-01')"))
        # tiered under the version-1 rules, stored in the old shape (evidence = filed values)
        text = legacy.read_text(encoding="utf-8")
        conn.execute(sa.text(
            "INSERT INTO rule_set_versions (id, jurisdiction, version, edition, title, filename, source_text, "
            "checksum, rule_count, status, created_at, created_by) VALUES (1, 'cn-gd', 1, '2026.1', '{}', "
            "'cn-gd.yaml', :text, :checksum, 31, 'active', '2026-01-01', 'test')"),
            {"text": text, "checksum": hashlib.sha256(text.encode()).hexdigest()})
        conn.execute(sa.text(
            "INSERT INTO risk_assessments (application_id, application_version_id, rule_set_version_id, "
            "jurisdiction, computed_tier, tier, score, fired_rules, obligations, disagrees_with_override, "
            "is_current, created_at) VALUES (1, 1, 1, 'cn-gd', 'high', 'high', 7, :fired, '[]', 0, 1, '2026-01-01')"),
            {"fired": '[{"rule_id": "CN-ADM-01", "evidence": {"domain": "finance"}}]'})
    before = "high"
    engine.dispose()

    upgrade(sqlite_url)  # every head: the 0014 revisions
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT intended_purpose, fraud_detection_only, justifications "
                                   "FROM application_versions")).one()
        assert tuple(row) == (None, None, None)
    engine.dispose()
    container = build(load_settings(database_url=sqlite_url, data_dir=tmp_path, secret_key="k" * 32))
    regulator = Actor(label="r", role="regulator")
    with container.uow() as uow:
        [item] = review_queue(uow, regulator, "cn-gd").items
        assert item.tier == before and [f["kind"] for f in item.flags] == ["unanswered"]
        # the old row stays explainable: its evidence is the values it stored
        [old] = service.current_assessments(uow, 1)
        assert service.explain(uow, old)["fired_rules"][0]["evidence"] == {"domain": "finance"}
        service.activate_ruleset(uow, Path(__file__).parents[3] / "rules" / "cn-gd.yaml", "test",
                                 iter_current_applications(uow))
        uow.commit()
    with container.uow() as uow:
        [item] = review_queue(uow, regulator, "cn-gd").items
        assert item.tier == before == "high"  # credit scoring: high from the profile, unanswered or not
        assert {f["id"] for f in item.flags} >= {"CN-REV-PURPOSE"}
    container.close()
