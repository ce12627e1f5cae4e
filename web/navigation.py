"""The site's menus, as tables. A link is shown only to those its view allows (the view's
``@allow`` declaration), so a menu never offers a page that would answer 403.

To add a page to a menu, add a Link here; to add a portal page, add it to its portal's menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l

from tierwatch.web.auth import ANYONE, current_user


@dataclass(frozen=True)
class Link:
    endpoint: str
    label: Any  # a lazy translated string


# The public pages, in the header of every page.
PUBLIC = (
    Link("public.index", _l("Home")),
    Link("public.report", _l("Report a scam")),
    Link("public.check", _l("Check a number or link")),
    Link("public.registry", _l("Registered AI apps")),
    Link("public.trends", _l("Scam trends")),
    Link("public.tips", _l("Prevention tips")),
)

# The portals, for those who may open them.
PORTALS = (
    Link("company.home", _l("Company portal")),
    Link("regulator.home", _l("Regulator console")),
    Link("analyst.home", _l("Analyst console")),
    Link("account.home", _l("My account")),
)

# Each portal's own menu (shown on its pages: the template sets ``portal``).
PORTAL_MENUS: dict[str, tuple[Link, ...]] = {
    "company": (Link("company.home", _l("Overview")), Link("company.applications", _l("AI applications")),
                Link("company.tasks", _l("Tasks")), Link("company.notices", _l("Notices")),
                Link("company.incidents", _l("Incident reports")),
                Link("company.tokens", _l("API tokens")), Link("company.users", _l("Colleagues"))),
    "regulator": (Link("regulator.home", _l("Dashboards")), Link("regulator.queue", _l("Review queue")),
                  Link("regulator.rulesets", _l("Rule sets")), Link("regulator.calendar", _l("Supervision calendar")),
                  Link("regulator.audit", _l("Audit trail")), Link("regulator.exports", _l("Exports")),
                  Link("regulator.tier_reviews", _l("Tier reviews")), Link("regulator.publication_list", _l("Publishing")),
                  Link("regulator.dispute_list", _l("Disputes"))),
    "analyst": (Link("analyst.home", _l("Overview")), Link("analyst.alerts", _l("Alert queue"))),
    "account": (Link("account.home", _l("My account")), Link("account.password", _l("Change password"))),
}


def may_open(endpoint: str) -> bool:
    view = current_app.view_functions.get(endpoint)
    roles = getattr(view, "allowed_roles", frozenset())
    if ANYONE in roles:
        return True
    user = current_user()
    return user is not None and user.role in roles


def visible(links: tuple[Link, ...]) -> list[dict[str, Any]]:
    return [{"endpoint": link.endpoint, "label": link.label, "current": request.endpoint == link.endpoint}
            for link in links if may_open(link.endpoint)]


def init_app(app: Flask) -> None:
    menus = {"public": PUBLIC, "portals": PORTALS, **PORTAL_MENUS}
    app.context_processor(lambda: {"menu": visible, "menus": menus})
