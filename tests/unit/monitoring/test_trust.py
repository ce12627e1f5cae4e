"""Identifier reputation counts independent reporters weighted by trust, and reporter contacts are
encrypted at rest (SQLite here; tests/integration/test_store_postgres.py runs the same checks on
PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tierwatch.core.db import UnitOfWork, make_engine
from tierwatch.core.keys import KeyRing
from tierwatch.monitoring.contacts import ContactCipher, InvalidToken, reseal
from tierwatch.monitoring.linking import ApplicationLinker
from tierwatch.monitoring.messages import ScamReport
from tierwatch.monitoring.models import IdentifierReporter, KnownIdentifier, ReportContact
from tierwatch.monitoring.models import Report as ReportRow
from tierwatch.monitoring.reputation import DbReputation
from tierwatch.monitoring.scoring import RuleScorer
from tierwatch.monitoring.store import ReportKeys, persist, prepare
from tests.keyring import new_report_keys
from tests.unit.monitoring.test_store import uow  # noqa: F401  (fixture: a migrated SQLite database)

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
LONE, CROWD = "+8613800138000", "+8613900139000"  # one anonymous reporter's target; many partners'
CONTACT = {"name": "李四", "phone": "13712345678", "email": "lisi@example.cn"}


def scam(report_id: str, phone: str, minutes: int, **who) -> ScamReport:
    return ScamReport(report_id=report_id, description=f"对方冒充客服让我转账，电话{phone[3:]}", channel="phone",
                      reported_at=T0 + timedelta(minutes=minutes), region="广东", **who)


def store(uow: Callable[[], UnitOfWork], reports: list[ScamReport], keys: ReportKeys) -> dict:
    with uow() as u:
        stored, _ = persist(u.session, [prepare(r, T0, keys) for r in reports], RuleScorer(),
                            ApplicationLinker(lambda: []), T0 + timedelta(days=1))
        u.commit()
    return stored


def check_one_reporter_is_not_fifty(uow: Callable[[], UnitOfWork], prefix: str) -> None:
    """One anonymous reporter's 50 reports about LONE, in 5 batches (and one redelivered), weigh
    a quarter of a reporter; 50 partner feeds' reports about CROWD weigh 50. A report naming
    each afterwards is scored accordingly."""
    keys = new_report_keys()
    anonymous = {"reporter_type": "citizen", "source": "web", "reporter_key": "a" * 32}
    lone = [scam(f"{prefix}-lone-{i:03d}", LONE, i, **anonymous) for i in range(50)]
    for start in range(0, 50, 10):
        store(uow, lone[start : start + 10] + (lone[:1] if start else []), keys)  # the first, redelivered
    crowd = [scam(f"{prefix}-crowd-{i:03d}", CROWD, i, reporter_type="partner_feed", source=f"bank-{i}",
                  reporter_key=f"{i:032x}") for i in range(50)]
    store(uow, crowd[:25], keys)
    store(uow, crowd[25:], keys)
    with uow() as u:
        s = u.session
        lone_row, crowd_row = s.get(KnownIdentifier, ("phone", LONE)), s.get(KnownIdentifier, ("phone", CROWD))
        assert (lone_row.report_count, lone_row.reporter_weight) == (50, 0.25)
        assert (crowd_row.report_count, crowd_row.reporter_weight) == (50, 50.0)
        assert s.scalar(sa.select(sa.func.count()).select_from(IdentifierReporter)
                        .where(IdentifierReporter.value == LONE)) == 1
        # What the scorers read, live (the worker) and as of a past moment (computed from the reports).
        later = T0 + timedelta(days=1)
        for rep in (DbReputation(s, live=True), DbReputation(s)):
            stats = rep.lookup([f"phone:{LONE}", f"phone:{CROWD}"], later)
            assert (stats[f"phone:{LONE}"].count, stats[f"phone:{LONE}"].weight) == (50, 0.25)
            assert (stats[f"phone:{CROWD}"].count, stats[f"phone:{CROWD}"].weight) == (50, 50.0)
        halfway = DbReputation(s).lookup([f"phone:{CROWD}"], T0 + timedelta(minutes=10))[f"phone:{CROWD}"]
        assert (halfway.count, halfway.weight) == (10, 10.0)  # strictly before, by reporter too
    after = store(uow, [scam(f"{prefix}-next-lone", LONE, 120), scam(f"{prefix}-next-crowd", CROWD, 120)], keys)
    p_lone, p_crowd = after[f"{prefix}-next-lone"]["scam_probability"], after[f"{prefix}-next-crowd"]["scam_probability"]
    assert p_crowd - p_lone > 0.3, (p_lone, p_crowd)


def check_contacts_sealed_at_rest(uow: Callable[[], UnitOfWork], prefix: str, raw_column: str) -> None:
    """The stored column holds none of the contact in clear; the key opens it; a rotated ring
    reads the old row, reseal moves it to the new key only."""
    keys = new_report_keys()
    store(uow, [scam(f"{prefix}-contact", LONE, 0, reporter_contact=CONTACT)], keys)
    with uow() as u:
        raw = u.session.execute(sa.text(f"SELECT {raw_column} FROM report_contacts WHERE report_id = :r"),
                                {"r": f"{prefix}-contact"}).scalar_one()
        for secret in ("13712345678", "lisi", "example.cn", "李四", "\\u674e"):
            assert secret not in raw
        assert keys.contacts.open(u.session.get(ReportContact, f"{prefix}-contact").sealed) == CONTACT
        with pytest.raises(InvalidToken):
            new_report_keys().contacts.open(raw)  # another key opens nothing


def test_one_anonymous_reporter_cannot_weigh_like_fifty_trusted_ones(uow):
    check_one_reporter_is_not_fifty(uow, "sq")


def test_contacts_are_encrypted_at_rest(uow):
    check_contacts_sealed_at_rest(uow, "sq", "sealed")


def test_rotating_the_contacts_key_keeps_old_rows_readable_and_reseal_moves_them(uow, tmp_path: Path):
    ring = KeyRing(tmp_path / "keys", environ={})
    keys = ReportKeys.from_ring(ring)
    store(uow, [scam("rotate-0001", LONE, 0, reporter_contact=CONTACT)], keys)
    old_key = ring.key("contacts")
    ring.rotate("contacts")
    rotated = ContactCipher.from_ring(ring)  # current (new) key, then the old one
    with uow() as u:
        before = u.session.get(ReportContact, "rotate-0001").sealed
        assert rotated.open(before) == CONTACT  # old rows stay readable after a rotation
        with pytest.raises(InvalidToken):
            ContactCipher([ring.key("contacts")]).open(before)  # ...only thanks to the old key
        assert reseal(u.session, rotated) == 1
        u.commit()
    with uow() as u:
        after = u.session.get(ReportContact, "rotate-0001").sealed
    assert after != before and ContactCipher([ring.key("contacts")]).open(after) == CONTACT
    with pytest.raises(InvalidToken):
        ContactCipher([old_key]).open(after)


def test_keys_rotate_contacts_re_encrypts_what_is_stored(container):
    """`tierwatch keys rotate contacts` on the container's own key ring and database."""
    from tierwatch.cli.keys import keys as keys_cli

    from tierwatch.monitoring.public import disputes
    from tierwatch.monitoring.public.models import Dispute
    from tierwatch.monitoring.public.schemas import DisputeIn

    store(container.uow, [scam("cli-rotate-0001", LONE, 0, reporter_contact=CONTACT)], container.report_keys)
    with container.uow() as uow:  # a dispute's contact is sealed with the same key, and moves with it
        dispute_id = disputes.open_dispute(uow, DisputeIn(identifier="13800138000", relation="owner",
                                                          reason="这是我店里的订餐电话", contact=CONTACT), None).id
        uow.commit()
    old_key = container.keys.key("contacts")
    result = CliRunner().invoke(keys_cli, ["rotate", "contacts"], obj=container)
    assert result.exit_code == 0, result.output
    assert "contacts: 2 re-encrypted" in result.output
    with container.uow() as uow:
        sealed = uow.session.get(ReportContact, "cli-rotate-0001").sealed
        dispute_sealed = uow.session.get(Dispute, dispute_id).sealed_contact
    new_key = container.keys.key("contacts")
    assert new_key != old_key and ContactCipher([new_key]).open(sealed) == CONTACT
    assert ContactCipher([new_key]).open(dispute_sealed) == CONTACT


def test_a_stored_report_keeps_its_tracking_code_when_the_key_is_rotated(uow, tmp_path: Path):
    """The code is stored with the row: after a rotation, the citizen's code still finds the report."""
    from tierwatch.monitoring.messages import tracking_code_for
    from tierwatch.monitoring.store import find_report_id

    ring = KeyRing(tmp_path / "keys", environ={})
    handed_out = tracking_code_for("tracking-0001", ring.key("tracking"))
    store(uow, [scam("tracking-0001", LONE, 0)], ReportKeys.from_ring(ring))
    ring.rotate("tracking")
    assert tracking_code_for("tracking-0001", ring.key("tracking")) != handed_out
    store(uow, [scam("tracking-0001", LONE, 0)], ReportKeys.from_ring(ring))  # a redelivery after the rotation
    with uow() as u:
        assert find_report_id(u.session, tracking_code=handed_out) == "tracking-0001"
        assert u.session.scalar(sa.select(ReportRow.tracking_code).where(ReportRow.report_id == "tracking-0001")) == handed_out


def check_migration_seals_contacts(url: str, tmp_path: Path) -> None:
    """A database at 0031 with a contact in clear and identifier totals: 0032 refuses to run
    without the key ring, and with it seals the contact and weighs the earlier reporters."""
    from tierwatch.core.migrate import upgrade

    upgrade(url, revision="0031_monitoring_public")
    engine = make_engine(url)
    reports = ReportRow.__table__
    identifiers = sa.table("identifiers", sa.column("kind"), sa.column("value"), sa.column("report_count"),
                           sa.column("first_seen"), sa.column("last_seen"))
    common = {"kind": "scam", "schema_version": 1, "description": "冒充客服", "reported_at": T0, "received_at": T0,
              "score_reasons": []}
    with engine.begin() as conn:
        conn.execute(reports.insert(), [
            {**common, "report_id": "mig-00001", "tracking_code": "TW-MIG0000001", "reporter_type": "citizen",
             "source": "web", "reporter_key": "a" * 32},
            {**common, "report_id": "mig-00002", "tracking_code": "TW-MIG0000002", "reporter_type": "citizen",
             "source": "web", "reporter_key": "a" * 32},
            {**common, "report_id": "mig-00003", "tracking_code": "TW-MIG0000003", "reporter_type": "partner_feed",
             "source": "bank", "reporter_key": "b" * 32},
        ])
        conn.execute(sa.text("INSERT INTO report_identifiers (report_id, kind, value, region, reported_at) "
                             "VALUES (:r, 'phone', :v, NULL, :at)"),
                     [{"r": f"mig-0000{n}", "v": LONE, "at": T0} for n in (1, 2, 3)])
        conn.execute(identifiers.insert().values(kind="phone", value=LONE, report_count=3, first_seen=T0, last_seen=T0))
        conn.execute(sa.text("INSERT INTO report_contacts (report_id, contact) VALUES ('mig-00001', :c)"),
                     {"c": json.dumps(CONTACT, ensure_ascii=False)})
        conn.execute(sa.text("INSERT INTO identifier_disputes (kind, value, relation, reason, contact, status, created_at) "
                             "VALUES ('phone', :v, 'owner', '我的号码', :c, 'open', :at)"),
                     {"v": LONE, "c": json.dumps(CONTACT, ensure_ascii=False), "at": T0})
    with pytest.raises(RuntimeError, match="tierwatch db upgrade"):
        upgrade(url)  # alembic alone has no key to seal with
    ring = KeyRing(tmp_path / "mig-keys", environ={})
    upgrade(url, keys=ring)
    with engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT sealed FROM report_contacts")).scalar_one()
        weight = conn.execute(sa.text(f"SELECT reporter_weight FROM identifiers WHERE value = '{LONE}'")).scalar_one()
        reporters = conn.execute(sa.text("SELECT count(*) FROM identifier_reporters")).scalar_one()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("report_contacts")}
        dispute_raw = conn.execute(sa.text("SELECT sealed_contact FROM identifier_disputes")).scalar_one()
        dispute_columns = {c["name"] for c in sa.inspect(conn).get_columns("identifier_disputes")}
    engine.dispose()
    assert "13712345678" not in dispute_raw and "contact" not in dispute_columns
    assert ContactCipher.from_ring(ring).open(dispute_raw) == CONTACT
    assert "13712345678" not in raw and "李四" not in raw and columns == {"report_id", "sealed"}
    assert ContactCipher.from_ring(ring).open(raw) == CONTACT
    assert (weight, reporters) == (1.25, 2)  # one anonymous reporter twice, one partner feed


def test_the_migration_seals_contacts_stored_in_clear(sqlite_url, tmp_path: Path):
    check_migration_seals_contacts(sqlite_url, tmp_path)
