"""Languages: zh-CN by default, English remembered, a complete catalogue, Beijing time."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import render_template_string

import tierwatch.web

REPO = Path(__file__).resolve().parents[3]
CATALOGUES = Path(tierwatch.web.__file__).parent / "translations"
PO = CATALOGUES / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def test_chinese_by_default_whatever_the_browser_prefers(client):
    html = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "举报和查询 AI 诈骗" in html and "跳到主要内容" in html


def test_english_is_remembered_and_the_switch_stays_on_this_site(client):
    response = client.get("/lang/en?next=/trends")
    assert response.status_code == 302 and response.headers["Location"] == "/trends"
    cookie = response.headers["Set-Cookie"]
    assert "tw_lang=en" in cookie and "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html and "Report and check AI scams in Guangdong" in html
    assert 'href="/lang/zh_CN?next=/"' in html and 'lang="zh-CN"' in html  # the way back, labelled 中文
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        assert client.get("/lang/en", query_string={"next": evil}).headers["Location"] == "/"
    assert client.get("/lang/fr").status_code == 404


def test_dates_are_shown_in_beijing_time(app):
    evening_utc = datetime(2025, 3, 1, 18, 30, tzinfo=UTC)  # 2 March, 02:30 in Beijing
    template = "{{ when|datetimeformat('medium') }} / {{ when|dateformat('long') }}"
    with app.test_request_context("/"):
        assert render_template_string(template, when=evening_utc) == "2025年3月2日 02:30:00 / 2025年3月2日"
    with app.test_request_context("/", headers={"Cookie": "tw_lang=en"}):
        assert render_template_string(template, when=evening_utc) == "Mar 2, 2025, 2:30:00\u202fAM / March 2, 2025"


def test_every_message_has_a_chinese_translation():
    with PO.open("rb") as f:
        catalog = read_po(f)
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []
    assert len(catalog) > 100


def test_the_catalogue_holds_every_string_of_the_code(tmp_path):
    # A new _("...") in a view or template must reach the .po before it ships (README "Languages").
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-o", str(pot), "web"], check=True, cwd=REPO, capture_output=True)
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with PO.open("rb") as f:
        have = {m.id for m in read_po(f) if m.id}
    assert sorted(wanted - have) == []
    assert sorted(have - wanted) == [], "strings no longer in the code: run pybabel update"


def test_the_installed_catalogue_is_compiled_from_the_po():
    # setup.py compiles at install; a stale .mo means the .po changed without a reinstall.
    def plain(value):  # a plural message is a list in a .mo and a tuple in a .po
        return tuple(value) if isinstance(value, (list, tuple)) else value

    with PO.open("rb") as f:
        po = {plain(m.id): plain(m.string) for m in read_po(f) if m.id}
    with PO.with_suffix(".mo").open("rb") as f:
        mo = {plain(m.id): plain(m.string) for m in read_mo(f) if m.id}
    assert mo == po


def test_only_the_po_is_committed():
    ignored = subprocess.run(["git", "check-ignore", "-q", str(PO.with_suffix(".mo"))], cwd=REPO)
    assert ignored.returncode == 0, ".mo files are built at install, not committed"
