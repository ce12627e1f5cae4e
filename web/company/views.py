"""The company portal's landing page: the company's applications (issue 12 fills the portal)."""

from __future__ import annotations

from flask import render_template

from tierwatch.registry import service
from tierwatch.web.auth import allow, current_actor, current_user, request_uow
from tierwatch.web.company.blueprint import bp
from tierwatch.web.pagination import Page, offset, page_number

PAGE_SIZE = 20


@bp.get("/")
@allow("company")
def home() -> str:
    actor, user = current_actor(), current_user()
    assert actor is not None and user is not None
    number = page_number()
    apps, total = service.list_applications(request_uow(), actor, limit=PAGE_SIZE, offset=offset(number, PAGE_SIZE))
    return render_template("company/home.html", company=user.company,
                           page=Page(apps, number, PAGE_SIZE, total))
