"""The register of approved applications, prevention tips from content files, published warnings
and case stories."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tierwatch.monitoring.public import publications
from tierwatch.monitoring.public.schemas import PublicationIn
from tierwatch.web.content import BUNDLED, KINDS, ContentError, TipLibrary, parse_tip
from tests.unit.web.public_world import approved_application


@pytest.fixture
def en(client):
    client.set_cookie("tw_lang", "en")
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_the_register_finds_approved_applications_by_name_provider_or_filing_number(en, container, world):
    app = approved_application(container, world, "粤智客服助手")
    number = app.filing_number
    for q in ("客服", "腾讯", number, number[-6:]):
        page = en.get("/registry", query_string={"q": q}).get_data(as_text=True)
        assert f'href="/registry/{app.id}"' in page, q
    assert "0 applications found" in text(en.get("/registry?q=不存在的应用"))
    entry = text(en.get(f"/registry/{app.id}"))
    assert "深圳市腾讯计算机系统有限公司" in entry and number in entry and "e-commerce" in entry
    assert "China / Guangdong" in entry and "EU AI Act" in entry  # both regimes
    assert "Filing" in entry
    assert "alert" not in entry.lower()  # how tightly it is watched stays the regulator's
    api = en.get("/api/v1/public/registry", query_string={"q": "客服"}).get_json()
    assert api["total"] == 1 and {t["jurisdiction"] for t in api["items"][0]["tiers"]} == {"cn-gd", "eu"}
    kinds = {o["kind"] for t in api["items"][0]["tiers"] for o in t["obligations"]}
    assert "filing" in kinds and "alert_thresholds" not in kinds


def test_drafts_and_other_companies_unapproved_filings_are_not_in_the_register(en, container, world):
    from tierwatch.registry import service
    from tierwatch.registry.schemas import CreateApplicationIn
    from tests.unit.registry.factories import full_fields

    with container.uow() as uow:
        draft = service.create_application(uow, world.a, CreateApplicationIn(**full_fields(name="草稿应用")))
        uow.commit()
    assert en.get(f"/registry/{draft.id}").status_code == 404
    assert "草稿应用" not in en.get("/registry?q=草稿").get_data(as_text=True)


def test_every_topic_has_a_tip_in_both_languages():
    library = TipLibrary()
    for language in ("zh_CN", "en"):
        tips = library.all(language)
        assert library.errors == []
        assert {t.topic for t in tips} == {t for topics in KINDS.values() for t in topics}
        assert {t.language for t in tips} == {language}  # each written in that language


def test_tips_pages_in_both_languages(client):
    page = text(client.get("/tips"))
    assert "AI 克隆声音诈骗是怎么回事" in page and "如何核实来电或视频通话的人是谁" in page
    client.set_cookie("tw_lang", "en")
    tip = client.get("/tips/face_swap_video")
    assert tip.status_code == 200 and "wave a hand in front of their face" in text(tip)
    assert client.get("/tips/nonsense").status_code == 404


def test_a_regulator_edits_a_tip_and_a_broken_file_is_left_out_with_its_line(tmp_path: Path):
    tips = tmp_path / "tips"
    tips.mkdir()
    (tips / "cloned_voice.en.md").write_text(
        "---\ntopic: cloned_voice\nkind: ai_technique\ntitle: Edited title\nsummary: Edited.\n---\n"
        "New advice <script>alert(1)</script> [x](javascript:alert(1))\n", encoding="utf-8")
    (tips / "chatbot.en.md").write_text("---\ntopic: chatbot\nkind: ai_technique\ntitel: typo\n---\ntext\n",
                                        encoding="utf-8")
    library = TipLibrary(tmp_path)
    edited = library.get("cloned_voice", "en")
    assert edited.title == "Edited title"
    assert "&lt;script&gt;" in edited.html and "<script>" not in edited.html and 'href="javascript' not in edited.html
    assert library.get("chatbot", "en").title == "How chatbot scams work"  # the bundled one stays
    assert library.errors == ["chatbot.en.md:4: unknown keys ['titel']"]


@pytest.mark.parametrize("text, message", [
    ("no header", "x.en.md:1: a tip starts with a '---' line"),
    ("---\ntopic: [\n---\nbody", "x.en.md:2: bad YAML"),
    ("---\ntopic: lottery\nkind: scam_type\ntitle: t\nsummary: s\n---\nbody", "x.en.md:2: topic 'lottery'"),
    ("---\ntopic: phishing\nkind: scam_type\ntitle: t\nsummary: s\n---\n", "x.en.md:7: the tip has no text"),
])
def test_bad_tip_files_say_where(text, message):
    with pytest.raises(ContentError) as bad:
        parse_tip(text, "x.en.md")
    assert str(bad.value).startswith(message)


def test_bundled_content_is_installed_with_the_package():
    assert (BUNDLED / "tips" / "cloned_voice.zh_CN.md").is_file()


def test_published_warnings_and_case_stories_with_date_and_type(en, container, world):
    with container.uow() as uow:
        warning = publications.draft(uow, world.regulator, PublicationIn(
            kind="warning", title_zh="警惕AI换脸视频借钱", title_en="Face-swapped video calls asking for money",
            summary_zh="有人冒充领导视频借钱", body_zh="对方视频几秒后就挂断，随后要求转账。", scam_type="impersonate_acquaintance",
            ai_techniques=["face_swap_video"]))
        story = publications.draft(uow, world.regulator, PublicationIn(
            kind="case_story", title_zh="退休教师险被“孙子”骗走三万元", summary_zh="银行柜员及时劝阻",
            body_zh="李老师接到“孙子”的电话，声音一模一样……", scam_type="impersonate_acquaintance"))
        hidden = publications.draft(uow, world.regulator, PublicationIn(
            kind="warning", title_zh="尚未发布", summary_zh="草稿", body_zh="草稿内容，不应出现在公众页面。"))
        for p in (warning, story):
            publications.publish(uow, world.regulator, p.id)
        uow.commit()
    listing = text(en.get("/warnings"))
    assert "Face-swapped video calls asking for money" in listing and "退休教师" in listing and "尚未发布" not in listing
    assert "impersonating a boss or acquaintance" in listing
    only_stories = text(en.get("/warnings?kind=case_story"))
    assert "退休教师" in only_stories and "Face-swapped" not in only_stories
    page = en.get(f"/warnings/{story.id}").get_data(as_text=True)
    assert '<span lang="zh-CN">退休教师' in page  # no English yet: the Chinese, marked as such
    assert en.get(f"/warnings/{hidden.id}").status_code == 404
    api = en.get("/api/v1/public/publications", query_string={"kind": "warning"}).get_json()
    assert [p["id"] for p in api["items"]] == [warning.id]
    tip = text(en.get("/tips/impersonate_acquaintance"))
    assert "Face-swapped video calls asking for money" in tip  # the tip links what was published on it
