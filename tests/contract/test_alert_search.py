"""Finding alerts by what an analyst types (monitoring.alerts.text_search, behind the API's ``q``
and the console queue's search box), on SQLite and PostgreSQL, over SQLite FTS5 and
Elasticsearch: alerts raised by a real evaluation cycle, indexed as the outbox indexes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tierwatch.core.search import SearchIndex
from tierwatch.monitoring.alerts.delivery import ALERTS_INDEX, ALERTS_SCHEMA, alert_document
from tierwatch.monitoring.alerts.text_search import alert_ids_matching
from tierwatch.registry.models import Application, ApplicationVersion, Company
from tierwatch.monitoring.alerts.rules import load_rule
from tests.contract.alert_harness import ANALYST, Deployment, Doc, deployed, minute
from tests.unit.web.test_api_alerts import BURST as PHONE_BURST  # api-burst: 2 reports about a number in 1 h
from tests.pg import fresh_database

P1, P2 = "+8613800000001", "+8613800000002"
FILING = "粤AI备-2026-000777"
CITY_WAVE = load_rule("""schema_version: 1
title: {zh: 城市举报激增, en: City wave}
owner: fraud-desk
group: test
id: city-wave
type: frequency
severity: medium
filter: {match: {kind: scam}}
group_by: region
window: 1h
threshold: 3
schedule: {every: 1m, buffer: 0}
""")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield request.getfixturevalue("migrated_sqlite")
        return
    with fresh_database(request.getfixturevalue("postgres_url"), "tw_alert_search") as url:
        yield url


@pytest.fixture
def deployment(search_index: SearchIndex, database_url: str, tmp_path: Path) -> Iterator[Deployment]:
    with deployed(search_index, database_url, tmp_path) as d:
        yield d


def _registered_app(d: Deployment) -> int:
    """A registered application, filed under another name before (its first version)."""
    with d.sessions() as s:
        company = Company(name="广东粤智科技有限公司", credit_code="91440300MA5FTEST01")
        s.add(company)
        s.flush()
        app = Application(company_id=company.id, name="粤智客服助手", status="approved", filing_number=FILING)
        s.add(app)
        s.flush()
        s.add(ApplicationVersion(application_id=app.id, number=1, status="superseded", name="SmartDesk Helper"))
        s.commit()
        return app.id


def test_an_alert_is_found_by_identifier_words_rule_and_application(deployment: Deployment) -> None:
    d = deployment
    app_id = _registered_app(d)
    doc = Doc()
    about_p1 = dict(ident_phone=[P1], region="深圳", application_id=str(app_id),
                    identifiers=[f"phone:{P1}", "url:https://www.fake-bank.cn/login", "domain:fake-bank.cn"])
    # P2's reports list no phone among their identifiers (as when an alert keeps only the first
    # 50): the alert grouped by it is still found by its key.
    about_p2 = dict(ident_phone=[P2], region="东莞", identifiers=["app:速借宝"])
    d.index([doc(1, **about_p1), doc(2, **about_p1)] + [doc(1 + i, **about_p2) for i in range(3)])
    d.cycle([PHONE_BURST, CITY_WAVE], minute(5))
    alerts = {(a.rule_id, a.group_key): a for a in d.alerts()}
    assert set(alerts) == {("api-burst", P1), ("api-burst", P2), ("city-wave", "东莞")}
    d.search.ensure_index(ALERTS_INDEX, ALERTS_SCHEMA)
    d.search.bulk_index(ALERTS_INDEX, [alert_document(a) for a in alerts.values()])
    d.search.refresh(ALERTS_INDEX)
    first, second, city = alerts["api-burst", P1].id, alerts["api-burst", P2].id, alerts["city-wave", "东莞"].id

    def found(q: str) -> set[int]:
        with d.uow() as uow:
            return set(alert_ids_matching(uow, ANALYST, d.search, q))

    # An identifier however it is written: carried by the reports, or the alert's group key.
    assert found("138-0000-0001") == found("+86 138 0000 0001") == found("１３８００００００01") == {first}
    assert found("138 0000 0002") == {second}
    assert found("https://fake-bank.cn/other") == found("fake-bank.cn") == {first}  # the registered domain
    # Words of the title and summary; a group key (the city).
    assert found("城市举报") == {city}
    assert found("深圳") == {first}  # in the first alert's summary only
    assert found("东莞") == {second, city}  # the second's summary, the city alert's key
    # A rule id, whole or in part, in any case.
    assert found("api-burst") == found("BURST") == {first, second}
    assert found("city-wave") == {city}
    # A registered application: part of its name, its name with "APP", an earlier name, its
    # filing number; an unregistered app the reports name.
    assert found("粤智客服") == found("粤智客服助手APP") == found("smartdesk") == found(FILING) == {first}
    assert found("速借宝") == {second, city}
    # Nothing else, and nothing from wildcards or blanks.
    assert found("13999999999") == found("%") == found("_") == found("不存在的应用") == set()
    assert found("   ") == set()


def test_nothing_is_found_before_any_alert_was_indexed(deployment: Deployment) -> None:
    with deployment.uow() as uow:
        assert alert_ids_matching(uow, ANALYST, deployment.search, "13800000001") == ()


def test_companies_cannot_search_alerts(deployment: Deployment) -> None:
    from tierwatch.core.actors import Actor
    from tierwatch.core.errors import NotFound

    with deployment.uow() as uow, pytest.raises(NotFound):
        alert_ids_matching(uow, Actor(label="a@example.cn", role="company"), deployment.search, "13800000001")
