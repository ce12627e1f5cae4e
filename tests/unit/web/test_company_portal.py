"""The company portal through its forms (Flask test client, SQLite): the filing wizard with a
field error pinned beside its field, drafts saved, the review step with the tier preview,
submission, the record's "what changed" after a return, tiers, tokens, colleagues, evidence,
and the exports in other regimes' shapes."""

from __future__ import annotations

import io
import re

import pytest

from tierwatch.registry import service, supervision
from tierwatch.registry.models import Application, SupervisionTask, TaskEvidence
from tierwatch.registry.schemas import CreateApplicationIn
from tests.unit.registry.factories import PASSWORD, activate_shipped_rules, full_fields
from tests.unit.web.conftest import csrf_token, sign_in

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def rules(container):
    activate_shipped_rules(container)



def _step(client, path, data):
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, **data})


def test_a_company_files_through_the_wizard_with_one_error_corrected_and_submits(client, container, world, rules):
    sign_in(client, "a@example.cn")
    page = client.get("/company/applications/new")
    assert page.status_code == 200 and "名称" in page.get_data(as_text=True)
    answer = _step(client, "/company/applications/new", {
        "name": "粤语客服机器人", "version": "2.0", "description": "面向银行客户的语音客服。",
        "scenario": "电话客服", "deployment_channels": ["app", "api"]})
    assert answer.status_code == 303
    app_id = int(re.search(r"/applications/(\d+)/edit/models", answer.headers["Location"]).group(1))

    steps = {
        "models": {"models-0-name": "混元", "models-0-filing_number": "Guangdong-HunYuan-20230831"},
        "use": {"capabilities": ["voice_cloning", "text_generation"], "domain": "finance"},
        "reach": {"monthly_active_users": "十二万", "regions": "广东省\n香港", "audiences": ["general", "elderly"]},
    }
    for key, data in steps.items():
        answer = _step(client, f"/company/applications/{app_id}/edit/{key}", data)
        if key == "reach":
            # The API's field error, in Chinese, beside the field; nothing saved from this step.
            assert answer.status_code == 422
            html = answer.get_data(as_text=True)
            assert 'id="monthly_active_users-error"' in html and "请输入整数" in html
            answer = _step(client, f"/company/applications/{app_id}/edit/{key}", {**data, "monthly_active_users": "120000"})
        assert answer.status_code == 303, (key, answer.get_data(as_text=True)[:2000])
    for key, data in {"data": {"personal_info": ["biometric"], "cross_border_transfer": "no"},
                      "safeguards": {"public_opinion_attributes": "yes", "human_oversight": "on_request",
                                     "content_labelling": "yes", "security_assessment_done": "yes"}}.items():
        assert _step(client, f"/company/applications/{app_id}/edit/{key}", data).status_code == 303

    review = client.get(f"/company/applications/{app_id}/review")
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "分级预览" in html and "高风险" in html  # voice cloning for the public
    assert "CN-DS-02" in html and "120,000" in html
    answer = client.post(f"/company/applications/{app_id}/submit", data={"csrf_token": csrf_token(client, f"/company/applications/{app_id}/review"),
                                                                             "version": "1"})
    assert answer.status_code == 303
    with container.uow() as uow:
        app = uow.session.get(Application, app_id)
        assert app.status == "submitted" and app.versions[0].monthly_active_users == 120000

    # The regulator returns it; the first edit opens version 2, and the record shows what changed.
    with container.uow() as uow:
        service.transition(uow, world.regulator, app_id, "return", "请补充安全评估报告编号")
        uow.commit()
    record = client.get(f"/company/applications/{app_id}").get_data(as_text=True)
    assert "请补充安全评估报告编号" in record
    assert _step(client, f"/company/applications/{app_id}/edit/service", {
        "name": "粤语客服机器人", "version": "2.1", "description": "面向银行客户的语音客服。",
        "scenario": "电话客服", "deployment_channels": ["app", "api"]}).status_code == 303
    record = client.get(f"/company/applications/{app_id}").get_data(as_text=True)
    assert "从第 1 版到第 2 版的变更" in record and "2.0" in record and "2.1" in record
    tiers = client.get(f"/company/applications/{app_id}/tiers").get_data(as_text=True)
    assert "中国/广东" in tiers and "欧盟《人工智能法》" in tiers and "CN-DS-02" in tiers and "自评估" in tiers


def test_company_b_sees_nothing_of_company_a(client, container, world, rules, tmp_path):
    with container.uow() as uow:
        app = service.create_application(uow, world.a, CreateApplicationIn(**full_fields()))
        task = SupervisionTask(application_id=app.id, company_id=app.company_id, kind="self_assessment",
                               period_key="2026-Q1", due_on=supervision.china_today(supervision.utcnow()), status="open")
        uow.session.add(task)
        uow.commit()
        app_id, task_id = app.id, task.id
    sign_in(client, "a@example.cn")
    page = f"/company/tasks/{task_id}"
    answer = client.post(page, data={"csrf_token": csrf_token(client, page),
                                     "file": (io.BytesIO(PDF), "自评估报告.pdf")}, content_type="multipart/form-data")
    assert answer.status_code == 303
    with container.uow() as uow:
        evidence = uow.session.query(TaskEvidence).one()
        public_id, key = evidence.public_id, evidence.storage_key
    stored = tmp_path / "evidence" / key[:2] / key
    assert stored.read_bytes() == PDF and oct(stored.stat().st_mode & 0o777) == "0o600"
    download = client.get(f"/company/evidence/{public_id}")
    assert download.data == PDF and download.headers["Content-Disposition"].startswith("attachment")
    bad = client.post(page, data={"csrf_token": csrf_token(client, page),
                                  "file": (io.BytesIO(b"<html><script>alert(1)</script>"), "x.pdf")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "PDF" in bad.get_data(as_text=True)
    client.post("/account/signout", data={"csrf_token": csrf_token(client, "/account/")})

    sign_in(client, "b@example.cn")
    for path in (f"/company/applications/{app_id}", f"/company/applications/{app_id}/tiers",
                 f"/company/applications/{app_id}/review", f"/company/applications/{app_id}/edit/service",
                 f"/company/applications/{app_id}/export/annex-viii", f"/company/applications/{app_id}/export/cac",
                 f"/company/tasks/{task_id}", f"/company/evidence/{public_id}"):
        assert client.get(path).status_code == 404, path
    listing = client.get("/company/applications").get_data(as_text=True)
    assert "粤智客服助手" not in listing
    assert "粤智客服助手" not in client.get("/company/tasks").get_data(as_text=True)


def test_tokens_are_created_with_a_scope_and_the_password_then_revoked(client, container, world):
    sign_in(client, "a@example.cn")
    page = "/company/tokens"
    wrong = client.post(page, data={"csrf_token": csrf_token(client, page), "name": "工单系统", "scope": "read",
                                    "days": "30", "password": "not it"})
    assert wrong.status_code == 422
    made = client.post(page, data={"csrf_token": csrf_token(client, page), "name": "工单系统", "scope": "read",
                                   "days": "30", "password": PASSWORD})
    token = re.search(r'<code class="token">(tw_[^<]+)</code>', made.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    refused = client.post("/api/v1/applications", json={"name": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403  # scope read
    listing = client.get(page).get_data(as_text=True)
    assert "只读" in listing and "从未使用" not in listing  # last use is shown
    token_id = int(re.search(r"/company/tokens/(\d+)/revoke", listing).group(1))
    assert client.post(f"/company/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, page)}).status_code == 303
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_exports_in_the_eu_and_cac_shapes(client, container, world):
    with container.uow() as uow:
        app = service.create_application(uow, world.a, CreateApplicationIn(**full_fields(regions=["广东省", "DE"])))
        uow.commit()
    sign_in(client, "a@example.cn")
    data = client.get(f"/company/applications/{app.id}/export/annex-viii?format=json").get_json()
    points = {f["key"]: f for f in data["sections"][0]["fields"]}
    assert list(points) == [str(n) for n in range(1, 14)]
    assert points["4"]["value"]["trade_name"] == "粤智客服助手" and points["10"]["value"] == "DE"
    cac = client.get(f"/company/applications/{app.id}/export/cac?format=json").get_json()
    algorithm = {f["key"]: f["value"] for s in cac["sections"] for f in s["fields"] if s["key"] == "algorithm"}
    assert algorithm["category"] == {"zh": "生成合成类", "en": "generation and synthesis"}
    page = client.get(f"/company/applications/{app.id}/export/cac").get_data(as_text=True)
    assert "统一社会信用代码" in page and "91440300708461136T" in page


def test_the_company_is_told_of_scam_reports_naming_its_application_and_answers_on_the_record(client, container, world):
    from datetime import UTC, datetime, timedelta

    from tierwatch.monitoring.models import Report

    with container.uow() as uow:
        app = service.create_application(uow, world.a, CreateApplicationIn(**full_fields()))
        for action, actor in (("submit", world.a), ("start_review", world.regulator), ("approve", world.regulator)):
            service.transition(uow, actor, app.id, action)
        now = datetime.now(UTC)
        for i in range(3):
            uow.session.add(Report(report_id=f"r{i}", tracking_code=f"TW-R{i:09d}", kind="scam", schema_version=1,
                                   description=f"有人冒充粤智客服助手客服，受害人{i}转账", channel="phone",
                                   scam_type="fake_customer_service", reported_at=now - timedelta(days=i),
                                   received_at=now, application_id=app.id))
        uow.commit()
    sign_in(client, "a@example.cn")
    home = client.get("/company/").get_data(as_text=True)
    assert "诈骗举报提及贵单位 1 个应用" in home
    page = client.get("/company/notices").get_data(as_text=True)
    assert "3 条诈骗举报提及" in page and "phone (3)" in page
    assert "受害人" not in page and "TW-R" not in page  # the citizens' texts and codes stay with the regulator
    short = client.post(f"/company/notices/{app.id}/reply", data={"csrf_token": csrf_token(client, "/company/notices"), "text": "好"})
    assert short.status_code == 422
    answer = "经核查，冒充者并非我司员工；我们已在应用内发布防骗提示并向公安机关报案。"
    assert client.post(f"/company/notices/{app.id}/reply", data={"csrf_token": csrf_token(client, "/company/notices"),
                                                                  "text": answer}).status_code == 303
    assert answer in client.get("/company/notices").get_data(as_text=True)
    client.post("/account/signout", data={"csrf_token": csrf_token(client, "/account/")})
    sign_in(client, "b@example.cn")
    assert client.post(f"/company/notices/{app.id}/reply", data={"csrf_token": csrf_token(client, "/company/notices"),
                                                                  "text": "这不是我们的应用但想写点东西"}).status_code == 404
    assert "粤智客服助手" not in client.get("/company/notices").get_data(as_text=True)
    client.post("/account/signout", data={"csrf_token": csrf_token(client, "/account/")})
    sign_in(client, "regulator@example.cn")
    beside = client.get(f"/regulator/applications/{app.id}").get_data(as_text=True)
    assert answer in beside and "TW-R000000000" in beside
