"""The demo registry a regulator can learn from (issue 14): real filings from ../shared/data and
the case suite's generated ones, every tier under both regimes in realistic proportions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tierwatch import demo
from tierwatch.bootstrap import build
from tierwatch.core.migrate import upgrade
from tierwatch.core.settings import load_settings
from tierwatch.registry.models import Application, Company
from tierwatch.registry.service import iter_current_applications
from tierwatch.risk import service as risk_service
from tierwatch.risk.models import RiskAssessment


def _load(container: Any) -> list[str]:
    said: list[str] = []
    for step in (demo._rule_sets, demo._accounts, demo._filings, demo._generated_filings, demo._tier_summary):
        step(container, said.append)
    return said


@pytest.mark.data
def test_every_tier_under_both_regimes_in_realistic_proportions(tmp_path: Path, shared_data: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    container = build(load_settings(database_url=url, data_dir=tmp_path, secret_key="k" * 32,
                                    shared_data_dir=shared_data))
    upgrade(url, keys=container.keys)
    said = _load(container)
    with container.uow() as uow:
        counts = {(j, t): n for j, t, n in uow.session.execute(
            sa.select(RiskAssessment.jurisdiction, RiskAssessment.tier, sa.func.count())
            .where(RiskAssessment.is_current).group_by(RiskAssessment.jurisdiction, RiskAssessment.tier))}
        total = uow.session.scalar(sa.select(sa.func.count()).select_from(Application))
        assert total == 114 + 71 + 150 + 130 + 66
        for jurisdiction, tiers in (("cn-gd", ("low", "medium", "high")), ("eu", ("low", "medium", "high", "prohibited"))):
            shares = {t: counts.get((jurisdiction, t), 0) / total for t in tiers}
            assert all(shares.values()), (jurisdiction, shares)  # every tier appears
            assert max(shares.values()) < 0.6, (jurisdiction, shares)  # no tier swallows the registry
        assert counts[("eu", "prohibited")] / total < 0.05  # prohibited practices stay rare
        # the CAC lists are no longer all high (185 of 186 were before issue 14)
        cac = sa.select(Application.id).where(Application.source.like("import:cac-%"))
        cac_high = uow.session.scalar(sa.select(sa.func.count()).select_from(RiskAssessment).where(
            RiskAssessment.is_current, RiskAssessment.jurisdiction == "cn-gd", RiskAssessment.tier == "high",
            RiskAssessment.application_id.in_(cac)))
        assert 0 < cac_high < 185 / 2
        # each generated filing gets the tier the case suite expects of it, through the real use cases
        suite = yaml.safe_load(demo.CASE_SUITE.read_text(encoding="utf-8"))
        company = uow.session.scalars(sa.select(Company).where(Company.name == demo.GENERATED_COMPANY)).one()
        apps = uow.session.scalars(sa.select(Application).where(Application.company_id == company.id)
                                   .order_by(Application.id)).all()
        for app, case in zip(apps, suite["cases"], strict=True):
            tiers = {r.jurisdiction: r.computed_tier for r in risk_service.current_assessments(uow, app.id)}
            assert tiers == {j: e["tier"] for j, e in case["expect"].items()}, case["id"]
        # a what-if now moves a visible number of filings
        text = (Path(__file__).resolve().parents[3] / "rules" / "cn-gd.yaml").read_text(encoding="utf-8")
        stricter = text.replace('edition: "2026.2"', 'edition: "2026.9"').replace("high: 7}", "high: 6}")
        report = risk_service.simulate(uow, stricter, iter_current_applications(uow))
        assert len(report.moves) >= 5  # (7 today; before issue 14 every what-if moved none)
    assert any(line.startswith("cn-gd: 531 applications") for line in said)
    assert _load(container)[-2:] == said[-2:]  # a second run adds nothing
    container.close()

