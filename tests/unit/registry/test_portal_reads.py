"""What the portals read and write in the registry and tiering: versions compared, the review
queue's filters and counts, areas from credit codes, the registry export imported back unchanged,
sign-up by e-mail link answering the same for a known address, evidence limits."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tierwatch.core.actors import Actor
from tierwatch.core.errors import Forbidden, Invalid, NotFound
from tierwatch.registry import evidence, exports, importer, service, signup, versions
from tierwatch.registry.events import SignupRequested
from tierwatch.registry.models import Application, User
from tierwatch.registry.regions import area_label, area_of
from tierwatch.registry.schemas import ApplicationFields, CreateApplicationIn, SelfRegistrationIn
from tierwatch.risk import service as tiering
from tierwatch.risk.queue import QueueFilter, review_queue
from tests.unit.registry.factories import BAIDU, activate_shipped_rules, full_fields


def _filed(container, actor, submit=True, **fields):
    with container.uow() as uow:
        app = service.create_application(uow, actor, CreateApplicationIn(**full_fields(**fields)))
        if submit:
            service.transition(uow, actor, app.id, "submit")
        uow.commit()
        return app.id


def test_areas_come_from_the_credit_code():
    assert area_of("91440300708461136T") == "4403" and area_label("4403", "zh_CN") == "深圳市"
    assert area_of(BAIDU) == "11" and area_label("11", "en") == "Beijing"
    assert area_of(None) is None and area_of("short") is None


def test_a_return_then_an_edit_gives_a_second_version_and_its_diff(container, world):
    app_id = _filed(container, world.a)
    with container.uow() as uow:
        service.transition(uow, world.regulator, app_id, "return", "请补充")
        service.update_application(uow, world.a, app_id, ApplicationFields(monthly_active_users=5, regions=["广东省", "香港"]))
        uow.commit()
    with container.uow() as uow:
        diff = versions.compare(uow, world.a, app_id)
        assert (diff.before, diff.after) == (1, 2)
        assert [(c.field, c.before, c.after) for c in diff.changes] == [
            ("monthly_active_users", 120000, 5), ("regions", ["广东省"], ["广东省", "香港"])]
        assert diff.changes[1].added == ("香港",) and diff.changes[1].removed == ()
        with pytest.raises(NotFound):
            versions.compare(uow, world.b, app_id)


def test_the_queue_filters_by_tier_domain_area_and_age_and_counts_per_status(container, world):
    activate_shipped_rules(container)
    deepfake = _filed(container, world.a, name="换脸", capabilities=["video_deepfake"], domain="social")
    plain = _filed(container, world.b, name="客服", domain="ecommerce")
    draft = _filed(container, world.a, submit=False, name="草稿")
    now = datetime.now(UTC)
    with container.uow() as uow:
        page = review_queue(uow, world.regulator, QueueFilter(), now)
        assert {r.application_id for r in page.rows} == {deepfake, plain} and page.total == 2
        assert page.counts["submitted"] == 2 and page.counts["draft"] == 1
        assert {r.application_id for r in review_queue(uow, world.regulator, QueueFilter(tier="high", jurisdiction="cn-gd"), now).rows} == {deepfake}
        assert [r.application_id for r in review_queue(uow, world.regulator, QueueFilter(domain="ecommerce"), now).rows] == [plain]
        # Tencent and Huawei are both registered in Shenzhen (4403); none in Guangzhou (4401).
        assert review_queue(uow, world.regulator, QueueFilter(area="4403"), now).total == 2
        assert review_queue(uow, world.regulator, QueueFilter(area="4401"), now).total == 0
        assert review_queue(uow, world.regulator, QueueFilter(min_age_days=1), now).total == 0
        assert review_queue(uow, world.regulator, QueueFilter(min_age_days=1), now + timedelta(days=2)).total == 2
        drafts = review_queue(uow, world.regulator, QueueFilter(status="draft"), now)
        assert [r.application_id for r in drafts.rows] == [draft]
        assert page.rows[0].tiers.keys() == {"cn-gd", "eu"}
        with pytest.raises(Forbidden):
            review_queue(uow, world.a, QueueFilter(), now)


def test_the_preview_tiers_a_draft_without_storing_anything(container, world):
    activate_shipped_rules(container)
    app_id = _filed(container, world.a, submit=False, capabilities=["voice_cloning"])
    with container.uow() as uow:
        fields = service.version_fields(service.latest_version(service.get_application(uow, world.a, app_id)))
        preview = {p["jurisdiction"]: p for p in tiering.preview(uow, fields)}
        assert preview["cn-gd"]["tier"] == "high" and "CN-DS-02" in {r["rule_id"] for r in preview["cn-gd"]["fired_rules"]}
        assert tiering.current_assessments(uow, app_id) == []


def test_the_registry_export_imports_back_unchanged(container, world, tmp_path):
    first = _filed(container, world.a, models=[{"name": "混元", "filing_number": "Guangdong-HunYuan-20230831"},
                                               {"name": "自研", "filing_number": None}])
    with container.uow() as uow:
        data = exports.as_csv(exports.REGISTRY_COLUMNS, exports.registry_rows(uow, world.regulator))
        with pytest.raises(Forbidden):
            list(exports.registry_rows(uow, world.a))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0]["models"] == "混元 | Guangdong-HunYuan-20230831; 自研" and rows[0]["cross_border_transfer"] == "no"
    path = tmp_path / "registry.csv"
    path.write_bytes(data)
    with container.uow() as uow:
        uow.session.query(Application).filter(Application.id == first).one()  # still there
        report = importer.run_import(uow, path, actor=Actor.system("test"))
        uow.commit()
        assert report.format == "tierwatch-registry" and len(report.imported) == 1, report.summary()
        copy = uow.session.get(Application, report.imported[0])
        original = uow.session.get(Application, first)
        assert service.version_fields(copy.versions[0]) == service.version_fields(original.versions[0])
    xlsx = exports.as_xlsx("registry", exports.REGISTRY_COLUMNS, iter([["1", "x"]]))
    assert xlsx[:2] == b"PK"


def test_sign_up_answers_the_same_for_a_known_address_and_confirms_once(container, world):
    sent: list[SignupRequested] = []
    container.handlers[SignupRequested] = (lambda _uow, event: sent.append(event),)

    def request(email: str, code: str = BAIDU) -> None:
        with container.uow() as uow:
            signup.request_signup(uow, SelfRegistrationIn.model_validate({
                "company": {"name": "北京百度网讯科技有限公司", "credit_code": code, "contact_name": "李"},
                "user": {"email": email, "name": "李合规", "password": "Lychee season in Zengcheng"}}))
            uow.commit()

    request("a@example.cn")  # already has an account: told so, no link, nothing stored
    request("new@baidu-demo.cn")
    assert [(m.email, m.token is None) for m in sent] == [("a@example.cn", True), ("new@baidu-demo.cn", False)]
    with container.uow() as uow:
        user = signup.confirm_signup(uow, sent[1].token)
        uow.commit()
        assert (user.email, user.role, user.company.credit_code) == ("new@baidu-demo.cn", "company", BAIDU)
        assert user.company.contact_name == "李"
    with container.uow() as uow, pytest.raises(NotFound):
        signup.confirm_signup(uow, sent[1].token)  # used
    with pytest.raises(Invalid) as taken:
        request("other@baidu-demo.cn")  # the credit code is registered now
    assert taken.value.errors[0]["field"] == "company.credit_code"
    with container.uow() as uow:
        assert uow.session.query(User).filter(User.email == "other@baidu-demo.cn").count() == 0


def test_evidence_is_limited_in_size_and_type_and_kept_to_its_company(container, world, tmp_path):
    from tierwatch.registry.models import SupervisionTask

    app_id = _filed(container, world.a, submit=False)
    store = evidence.EvidenceStore(tmp_path / "evidence")
    with container.uow() as uow:
        task = SupervisionTask(application_id=app_id, company_id=world.company_a, kind="self_assessment",
                               period_key="x", due_on=datetime.now(UTC).date(), status="open")
        uow.session.add(task)
        uow.session.flush()
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
        kept = evidence.add_evidence(uow, store, world.a, task.id, "../../etc/报告.png", png)
        assert kept.filename == "报告.png" and kept.content_type == "image/png"
        for data, code in ((b"", "evidence.empty"), (b"MZ\x90\0" + b"\0" * 100, "evidence.type"),
                           (b"%PDF-1.4" + b"\0" * evidence.MAX_BYTES, "evidence.too_large")):
            with pytest.raises(Invalid) as bad:
                evidence.add_evidence(uow, store, world.a, task.id, "x.pdf", data)
            assert bad.value.errors[0]["code"] == code
        with pytest.raises(NotFound):
            evidence.add_evidence(uow, store, world.b, task.id, "x.png", png)
        with pytest.raises(NotFound):
            evidence.open_evidence(uow, store, world.b, kept.public_id)
        assert evidence.open_evidence(uow, store, world.regulator, kept.public_id)[1] == png
