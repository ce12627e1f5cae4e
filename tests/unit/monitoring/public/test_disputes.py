"""Disputes: anyone may put a checked identifier under review; a regulator decides, and the
decision settles every open dispute of that identifier."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tierwatch.core.errors import Conflict, Forbidden, Invalid
from tierwatch.monitoring.public import disputes
from tierwatch.monitoring.public.models import Dispute
from tierwatch.monitoring.public.schemas import DecisionIn, DisputeIn


def dispute(identifier: str = "138-0013-8000", **kw) -> DisputeIn:
    return DisputeIn(identifier=identifier, relation=kw.pop("relation", "owner"),
                     reason=kw.pop("reason", "这是我家小店的订餐电话，不是诈骗。"), **kw)


def test_a_dispute_puts_the_number_under_review_until_a_regulator_decides(container, world):
    with container.uow() as uow:
        first = disputes.open_dispute(uow, dispute(contact={"phone": "13900139000"}), "a" * 32)
        again = disputes.open_dispute(uow, dispute("+86 138 0013 8000"), "a" * 32)  # same person, same number
        other = disputes.open_dispute(uow, dispute(relation="not_scam"), "b" * 32)
        uow.commit()
    assert again.id == first.id and other.id != first.id
    assert (first.kind, first.value) == ("phone", "+8613800138000")
    # The contact is sealed at rest (no digit of it in the row) and opens for the regulator.
    assert first.sealed_contact and "13900139000" not in first.sealed_contact
    with container.uow() as uow:
        raw = uow.session.execute(sa.text("SELECT * FROM identifier_disputes WHERE id = :i"), {"i": first.id}).one()
        assert "13900139000" not in repr(tuple(raw))
        assert disputes.contact_of(uow, uow.session.get(Dispute, first.id)) == {"phone": "13900139000"}
    with container.uow() as uow:
        assert disputes.state(uow, "phone", "+8613800138000").status == "open"
        assert disputes.state(uow, "phone", "+8613900139000") is None
        assert [d.id for d in disputes.list_open(uow, world.regulator)] == [first.id, other.id]
        decided = disputes.decide(uow, world.regulator, first.id, DecisionIn(decision="upheld", note="核实为正规商户电话"))
        uow.commit()
    assert {d.id for d in decided} == {first.id, other.id}
    with container.uow() as uow:
        state = disputes.state(uow, "phone", "+8613800138000")
        assert state.status == "upheld"
        assert disputes.list_open(uow, world.regulator) == []
        with pytest.raises(Conflict):
            disputes.decide(uow, world.regulator, other.id, DecisionIn(decision="rejected", note="再次核实"))
        # A new dispute after a decision is open again: the latest word wins.
        disputes.open_dispute(uow, dispute(), "c" * 32)
        assert disputes.state(uow, "phone", "+8613800138000").status == "open"


def test_only_regulators_see_and_decide_disputes(container, world):
    with container.uow() as uow:
        d = disputes.open_dispute(uow, dispute(), None)
        for actor in (world.analyst, world.a, world.partner):
            with pytest.raises(Forbidden):
                disputes.list_open(uow, actor)
            with pytest.raises(Forbidden):
                disputes.decide(uow, actor, d.id, DecisionIn(decision="rejected", note="不予支持"))


def test_unrecognisable_input_is_a_field_error(container):
    with container.uow() as uow:
        with pytest.raises(Invalid) as bad:
            disputes.open_dispute(uow, DisputeIn(identifier="  ?? ", relation="owner", reason="这不是诈骗电话号码"), None)
    assert bad.value.errors[0]["field"] == "identifier"
