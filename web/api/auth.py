"""Self-registration, personal API tokens and `who am I`."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from tierwatch.registry import accounts, signup
from tierwatch.registry.models import ApiToken
from tierwatch.registry.schemas import LoginIn, SelfRegistrationIn, TokenIn
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, body, iso
from tierwatch.web.api.registry import company_json, user_json
from tierwatch.web.api.schemas import (
    ConfirmSignupIn, CreateTokenIn, RegistrationOut, SignupAccepted, TokenList, TokenOut, UserOut,
)
from tierwatch.web.auth import ANYONE, SIGNED_IN, allow, current_token, current_user, request_uow
from tierwatch.web.jsonio import json_body
from tierwatch.web.limits import rate_limit
from tierwatch.web.openapi import Error, operation
from tierwatch.web.security_log import note_security_event

TAGS = ("accounts",)


def token_json(token: ApiToken, plain: str | None = None) -> dict[str, Any]:
    data = {"id": token.id, "name": token.name, "prefix": token.prefix, "scope": token.scope,
            "parent_id": token.parent_id,
            "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
            "last_used_at": iso(token.last_used_at), "revoked_at": iso(token.revoked_at)}
    if plain is not None:
        data["token"] = plain  # shown this once; only its hash is kept
    return data


@bp.post("/auth/register")
@allow(ANYONE)
@rate_limit("PUBLIC_FORM_LIMIT")
@operation("Ask for a company account: a confirmation link is e-mailed to the address. The answer is "
           "the same whether or not the address already has an account", body=SelfRegistrationIn,
           responses={202: SignupAccepted}, tags=TAGS)
def register() -> Any:
    uow = request_uow()
    signup.request_signup(uow, body(SelfRegistrationIn))
    uow.commit()
    return jsonify({"status": "confirmation_sent",
                    "message": "if this address can be used, a confirmation link was sent to it"}), 202


@bp.post("/auth/register/confirm")
@allow(ANYONE)
@rate_limit("PUBLIC_FORM_LIMIT")
@operation("Confirm a sign-up with the e-mailed link's token; answers with the company, its first user "
           "and a first token", body=ConfirmSignupIn, responses={201: RegistrationOut, 404: Error}, tags=TAGS)
def confirm_registration() -> Any:
    uow = request_uow()
    user = signup.confirm_signup(uow, body(ConfirmSignupIn).token)
    token, plain = accounts.issue_token(uow, user, "registration")
    uow.commit()
    assert user.company is not None
    return jsonify({"company": company_json(user.company), "user": user_json(user),
                    "token": token_json(token, plain)}), 201


class _PasswordTokenIn(LoginIn, TokenIn):
    pass


@bp.post("/auth/tokens")
@allow(ANYONE)
@rate_limit("SIGNIN_LIMIT")  # it checks a password: as guessable as the sign-in page
@operation("Create a personal API token (with e-mail and password)", body=CreateTokenIn,
           responses={201: TokenOut, 401: Error}, tags=TAGS)
def create_token() -> Any:
    """A token for the account whose e-mail and password are given; or, without them, for an
    administrator signed in with a token (the new token is revoked with that one)."""
    uow = request_uow()
    data = body(_PasswordTokenIn if _has_credentials() else TokenIn)
    if isinstance(data, _PasswordTokenIn):
        user = accounts.authenticate(uow, data.email, data.password)
        if user is None:
            note_security_event("signin_failed", tried=data.email)
            return jsonify({"error": "unauthorized", "message": "wrong e-mail or password"}), 401
        token, plain = accounts.issue_token(uow, user, data.name, data.days, data.scope)
    else:
        caller = current_token()
        if caller is None:
            return jsonify({"error": "unauthorized", "message": "send email and password"}), 401
        token, plain = accounts.mint_token(uow, caller, data.name, data.days, data.scope)
    uow.commit()
    return jsonify(token_json(token, plain)), 201


def _has_credentials() -> bool:
    raw = json_body()
    return isinstance(raw, dict) and ("email" in raw or "password" in raw)


@bp.get("/auth/tokens")
@allow(*SIGNED_IN)
@operation("Your tokens (never their values)", responses={200: TokenList}, tags=TAGS)
def list_tokens() -> Any:
    tokens = accounts.list_tokens(request_uow(), actor().user_id or 0)
    return jsonify({"items": [token_json(t) for t in tokens]})


@bp.delete("/auth/tokens/<int:token_id>")
@allow(*SIGNED_IN)
@operation("Revoke a token (and the tokens it minted)", responses={200: TokenOut, 409: Error}, tags=TAGS)
def revoke_token(token_id: int) -> Any:
    uow = request_uow()
    token = accounts.revoke_token(uow, actor(), token_id)
    uow.commit()
    return jsonify(token_json(token))


@bp.get("/me")
@allow(*SIGNED_IN)
@operation("Who the token belongs to", responses={200: UserOut}, tags=TAGS)
def me() -> Any:
    user = current_user()
    assert user is not None
    return jsonify(user_json(user))
