"""The regulator console's monitoring pages (Flask test client, SQLite, embedded search):
publishing warnings and case stories (a text naming a person is refused), deciding the tier
reviews raised from alerts, and an application's alerts beside the company's answers."""

from __future__ import annotations

import re

import pytest

from tierwatch.monitoring import replies
from tierwatch.monitoring.public import publications
from tierwatch.monitoring.public.models import DRAFT, PUBLISHED, WITHDRAWN, Publication
from tierwatch.monitoring.public.schemas import PublicationIn
from tierwatch.risk import reviews
from tierwatch.risk import service as tiering
from tierwatch.risk.models import TierReview
from tests.unit.web.conftest import csrf_token, sign_in
from tests.unit.web.test_api_alerts import PHONES, alerts  # noqa: F401

BODY = "有人冒充**电商客服**来电，称订单异常需要退款，要求下载屏幕共享软件。\n\n- 不要共享屏幕\n- 不要提供验证码"
JUSTIFICATION = "近一个月该应用被大量诈骗举报提及，冒充客服情形集中，按高风险从严监管。"


def _status(container, publication_id: int) -> str:
    with container.uow() as uow:
        return uow.session.get(Publication, publication_id).status


@pytest.fixture
def analyst_draft(container, world) -> int:
    """A case story an analyst drafted from an alert, naming the victim's phone number."""
    with container.uow() as uow:
        item = publications.draft(uow, world.analyst, PublicationIn(
            kind="case_story", title_zh="冒充客服退款诈骗案例", summary_zh="一位市民险些被骗走三万元",
            body_zh="受害人（电话 13800138000）接到自称客服的来电，对方要求共享屏幕。", source_alert_id="17",
            report_ids=["report-0000-17"]))
        uow.commit()
        return item.id


def test_a_regulator_writes_edits_previews_publishes_and_withdraws_a_warning(client, container, world):
    sign_in(client, "regulator@example.cn")
    listing = client.get("/regulator/publications").get_data(as_text=True)
    assert "发布管理" in listing and "没有待审的草稿" in listing
    new = "/regulator/publications/new"
    bad = client.post(new, data={"csrf_token": csrf_token(client, new), "kind": "warning", "title_zh": "警",
                                 "summary_zh": "摘要文字", "body_zh": BODY})
    assert bad.status_code == 422 and 'id="title_zh-error"' in bad.get_data(as_text=True)
    made = client.post(new, data={"csrf_token": csrf_token(client, new), "kind": "warning",
                                  "title_zh": "警惕冒充电商客服退款", "summary_zh": "自称客服要求共享屏幕的都是诈骗",
                                  "body_zh": BODY, "scam_type": "fake_customer_service", "ai_techniques": ["cloned_voice"],
                                  "identifiers": "phone:+8613900000001"})
    assert made.status_code == 303, made.get_data(as_text=True)
    page = made.headers["Location"]
    publication_id = int(page.rsplit("/", 1)[1])
    preview = client.get(page).get_data(as_text=True)
    assert "<strong>电商客服</strong>" in preview and "<li>不要共享屏幕</li>" in preview  # Markdown rendered
    assert "phone:+8613900000001" in preview
    edit = f"{page}/edit"
    assert "警惕冒充电商客服退款" in client.get(edit).get_data(as_text=True)  # the draft's values
    saved = client.post(edit, data={"csrf_token": csrf_token(client, edit), "kind": "warning",
                                    "title_zh": "警惕冒充电商客服的退款骗局", "title_en": "Fake refund calls",
                                    "summary_zh": "自称客服要求共享屏幕的都是诈骗", "body_zh": BODY,
                                    "identifiers": "phone:+8613900000001"})
    assert saved.status_code == 303
    assert "待审的草稿（1）" in client.get("/regulator/publications").get_data(as_text=True)
    assert client.get(f"/warnings/{publication_id}").status_code == 404  # not public yet
    published = client.post(f"{page}/publish", data={"csrf_token": csrf_token(client, page)}, follow_redirects=True)
    assert "已发布" in published.get_data(as_text=True)
    assert "警惕冒充电商客服的退款骗局" in client.get(f"/warnings/{publication_id}").get_data(as_text=True)
    assert client.get(edit).status_code == 409  # a published text is not edited
    short = client.post(f"{page}/withdraw", data={"csrf_token": csrf_token(client, page), "reason": "错"})
    assert short.status_code == 422 and 'id="reason-error"' in short.get_data(as_text=True)
    assert _status(container, publication_id) == PUBLISHED
    done = client.post(f"{page}/withdraw", data={"csrf_token": csrf_token(client, page),
                                                 "reason": "号码已核实为正常商户，撤回警示"})
    assert done.status_code == 303 and _status(container, publication_id) == WITHDRAWN
    assert client.get(f"/warnings/{publication_id}").status_code == 404
    assert "号码已核实为正常商户" in client.get(page).get_data(as_text=True)
    with container.uow() as uow:
        item = uow.session.get(Publication, publication_id)
        assert item.title_en == "Fake refund calls" and item.withdrawn_by


def test_a_draft_naming_a_person_is_refused_and_an_edit_keeps_its_alert(client, container, world, analyst_draft):
    sign_in(client, "regulator@example.cn")
    page = f"/regulator/publications/{analyst_draft}"
    assert "冒充客服退款诈骗案例" in client.get("/regulator/publications").get_data(as_text=True)
    preview = client.get(page).get_data(as_text=True)
    assert "此草稿暂不能发布" in preview and "电话号码 +8…00" in preview and "13800138000" in preview
    refused = client.post(f"{page}/publish", data={"csrf_token": csrf_token(client, page)})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "未发布：文字中有个人或账户信息" in html and "电话号码 +8…00" in html
    assert _status(container, analyst_draft) == DRAFT
    edit = f"{page}/edit"
    fixed = client.post(edit, data={"csrf_token": csrf_token(client, edit), "kind": "case_story",
                                    "title_zh": "冒充客服退款诈骗案例", "summary_zh": "一位市民险些被骗走三万元",
                                    "body_zh": "受害人接到自称客服的来电，对方要求共享屏幕，所幸及时挂断。"})
    assert fixed.status_code == 303
    with container.uow() as uow:
        assert uow.session.get(Publication, analyst_draft).source_alert_id == "17"  # the analyst's link stays
    assert client.post(f"{page}/publish", data={"csrf_token": csrf_token(client, page)}).status_code == 303
    assert _status(container, analyst_draft) == PUBLISHED


def test_publishing_needs_the_form_token_and_a_regulator(client, container, world, analyst_draft):
    sign_in(client, "regulator@example.cn")
    page = f"/regulator/publications/{analyst_draft}"
    assert client.post(f"{page}/publish").status_code == 400  # no CSRF token
    assert client.post(f"{page}/withdraw", data={"reason": "不再适用的警示"}).status_code == 400
    assert _status(container, analyst_draft) == DRAFT
    client.post("/account/signout", data={"csrf_token": csrf_token(client, "/account/")})
    for email in ("a@example.cn", "analyst@example.cn"):
        sign_in(client, email)
        assert client.get("/regulator/publications").status_code == 403
        assert client.get(page).status_code == 403
        token = csrf_token(client, "/account/")
        assert client.post(f"{page}/publish", data={"csrf_token": token}).status_code == 403
        client.post("/account/signout", data={"csrf_token": token})
    assert _status(container, analyst_draft) == DRAFT
    assert client.get("/regulator/publications").status_code == 302  # signed out: to the sign-in page


@pytest.fixture
def review_id(container, world, alerts) -> int:  # noqa: F811
    """A tier review an analyst asked for from the alert about the registered application."""
    with container.uow() as uow:
        review = reviews.open_review(uow, world.analyst, alerts["app"], "冒充客服举报集中，建议复核分级",
                                     alert_id=alerts[PHONES[0]])
        uow.commit()
        return review.id


def test_a_regulator_decides_a_tier_review_keep_needs_a_justification_override_sets_the_tier(
        client, container, world, alerts, review_id):  # noqa: F811
    sign_in(client, "regulator@example.cn")
    with container.uow() as uow:
        review = uow.session.get(TierReview, review_id)
        jurisdiction, before = review.jurisdiction, review.tier_at_request
    other = "eu" if jurisdiction == "cn-gd" else "cn-gd"
    listing = client.get("/regulator/tier-reviews").get_data(as_text=True)
    assert "安心贷" in listing and "冒充客服举报集中" in listing and "待审核: 1" in listing
    assert "安心贷" not in client.get(f"/regulator/tier-reviews?jurisdiction={other}").get_data(as_text=True)
    assert "安心贷" not in client.get("/regulator/tier-reviews?status=decided").get_data(as_text=True)
    page = f"/regulator/tier-reviews/{review_id}"
    detail = client.get(page).get_data(as_text=True)
    assert "测试规则" in detail and "1 小时内 2 份举报涉及 +8613800000001" in detail  # the alert behind it
    short = client.post(page, data={"csrf_token": csrf_token(client, page), "decision": "keep", "comment": "维持"})
    assert short.status_code == 422 and "请至少写 20 个字" in short.get_data(as_text=True)
    no_tier = client.post(page, data={"csrf_token": csrf_token(client, page), "decision": "override",
                                      "jurisdiction": jurisdiction, "comment": JUSTIFICATION})
    assert no_tier.status_code == 422 and "请选择要设定的分级" in no_tier.get_data(as_text=True)
    target = "high" if before != "high" else "medium"
    done = client.post(page, data={"csrf_token": csrf_token(client, page), "decision": "override",
                                   "jurisdiction": jurisdiction, "tier": target, "comment": JUSTIFICATION})
    assert done.status_code == 303
    with container.uow() as uow:
        review = uow.session.get(TierReview, review_id)
        assert (review.status, review.decision, review.decided_tier) == ("decided", "override", target)
        assert tiering.effective_tier(uow, alerts["app"], jurisdiction).tier == target
        assert review.override_id == tiering.effective_tier(uow, alerts["app"], jurisdiction).override_id
    shown = client.get(page).get_data(as_text=True)
    assert "调整分级" in shown and JUSTIFICATION in shown and "记录决定" not in shown
    again = client.post(page, data={"csrf_token": csrf_token(client, "/regulator/tier-reviews"), "decision": "keep",
                                    "comment": JUSTIFICATION})
    assert again.status_code == 409  # already decided
    assert "已决定: 1" in client.get("/regulator/tier-reviews?status=decided").get_data(as_text=True)


def test_tier_reviews_need_the_form_token_and_a_regulator(client, container, world, review_id):
    sign_in(client, "regulator@example.cn")
    page = f"/regulator/tier-reviews/{review_id}"
    assert client.post(page, data={"decision": "keep", "comment": JUSTIFICATION}).status_code == 400
    client.post("/account/signout", data={"csrf_token": csrf_token(client, "/account/")})
    for email in ("a@example.cn", "b@example.cn", "analyst@example.cn"):
        sign_in(client, email)
        assert client.get("/regulator/tier-reviews").status_code == 403
        token = csrf_token(client, "/account/")
        assert client.post(page, data={"csrf_token": token, "decision": "keep", "comment": JUSTIFICATION}).status_code == 403
        client.post("/account/signout", data={"csrf_token": token})
    with container.uow() as uow:
        assert uow.session.get(TierReview, review_id).status == "open"


def test_the_application_page_shows_its_alerts_beside_the_companys_answers(client, container, world, alerts):  # noqa: F811
    alert_id = alerts[PHONES[0]]
    with container.uow() as uow:
        replies.reply(uow, world.a, alerts["app"], "该号码并非我司客服电话，已在应用内提示用户。", now=_now(),
                      subject="alert", subject_ref=str(alert_id))
        replies.reply(uow, world.a, alerts["app"], "本月举报所涉冒充行为与我司无关，已报警处理。", now=_now())
        uow.commit()
    sign_in(client, "regulator@example.cn")
    html = client.get(f"/regulator/applications/{alerts['app']}").get_data(as_text=True)
    assert "提及该应用的告警（1）" in html
    section = re.search(r'<section class="panel alert-item".*?</section>', html, re.S).group(0)
    assert f"#{alert_id} 测试规则" in section and "该号码并非我司客服电话" in section
    assert "本月举报所涉冒充行为" not in section  # the reports' answer stays beside the reports
    assert "本月举报所涉冒充行为" in html
    # The other alerts (numbers not linked to the application) are not listed.
    assert f"#{alerts[PHONES[1]]} " not in html


def _now():
    from tierwatch.core.clock import utcnow

    return utcnow()

