"""The registry's workflow, filing numbers and audit chain on a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tierwatch.core.settings import load_settings
from tierwatch.registry import accounts, audit, service
from tierwatch.core.actors import Actor, actor_of
from tierwatch.core.errors import NotFound
from tierwatch.registry.models import Application, AuditEntry
from tierwatch.registry.schemas import CompanyIn, CreateApplicationIn, UserIn
from tests.unit.registry.factories import HUAWEI, PASSWORD, TENCENT_SZ, full_fields
from tierwatch.bootstrap import Container, build
from tests.pg import fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_container(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """A throw-away database, migrated from scratch, dropped afterwards."""
    with fresh_database(postgres_url, "tw_registry") as url:
        c = build(load_settings(database_url=url, data_dir=tmp_path_factory.mktemp("pg"), secret_key="k" * 32))
        yield c
        c.close()


@pytest.fixture(scope="module")
def actors(pg_container: Container) -> dict[str, Actor]:
    system = Actor.system("test")
    with pg_container.uow() as uow:
        a = accounts.create_company(uow, system, CompanyIn(name="腾讯", credit_code=TENCENT_SZ))
        b = accounts.create_company(uow, system, CompanyIn(name="华为", credit_code=HUAWEI))
        out = {}
        for key, role, company in (("regulator", "regulator", None), ("a", "company", a.id), ("b", "company", b.id)):
            user = accounts.create_user(uow, system, UserIn(email=f"{key}@pg.example", name=key,
                                                           password=PASSWORD, role=role, company_id=company))
            out[key] = actor_of(user)
        uow.commit()
    return out


def _approve(c: Container, actors: dict[str, Actor], name: str) -> str:
    with c.uow() as uow:
        app = service.create_application(uow, actors["a"], CreateApplicationIn(**full_fields(name=name)))
        uow.commit()
    for who, action in (("a", "submit"), ("regulator", "start_review"), ("regulator", "approve")):
        with c.uow() as uow:
            service.transition(uow, actors[who], app.id, action)
            uow.commit()
    with c.uow() as uow:
        return uow.session.get(Application, app.id).filing_number


def test_workflow_and_audit_chain(pg_container, actors):
    number = _approve(pg_container, actors, "粤智客服")
    assert number.startswith("粤AI备-")
    with pg_container.uow() as uow:
        result = audit.verify_chain(uow)
    assert result.ok, result.message


def test_concurrent_approvals_get_distinct_numbers_and_one_chain(pg_container, actors):
    numbers: list[str] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            numbers.append(_approve(pg_container, actors, f"并发应用{i}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(numbers)) == 6
    with pg_container.uow() as uow:
        assert audit.verify_chain(uow).ok


def test_trigger_refuses_changes_and_tampering_is_found(pg_container, actors):
    _approve(pg_container, actors, "篡改测试")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with pg_container.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE audit_entries SET reason = 'x'")
    with pg_container.uow() as uow:
        target = uow.session.scalar(sa.select(sa.func.max(AuditEntry.id))) - 3
    with pg_container.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change")
        conn.exec_driver_sql("UPDATE audit_entries SET actor = 'someone-else' WHERE id = %s", (target,))
        conn.exec_driver_sql("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change")
    with pg_container.uow() as uow:
        result = audit.verify_chain(uow)
    assert not result.ok and result.first_broken_id == target


def test_company_isolation(pg_container, actors):
    with pg_container.uow() as uow:
        app = service.create_application(uow, actors["a"], CreateApplicationIn(**full_fields(name="隔离")))
        uow.commit()
    with pg_container.uow() as uow, pytest.raises(NotFound):
        service.get_application(uow, actors["b"], app.id)
