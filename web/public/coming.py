"""Placeholders for the public pages of issue 11 items 2-6, so the home page and the menu can
link to them today. Each is replaced by its real view under the same endpoint name (so links stay
right): take its entry out of COMING when you add yours."""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template
from flask_babel import lazy_gettext as _l

from tierwatch.web.auth import ANYONE, allow
from tierwatch.web.public.blueprint import bp

# endpoint (and path) -> the page's title
COMING = {
    "report": _l("Report a scam"),
    "check": _l("Check a number or link"),
    "registry": _l("Registered AI apps"),
    "trends": _l("Scam trends"),
    "tips": _l("Prevention tips"),
}


def _placeholder(name: str) -> Callable[[], str]:
    def view() -> str:
        return render_template("public/coming.html", title=COMING[name])

    view.__name__ = name
    return allow(ANYONE)(view)


for _name in COMING:
    bp.add_url_rule(f"/{_name}", endpoint=_name, view_func=_placeholder(_name), methods=["GET"])
