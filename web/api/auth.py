"""Self-registration, personal API tokens and `who am I`."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from tierwatch.registry import accounts
from tierwatch.registry.models import ApiToken
from tierwatch.registry.schemas import LoginIn, SelfRegistrationIn, TokenIn
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, body, iso
from tierwatch.web.api.registry import company_json, user_json
from tierwatch.web.auth import current_user, request_uow, require_role


def token_json(token: ApiToken, plain: str | None = None) -> dict[str, Any]:
    data = {"id": token.id, "name": token.name, "prefix": token.prefix,
            "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
            "last_used_at": iso(token.last_used_at), "revoked_at": iso(token.revoked_at)}
    if plain is not None:
        data["token"] = plain  # shown this once; only its hash is kept
    return data


@bp.post("/auth/register")
def register() -> Any:
    uow = request_uow()
    company, user = accounts.register_company(uow, body(SelfRegistrationIn))
    token, plain = accounts.issue_token(uow, user, "registration")
    uow.commit()
    return jsonify({"company": company_json(company), "user": user_json(user),
                    "token": token_json(token, plain)}), 201


class _PasswordTokenIn(LoginIn, TokenIn):
    pass


@bp.post("/auth/tokens")
def create_token() -> Any:
    """A token for the signed-in caller, or, with e-mail and password, for that account."""
    uow = request_uow()
    user = current_user()
    if user is not None:
        data: TokenIn = body(TokenIn)
    else:
        creds = body(_PasswordTokenIn)
        user = accounts.authenticate(uow, creds.email, creds.password)
        if user is None:
            return jsonify({"error": "unauthorized", "message": "wrong e-mail or password"}), 401
        data = creds
    token, plain = accounts.issue_token(uow, user, data.name, data.days)
    uow.commit()
    return jsonify(token_json(token, plain)), 201


@bp.get("/auth/tokens")
@require_role()
def list_tokens() -> Any:
    tokens = accounts.list_tokens(request_uow(), actor().user_id or 0)
    return jsonify({"items": [token_json(t) for t in tokens]})


@bp.delete("/auth/tokens/<int:token_id>")
@require_role()
def revoke_token(token_id: int) -> Any:
    uow = request_uow()
    token = accounts.revoke_token(uow, actor(), token_id)
    uow.commit()
    return jsonify(token_json(token))


@bp.get("/me")
@require_role()
def me() -> Any:
    user = current_user()
    assert user is not None
    return jsonify(user_json(user))
