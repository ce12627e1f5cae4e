from __future__ import annotations

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


def _db_path(container):
    return container.engine.url.database


def test_chain_links_every_entry(container):
    _append(container, 5)
    with container.uow() as uow:
        entries = list(uow.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
        assert all(e.prev_hash == p.hash for p, e in zip(entries, entries[1:]))
        assert entries[-1].hash == audit.entry_hash(entries[-1])
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
    result = runner.invoke(audit_group, ["verify"], env={"TIERWATCH_DATABASE_URL": str(container.engine.url)})
    assert result.exit_code == 1
    with container.uow() as uow:
        broken = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.reason == "第7次")).one().id
    assert f"#{broken}" in result.output


def test_cli_reports_intact_chain(container):
    _append(container, 2)
    result = CliRunner().invoke(audit_group, ["verify"], env={"TIERWATCH_DATABASE_URL": str(container.engine.url)})
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
