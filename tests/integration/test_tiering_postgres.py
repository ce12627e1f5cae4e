"""Tiering on a real PostgreSQL server: activation, tiering on submission and the stored text
matches (their insert skips a text another transaction stored first)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tierwatch.bootstrap import Container, build
from tierwatch.core.actors import Actor, actor_of
from tierwatch.core.settings import load_settings
from tierwatch.registry import accounts
from tierwatch.registry import service as registry_service
from tierwatch.registry.schemas import CompanyIn, CreateApplicationIn, UserIn
from tierwatch.risk import service
from tierwatch.risk.engine import load_and_compile
from tierwatch.risk.models import TextMatch
from tierwatch.risk.textstore import TextMatches
from tests.pg import fresh_database
from tests.unit.registry.factories import PASSWORD, TENCENT_SZ, full_fields

pytestmark = pytest.mark.postgres

EU = Path(__file__).resolve().parents[2] / "rules" / "eu-ai-act.yaml"


@pytest.fixture(scope="module")
def pg(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Container, Actor]]:
    with fresh_database(postgres_url, "tw_tiering") as url:
        c = build(load_settings(database_url=url, data_dir=tmp_path_factory.mktemp("pg"), secret_key="k" * 32))
        system = Actor.system("test")
        with c.uow() as uow:
            company = accounts.create_company(uow, system, CompanyIn(name="腾讯", credit_code=TENCENT_SZ))
            user = accounts.create_user(uow, system, UserIn(email="a@pg.example", name="a", password=PASSWORD,
                                                            role="company", company_id=company.id))
            uow.commit()
            actor = actor_of(user)
        yield c, actor
        c.close()


def _file(c: Container, actor: Actor, **overrides: Any) -> int:
    with c.uow() as uow:
        app = registry_service.create_application(uow, actor, CreateApplicationIn(**full_fields(**overrides)))
        registry_service.transition(uow, actor, app.id, "submit")
        uow.commit()
        return app.id


def _activate(c: Container, text: Any) -> None:
    with c.uow() as uow:
        service.activate_ruleset(uow, text, "cli", registry_service.iter_current_applications(uow))
        uow.commit()


def _current(c: Container, app_id: int) -> list[tuple[str, list[Any]]]:
    with c.uow() as uow:
        return [(r.tier, r.flags) for r in service.current_assessments(uow, app_id)]


def test_text_matches_on_postgres(pg: tuple[Container, Actor]) -> None:
    c, actor = pg
    live = _file(c, actor, name="站点识别", capabilities=["biometric_identification"],
                 scenario="在车站对旅客进行实时人脸比对")
    _activate(c, EU)
    with c.uow() as uow:
        rows = uow.session.execute(sa.select(TextMatch.text_hash, TextMatch.matches)).all()
    assert len(rows) == 1 and "realtime_rbi" in rows[0].matches
    first = _current(c, live)
    assert "EU-TXT-5H" in {f["id"] for _tier, flags in first for f in flags}  # the text, the form silent

    # Submission stores its own text's matches at once.
    scoring = _file(c, actor, name="文明积分", scenario="对居民日常行为打分排名")
    with c.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(TextMatch)) == 2
        [row] = service.current_assessments(uow, scoring)
        assert "EU-TXT-5C" in {f["id"] for f in row.flags}

    # A second transaction that matched the same text again stores nothing and does not fail.
    compiled = load_and_compile(EU)
    with c.uow() as uow:
        again = TextMatches(uow, compiled, hashes=[])  # knows none: matches every text anew
        for _app_id, _version_id, f in list(registry_service.iter_current_applications(uow)):
            again.attach(f)
        assert again.save(uow) == 2
        uow.commit()
    with c.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(TextMatch)) == 2

    # The same rules again read the stored matches: the same results.
    _activate(c, EU.read_text(encoding="utf-8"))
    assert _current(c, live) == first
