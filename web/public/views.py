from flask import render_template

from tierwatch.web.public.blueprint import bp


@bp.get("/")
def index() -> str:
    return render_template("public/index.html")


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
