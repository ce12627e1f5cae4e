"""Feed the security log from requests: views and error handlers say what happened with
``note_security_event``; one hook writes it after the response, in its own transaction."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, request

from tierwatch.core.clock import utcnow
from tierwatch.registry import security_log
from tierwatch.web.context import container_of

log = logging.getLogger(__name__)


def note_security_event(kind: str, tried: str | None = None) -> None:
    """Record after this request: ``tried`` is an e-mail a failed sign-in used (stored hashed)."""
    g._tw_security_event = (kind, tried)


def init_app(app: Flask) -> None:
    app.after_request(_write)


def _write(response: Response) -> Response:
    event = g.pop("_tw_security_event", None)
    if event is None:
        return response
    kind, tried = event
    container = container_of(current_app)
    key = container.keys.key("pseudonym")
    user = g.get("_tw_user")
    if user is not None:
        actor = f"{user.role}:{user.id}"
    elif tried:
        actor = "email:" + security_log.pseudonym(key, tried, 24)
    else:
        actor = "anonymous"
    route = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
    try:
        with container.uow() as uow:
            security_log.note(uow.session, kind, actor, security_log.pseudonym(key, request.remote_addr or "-"),
                              route, utcnow())
            uow.commit()
    except Exception:  # noqa: BLE001 - the log must never turn a refusal into an error page
        log.exception("security log not written")
    return response
