"""Who is calling: a personal API token (`Authorization: Bearer ...`) on the JSON API, the login
session on HTML pages. The API ignores the session cookie on purpose, so a browser cannot be
tricked into calling it (no CSRF exposure); pages get CSRF protection from their forms.
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar

from flask import abort, current_app, g, jsonify, request, session

from tierwatch.core.db import UnitOfWork
from tierwatch.registry import accounts
from tierwatch.core.actors import Actor, actor_of
from tierwatch.registry.models import ApiToken, User
from tierwatch.web.context import container_of
from tierwatch.web.security_log import note_security_event

F = TypeVar("F", bound=Callable[..., Any])
_SESSION_KEY = "user_id"


def request_uow() -> UnitOfWork:
    """One unit of work per request, closed (rolled back unless committed) at teardown."""
    uow = g.get("_tw_uow")
    if uow is None:
        uow = container_of(current_app).uow()
        uow.__enter__()
        g._tw_uow = uow
    return uow


def close_request_uow(_exc: BaseException | None = None) -> None:
    uow = g.pop("_tw_uow", None)
    if uow is not None:
        uow.__exit__(None, None, None)


def login_user(user: User) -> None:
    session.clear()  # a fresh session on login: no fixation
    session[_SESSION_KEY] = user.id
    session.permanent = True
    g._tw_user = user


def logout_user() -> None:
    session.clear()
    g.pop("_tw_user", None)


def current_user() -> User | None:
    if "_tw_user" not in g:
        g._tw_user = _load_user()
    return g._tw_user


def current_actor() -> Actor | None:
    user = current_user()
    return actor_of(user) if user is not None else None


def current_token() -> ApiToken | None:
    """The bearer token of this API request, if it is a live one."""
    current_user()
    return g.get("_tw_token")


def _load_user() -> User | None:
    uow = request_uow()
    if request.blueprint == "api":
        header = request.headers.get("Authorization", "")
        scheme, _, plain = header.partition(" ")
        if scheme.lower() != "bearer" or not plain.strip():
            return None
        token = accounts.token_for(uow, plain.strip())
        if token is None:
            note_security_event("bad_token")
            return None
        uow.commit()  # last_used_at
        g._tw_token = token
        return token.user
    user_id = session.get(_SESSION_KEY)
    user = uow.session.get(User, user_id) if isinstance(user_id, int) else None
    return user if user is not None and user.is_active else None


def require_role(*roles: str) -> Callable[[F], F]:
    """Only signed-in users with one of `roles` (any role when none given) get through:
    401 when nobody is signed in, 403 for the wrong role."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return _deny(401, "sign in: send Authorization: Bearer <token>")
            if roles and user.role not in roles:
                note_security_event("forbidden")
                return _deny(403, f"needs role {' or '.join(roles)}")
            refused = _scope_refuses(view)
            if refused:
                note_security_event("forbidden")
                return _deny(403, refused)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def allows_report_scope(view: F) -> F:
    """Mark an endpoint a token of scope "report" may call (submitting reports)."""
    view.report_scope = True  # type: ignore[attr-defined]
    return view


def _scope_refuses(view: Callable[..., Any]) -> str | None:
    token = g.get("_tw_token")
    if token is None or token.scope == "all":
        return None
    if token.scope == "read" and request.method not in ("GET", "HEAD", "OPTIONS"):
        return "this token's scope is read: it may only read"
    if token.scope == "report" and not getattr(view, "report_scope", False):
        return "this token's scope is report: it may only submit reports"
    return None


def _deny(status: int, message: str) -> Any:
    if request.blueprint == "api":
        return jsonify({"error": {401: "unauthorized", 403: "forbidden"}[status], "message": message}), status
    abort(status)
