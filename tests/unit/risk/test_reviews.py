"""Tier reviews: analysts ask (one open question per application and jurisdiction), a regulator
decides to keep or override; every step audited, companies kept out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tierwatch.core.errors import Conflict, Forbidden, Invalid
from tierwatch.registry.models import AuditEntry
from tierwatch.risk import reviews
from tierwatch.risk.models import TierOverride
from tests.unit.monitoring.test_linking import approved_app
from tests.unit.registry.factories import activate_shipped_rules

WHY = "多名分析员确认该应用被诈骗团伙大规模冒用，建议提高监管级别"


@pytest.fixture
def app_id(container, world) -> int:  # type: ignore[no-untyped-def]
    activate_shipped_rules(container)
    return approved_app(container, world, "安心贷")[0]


def test_an_analyst_asks_and_a_regulator_overrides(container, world, app_id) -> None:  # type: ignore[no-untyped-def]
    with container.uow() as uow:
        review = reviews.open_review(uow, world.analyst, app_id, "告警 #7 升级：同一号码集中举报", alert_id=7)
        again = reviews.open_review(uow, world.analyst, app_id, "告警 #8 也指向它", alert_id=8)
        uow.commit()
    assert again.id == review.id  # one open question per application and jurisdiction
    assert review.jurisdiction in ("cn-gd", "eu") and review.tier_at_request is not None
    with container.uow() as uow:
        with pytest.raises(Forbidden):
            reviews.decide_review(uow, world.analyst, review.id, "keep", WHY)
        with pytest.raises(Invalid) as bad:
            reviews.decide_review(uow, world.regulator, review.id, "override", "太短")
        assert {e["field"] for e in bad.value.errors} == {"comment", "tier"}
        decided = reviews.decide_review(uow, world.regulator, review.id, "override", WHY, tier="high")
        uow.commit()
    assert (decided.status, decided.decision, decided.decided_tier) == ("decided", "override", "high")
    with container.uow() as uow:
        override = uow.session.get(TierOverride, decided.override_id)
        assert (override.tier, override.in_force, override.justification) == ("high", True, WHY)
        actions = list(uow.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions[-3:] == ["risk.review_open", "risk.override", "risk.review_decide"]
        with pytest.raises(Conflict):
            reviews.decide_review(uow, world.regulator, review.id, "keep", WHY)


def test_keep_records_the_decision_and_companies_see_nothing(container, world, app_id) -> None:  # type: ignore[no-untyped-def]
    with container.uow() as uow:
        review = reviews.open_review(uow, world.analyst, app_id, "请复核", jurisdiction="eu")
        kept = reviews.decide_review(uow, world.regulator, review.id, "keep", WHY)
        uow.commit()
    assert (kept.decision, kept.decided_tier, kept.override_id) == ("keep", kept.tier_at_request, None)
    with container.uow() as uow:
        for call in (lambda: reviews.list_reviews(uow, world.a),
                     lambda: reviews.open_review(uow, world.a, app_id, "x"),
                     lambda: reviews.get_review(uow, world.a, review.id)):
            with pytest.raises(Forbidden):
                call()
        assert [r.id for r in reviews.list_reviews(uow, world.regulator, status="decided")] == [review.id]
        with pytest.raises(Invalid):
            reviews.open_review(uow, world.analyst, app_id, "x", jurisdiction="mars")
