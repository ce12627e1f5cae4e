"""Languages: Chinese (zh-CN) unless the visitor chose English, remembered in a cookie for a year.
Dates and times are shown in Asia/Shanghai (Flask-Babel's ``datetimeformat``/``dateformat`` Jinja
filters convert from UTC; naive values are taken as UTC).

Catalogues: web/translations/zh_Hans_CN/LC_MESSAGES/messages.po, compiled to .mo at install
(setup.py). The directory is zh_Hans_CN, not zh_CN: Babel parses "zh_CN" as zh_Hans_CN and
gettext looks only there (or in "zh"); a zh_CN folder is silently ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, request, url_for
from flask_babel import Babel, get_locale

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"
COOKIE = "tw_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT  # whatever the browser prefers: zh-CN first


def current_language() -> str:
    """'zh_CN' or 'en'. Compared by language: the locale object is zh_Hans_CN."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def html_lang() -> str:
    return current_language().replace("_", "-")  # zh_CN -> zh-CN for <html lang>


def same_site_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else the home page ("//evil.example" is not)."""
    if not target:
        return url_for("public.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("public.index")
    return target


def init_app(app: Flask) -> Babel:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    babel = Babel(app, locale_selector=select_locale)
    app.extensions["tierwatch_babel"] = babel
    app.context_processor(_template_globals)
    app.add_template_filter(words, "words")
    return babel


def _template_globals() -> dict[str, Any]:
    return {"html_lang": html_lang(), "languages": LANGUAGES, "current_language": current_language(),
            "colon": "：" if current_language() == "zh_CN" else ": "}


def words(items: Any) -> str:
    """A list as people write it: 冒充客服、刷单返利 / fake customer service, task scam."""
    return ("、" if current_language() == "zh_CN" else ", ").join(str(i) for i in items)
