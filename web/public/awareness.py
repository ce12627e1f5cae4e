"""Prevention and awareness: tips per scam type and AI technique (content files a regulator
edits, web/content.py), and the warnings and case stories a regulator published."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, abort, current_app, render_template, request
from markupsafe import Markup

from tierwatch.monitoring.public import publications
from tierwatch.monitoring.public.models import CASE_STORY, WARNING, Publication
from tierwatch.web.auth import ANYONE, allow, request_uow
from tierwatch.web.content import TipLibrary, render_markdown
from tierwatch.web.context import container_of
from tierwatch.web.i18n import current_language
from tierwatch.web.pagination import Page, offset, page_number
from tierwatch.web.public.blueprint import bp

log = logging.getLogger(__name__)
PAGE_SIZE = 10


def tips_library(app: Flask) -> TipLibrary:
    library = app.extensions.get("tierwatch_tips")
    if library is None:
        library = app.extensions["tierwatch_tips"] = TipLibrary(container_of(app).settings.content_dir)
    return library


@bp.get("/tips")
@allow(ANYONE)
def tips() -> Any:
    library = tips_library(current_app)
    every = library.all(current_language())
    for error in library.errors:
        log.warning("prevention tip left out: %s", error)
    warnings, _ = publications.list_published(request_uow(), kind=WARNING, limit=3)
    return render_template("public/tips.html", tips=every, warnings=warnings)


@bp.get("/tips/<topic>")
@allow(ANYONE)
def tip(topic: str) -> Any:
    found = tips_library(current_app).get(topic, current_language())
    if found is None:
        abort(404)
    related, _ = publications.list_published(request_uow(), scam_type=topic, limit=5) \
        if found.kind == "scam_type" else ([], 0)
    return render_template("public/tip.html", tip=found, related=related)


@bp.get("/warnings")
@allow(ANYONE)
def warnings() -> Any:
    kind = request.args.get("kind")
    kind = kind if kind in (WARNING, CASE_STORY) else None
    number = page_number()
    items, total = publications.list_published(request_uow(), kind=kind, limit=PAGE_SIZE,
                                               offset=offset(number, PAGE_SIZE))
    return render_template("public/warnings.html", page=Page(items, number, PAGE_SIZE, total), kind=kind)


@bp.get("/warnings/<int:publication_id>")
@allow(ANYONE)
def publication(publication_id: int) -> Any:
    return render_template("public/publication.html",
                           item=publications.get_published(request_uow(), publication_id))


# --- a publication in the visitor's language (Chinese when no English was written) -------------

def in_language(item: Publication, field: str) -> tuple[str, str]:
    """(text, its language): the English text on English pages when there is one."""
    english = getattr(item, f"{field}_en")
    if current_language() == "en" and english:
        return english, "en"
    return getattr(item, f"{field}_zh"), "zh-CN"


def _tagged(text: str, lang: str, html: Markup | None = None) -> Markup:
    inner = html if html is not None else Markup.escape(text)
    if lang == ("zh-CN" if current_language() == "zh_CN" else "en"):
        return inner
    return Markup('<span lang="%s">%s</span>') % (lang, inner)


def pub_title(item: Publication) -> Markup:
    return _tagged(*in_language(item, "title"))


def pub_summary(item: Publication) -> Markup:
    return _tagged(*in_language(item, "summary"))


def pub_body(item: Publication) -> Markup:
    text, lang = in_language(item, "body")
    html = render_markdown(text)
    if lang == ("zh-CN" if current_language() == "zh_CN" else "en"):
        return html
    return Markup('<div lang="%s">%s</div>') % (lang, html)


@bp.record_once
def _filters(state: Any) -> None:
    for name, function in (("pub_title", pub_title), ("pub_summary", pub_summary), ("pub_body", pub_body)):
        state.app.add_template_filter(function, name)
