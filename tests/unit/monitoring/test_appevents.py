"""The registry's and tiering's changes are announced to monitoring through the outbox, in the
transaction of the change: what commits is announced, what rolls back is not."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tierwatch.core.errors import Invalid
from tierwatch.monitoring.messages import ApplicationEvent
from tierwatch.monitoring.outbox import OutboxMessage
from tierwatch.registry import service as registry_service
from tierwatch.risk import service as risk_service
from tests.unit.monitoring.test_linking import approved_app
from tests.unit.registry.factories import activate_shipped_rules

WHY = "该应用被大量诈骗举报冒用，需按高风险监管以收紧告警阈值"


def announced(container) -> list[ApplicationEvent]:  # type: ignore[no-untyped-def]
    with container.uow() as uow:
        rows = uow.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "bus").order_by(OutboxMessage.id))
        return [ApplicationEvent.model_validate_json(json.dumps(m.payload["value"]), strict=True) for m in rows]


def test_each_change_of_an_application_is_announced_once(container, world) -> None:  # type: ignore[no-untyped-def]
    activate_shipped_rules(container)
    app_id, _ = approved_app(container, world, "安心贷")
    events = [(e.event.value, e.jurisdiction) for e in announced(container)]
    # tiered under both rule sets on submission (first tier: before is none), then approved
    assert sorted(events) == sorted([("tier_changed", "cn-gd"), ("tier_changed", "eu"), ("approved", None)])
    with container.uow() as uow:
        risk_service.override_tier(uow, app_id, "cn-gd", "high", WHY, world.regulator)
        uow.commit()
    with container.uow() as uow, pytest.raises(Invalid):
        risk_service.override_tier(uow, app_id, "cn-gd", "low", "too short", world.regulator)
    with container.uow() as uow:
        registry_service.transition(uow, world.a, app_id, "deregister")
        uow.rollback()  # changed its mind: nothing committed, nothing announced
    last = announced(container)[-1]
    assert (last.event.value, last.tier, last.application_id, last.name) == ("override", "high", str(app_id), "安心贷")
    assert len(announced(container)) == 4
    with container.uow() as uow:
        registry_service.transition(uow, world.a, app_id, "deregister")
        uow.commit()
    assert announced(container)[-1].event.value == "deregistered"


def test_activating_a_rule_set_announces_every_move_in_one_statement(container, world) -> None:  # type: ignore[no-untyped-def]
    approved = [approved_app(container, world, f"应用{i}")[0] for i in range(3)]
    assert announced(container) == [e for e in announced(container) if e.event.value == "approved"]
    activate_shipped_rules(container)  # everything tiered for the first time
    moves = [e for e in announced(container) if e.event.value == "tier_changed"]
    assert sorted((int(e.application_id), e.jurisdiction) for e in moves) == sorted(
        (a, j) for a in approved for j in ("cn-gd", "eu"))
    assert all(e.previous_tier is None and e.tier for e in moves)
