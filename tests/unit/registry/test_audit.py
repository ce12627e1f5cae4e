from __future__ import annotations

import json
import sqlite3

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tierwatch.registry import audit
from tierwatch.core.actors import Actor
from tierwatch.cli.registry import audit as audit_group
from tierwatch.registry.models import AuditEntry

SYSTEM = Actor.system("test")


def _append(container, n):
    with container.uow() as uow:
        for i in range(n):
            audit.record(uow, SYSTEM, "test.event", "thing", i, changes={"n": {"before": i, "after": i + 1}},
                         reason=f"第{i}次")
        uow.commit()


def _env(container):
    return {"TIERWATCH_DATABASE_URL": str(container.engine.url), "TIERWATCH_DATA_DIR": str(container.settings.data_dir)}


def _db_path(container):
    return container.engine.url.database


def test_chain_links_every_entry(container):
    _append(container, 5)
    with container.uow() as uow:
        entries = list(uow.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
        assert all(e.prev_hash == p.hash for p, e in zip(entries, entries[1:]))
        assert entries[-1].hash == audit.entry_hash(entries[-1], container.keys.key("audit"))
        result = audit.verify_chain(uow)
    assert result.ok and result.checked == len(entries)


def test_database_refuses_update_and_delete(container):
    _append(container, 1)
    with container.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError, match="append-only"):
        conn.exec_driver_sql("UPDATE audit_entries SET reason = 'x'")
    with container.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError, match="append-only"):
        conn.exec_driver_sql("DELETE FROM audit_entries")


def _raw(container, sql, *params):
    container.engine.dispose()
    conn = sqlite3.connect(_db_path(container))
    conn.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_edited_entry_is_named(container):
    _append(container, 6)
    with container.uow() as uow:
        target = uow.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc()).offset(2)).first().id
    _raw(container, "UPDATE audit_entries SET reason = '篡改' WHERE id = ?", target)
    with container.uow() as uow:
        result = audit.verify_chain(uow)
    assert not result.ok and result.first_broken_id == target
    assert "altered" in result.message


def test_deleted_entries_are_noticed(container):
    _append(container, 4)
    with container.uow() as uow:
        last = uow.session.scalar(sa.select(sa.func.max(AuditEntry.id)))
    _raw(container, "DELETE FROM audit_entries WHERE id = ?", last - 1)
    with container.uow() as uow:
        assert audit.verify_chain(uow).first_broken_id == last
    _raw(container, "DELETE FROM audit_entries WHERE id = ?", last)  # now the tail is gone too
    with container.uow() as uow:
        result = audit.verify_chain(uow)
    assert not result.ok and result.first_broken_id == last - 1


def test_edit_of_file_bytes_is_detected_by_cli(container):
    _append(container, 3)
    with container.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    container.engine.dispose()
    path = _db_path(container)
    data = open(path, "rb").read()
    assert data.count("第1次".encode()) == 1
    open(path, "wb").write(data.replace("第1次".encode(), "第7次".encode()))

    runner = CliRunner()
    result = runner.invoke(audit_group, ["verify"], env=_env(container))
    assert result.exit_code == 1
    with container.uow() as uow:
        broken = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.reason == "第7次")).one().id
    assert f"#{broken}" in result.output


def test_cli_reports_intact_chain(container):
    _append(container, 2)
    result = CliRunner().invoke(audit_group, ["verify"], env=_env(container))
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_an_edit_rehashed_without_the_key_is_detected(container):
    """Whoever can write the database can drop the trigger, edit an entry and recompute every
    hash after it; without the audit key (outside the database) the chain still breaks there."""
    import hashlib
    import hmac

    with container.uow() as uow:
        first = uow.session.scalar(sa.select(sa.func.max(AuditEntry.id)))
    _append(container, 5)
    with container.uow() as uow:
        rows = list(uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.id >= first).order_by(AuditEntry.id)))
        uow.session.expunge_all()
    target = rows[2].id
    forged_key = b"guess" * 8  # anything but the real key: SHA-256 or a guessed HMAC key alike
    prev = rows[1].hash
    for entry in rows[2:]:
        if entry.id == target:
            entry.reason = "篡改"
        entry.prev_hash = prev
        entry.hash = hmac.new(forged_key, audit._canonical({
            "id": entry.id, "at": entry.at.isoformat(), "actor_id": entry.actor_id, "actor": entry.actor,
            "action": entry.action, "entity": entry.entity, "entity_id": entry.entity_id,
            "reason": entry.reason, "changes": entry.changes, "prev_hash": prev}).encode(), hashlib.sha256).hexdigest()
        _raw(container, "UPDATE audit_entries SET reason = ?, prev_hash = ?, hash = ? WHERE id = ?",
             entry.reason, entry.prev_hash, entry.hash, entry.id)
        prev = entry.hash
    _raw(container, "UPDATE audit_head SET last_hash = ?", prev)
    with container.uow() as uow:
        result = audit.verify_chain(uow)
    assert not result.ok and result.first_broken_id == target and "altered" in result.message


def test_no_personal_data_enters_the_chain(container, world):
    from tierwatch.registry import accounts
    from tierwatch.registry.schemas import CompanyIn

    with container.uow() as uow:
        company = accounts.create_company(uow, world.regulator, CompanyIn(
            name="某某科技有限公司", country="NL", contact_name="李雷", contact_email="lilei@example.cn", contact_phone="13800000000"), "registered")
        uow.commit()
        entries = list(uow.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
        uow.session.expunge_all()
    text = json.dumps([(e.actor, e.changes, e.reason) for e in entries], ensure_ascii=False)
    for personal in ("李雷", "lilei@example.cn", "13800000000", "@demo", "@example"):
        assert personal not in text
    created = [e for e in entries if e.action == "company.create" and e.entity_id == str(company.id)][0]
    assert created.changes["contact_phone"] == audit.PERSONAL and created.changes["name"]["after"] == "某某科技有限公司"
    assert created.actor == f"regulator:{world.regulator.user_id}"


def test_a_company_sees_regulator_staff_only_as_the_regulator(container, world):
    with container.uow() as uow:
        audit.record(uow, world.regulator, "application.approve", "application", 1)
        audit.record(uow, world.a, "application.update", "application", 1)
        uow.commit()
        entries = audit.list_entries(uow, entity="application", entity_id=1)
        as_company = audit.shown_actors(uow, entries, world.a)
        as_regulator = audit.shown_actors(uow, entries, world.regulator)
        uow.session.expunge_all()
    by_action = {e.action: e.id for e in entries}
    assert as_company[by_action["application.approve"]] == audit.REGULATOR_SHOWN
    assert "@" not in as_company[by_action["application.update"]]
    assert "@" in as_regulator[by_action["application.approve"]]
