"""The API's description: OpenAPI 3.1 generated from the code, and Swagger UI to browse it.

Swagger UI 5 (it reads OpenAPI 3.1) comes from the installed swagger-ui-py package's static
folder: nothing fetched at run time from a CDN, nothing vendored into this repository. Only its
files are used, not its Flask handler, which renders inline script the CSP forbids.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from flask import abort, current_app, jsonify, render_template, send_from_directory

from tierwatch.web.api.blueprint import bp
from tierwatch.web.auth import ANYONE, allow
from tierwatch.web.openapi import build_document

SWAGGER_UI = files("swagger_ui") / "static"
_SWAGGER_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})


@bp.get("/openapi.json")
@allow(ANYONE)
def openapi_document() -> Any:
    document = current_app.extensions.get("tierwatch_openapi")
    if document is None:  # built once per app: the routes do not change while it runs
        document = current_app.extensions["tierwatch_openapi"] = build_document(current_app)
    return jsonify(document)


@bp.get("/docs")
@allow(ANYONE)
def docs() -> str:
    return render_template("api/docs.html")


@bp.get("/docs/assets/<name>")
@allow(ANYONE)
def docs_asset(name: str) -> Any:
    if name not in _SWAGGER_FILES:  # an allow-list: never a path into site-packages
        abort(404)
    return send_from_directory(str(SWAGGER_UI), name, max_age=86400)
