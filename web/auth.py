"""Who is calling, and may they: a personal API token (`Authorization: Bearer ...`) on the JSON
API, the sign-in session on HTML pages. The API ignores the session cookie on purpose, so a
browser cannot be tricked into calling it (no CSRF exposure); pages get CSRF protection from
their forms (Flask-WTF).

Every view declares who may call it with ``@allow(...)``; the declaration is kept on the view
(``allowed_roles``), so tests/unit/web/test_access_matrix.py can walk every route and fail on one
that declares nothing. Object-level rules (company A never sees company B's filing) stay in the
domain use cases, which answer NotFound -> 404.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import wraps
from typing import Any, Callable, TypeVar

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for

from tierwatch.core.actors import Actor, actor_of
from tierwatch.core.db import UnitOfWork
from tierwatch.registry import accounts
from tierwatch.registry.models import ApiToken, User
from tierwatch.web.context import container_of
from tierwatch.web.security_log import note_security_event

F = TypeVar("F", bound=Callable[..., Any])

ANYONE = "anyone"  # no sign-in needed (a citizen's tracking code is a capability checked by the view)
USER_ROLES = ("company", "regulator", "analyst", "admin", "partner")  # registry.models.User.role
SIGNED_IN = USER_ROLES  # any account
REGULATOR_SIDE = ("regulator", "analyst", "admin")
ROLES = frozenset({ANYONE, *USER_ROLES})
API_PREFIX = "/api/"

_USER_ID, _STAMP = "user_id", "auth"


def is_api_request() -> bool:
    # The path, not request.blueprint: an unmatched /api/... URL has no blueprint but is the API's.
    return request.path.startswith(API_PREFIX)


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


# --- sessions ------------------------------------------------------------------------------

def _stamp(user: User) -> str:
    # Bound into the session and checked on every request: a password change (or a new role,
    # or a deactivated account) ends every session issued before, a stolen cookie included.
    # Flask's signed-cookie session has no server-side id to revoke; this is Django's
    # "session auth hash" idea.
    message = f"{user.id}:{user.role}:{user.is_active}:{user.password_hash or ''}".encode()
    return hmac.new(str(current_app.secret_key).encode(), message, hashlib.sha256).hexdigest()


def login_user(user: User) -> None:
    session.clear()  # a fresh session (and CSRF token) on sign-in: nothing from before carries over
    session[_USER_ID] = user.id
    session[_STAMP] = _stamp(user)
    session.permanent = True
    g._tw_user = user


def logout_user() -> None:
    session.clear()
    g.pop("_tw_user", None)


def current_user() -> User | None:
    if "_tw_user" not in g:
        g._tw_user = _load_user()
    user: User | None = g._tw_user
    return user


def current_actor() -> Actor | None:
    user = current_user()
    return actor_of(user) if user is not None else None


def current_token() -> ApiToken | None:
    """The bearer token of this API request, if it is a live one."""
    current_user()
    return g.get("_tw_token")


def _load_user() -> User | None:
    uow = request_uow()
    if is_api_request():
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
    user_id = session.get(_USER_ID)
    user = uow.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(str(session.get(_STAMP, "")), _stamp(user)):
        return None
    return user


# --- who may call what ---------------------------------------------------------------------

def allow(*roles: str) -> Callable[[F], F]:
    """Declare and enforce who may call a view. Nobody signed in: 401 on the API, a redirect to
    the sign-in page elsewhere; a signed-in user of another role: 403."""
    unknown = set(roles) - ROLES
    if not roles or unknown:
        raise ValueError(f"allow() takes roles from {sorted(ROLES)}, got {roles!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if ANYONE not in roles:
                user = current_user()
                if user is None:
                    return _deny(401, "sign in: send Authorization: Bearer <token>")
                if user.role not in roles:
                    note_security_event("forbidden")
                    return _deny(403, f"needs role {' or '.join(roles)}")
            refused = _scope_refuses(view)
            if refused:
                note_security_event("forbidden")
                return _deny(403, refused)
            return view(*args, **kwargs)

        wrapper.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def require_role(*roles: str) -> Callable[[F], F]:
    """The older spelling: ``require_role()`` is any signed-in account. Prefer ``allow``."""
    return allow(*(roles or SIGNED_IN))


def allows_report_scope(view: F) -> F:
    """Mark an endpoint a token of scope "report" may call (submitting reports)."""
    view.report_scope = True  # type: ignore[attr-defined]
    return view


def _scope_refuses(view: Callable[..., Any]) -> str | None:
    token = g.get("_tw_token") if is_api_request() else None
    if token is None or token.scope == "all":
        return None
    if token.scope == "read" and request.method not in ("GET", "HEAD", "OPTIONS"):
        return "this token's scope is read: it may only read"
    if token.scope == "report" and not getattr(view, "report_scope", False):
        return "this token's scope is report: it may only submit reports"
    return None


def _deny(status: int, message: str) -> Any:
    if is_api_request():
        return jsonify({"error": {401: "unauthorized", 403: "forbidden"}[status], "message": message}), status
    if status == 401:
        return redirect(url_for("account.signin", next=request.full_path.rstrip("?")))
    abort(status)


def home_endpoint(role: str | None) -> str:
    """Where a signed-in user starts (after sign-in, and the header's "my portal" link)."""
    return {"company": "company.home", "regulator": "regulator.home", "analyst": "analyst.home",
            "admin": "regulator.home"}.get(role or "", "account.home")
