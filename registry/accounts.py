"""Companies, users, passwords (argon2) and personal API tokens (stored only as a hash)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.registry import audit
from tierwatch.core.actors import Actor, actor_of
from tierwatch.core.errors import Conflict, Forbidden, Invalid, NotFound
from tierwatch.registry.models import ApiToken, Company, User
from tierwatch.registry.passwords import PROBLEMS, password_check
from tierwatch.registry.schemas import (
    DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, TOKEN_SCOPES, CompanyIn, UserIn,
)

TOKEN_PREFIX = "tw_"  # nosec B105 # the prefix of issued tokens, not a secret
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(uow: UnitOfWork, email: str, password: str) -> User | None:
    user = uow.session.scalars(sa.select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active or not user.password_hash:
        _hasher.hash(password)  # same cost whether or not the account exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(uow: UnitOfWork, user: User, current: str, new: str) -> None:
    """A user changes their own password: the current one proves it is them, the new one passes
    the rules (registry.passwords). Errors are field-level with a code the web pages translate.
    Signed-in sessions are bound to the password hash, so the web ends the other ones."""
    errors = []
    if not _verifies(user, current):
        errors.append({"field": "current_password", "message": "not your current password",
                       "code": "password.wrong"})
    problem = password_check(new, user.email, user.name)
    if problem:
        errors.append({"field": "new_password", "message": PROBLEMS[problem], "code": f"password.{problem}"})
    elif new == current:
        errors.append({"field": "new_password", "message": "must differ from the current password",
                       "code": "password.unchanged"})
    if errors:
        raise Invalid(errors)
    user.password_hash = hash_password(new)
    audit.record(uow, actor_of(user), "user.password_change", "user", user.id)


def _verifies(user: User, password: str) -> bool:
    if not user.password_hash:
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_company(uow: UnitOfWork, actor: Actor, data: CompanyIn, source: str = "registered") -> Company:
    if not (actor.role in ("admin", "regulator", "system")):
        raise Forbidden("only the regulator registers companies directly")
    return add_company(uow, actor, data, source)


def add_company(uow: UnitOfWork, actor: Actor, data: CompanyIn, source: str) -> Company:
    """A company, its credit code unique; audited. Callers decide who may (create_company, the
    e-mail-confirmed sign-up in registry.signup)."""
    if data.credit_code and uow.session.scalars(
        sa.select(Company.id).where(Company.credit_code == data.credit_code)
    ).first():
        raise Invalid.one("credit_code", "a company with this credit code is already registered")
    company = Company(source=source, **data.model_dump())
    uow.session.add(company)
    uow.session.flush()
    audit.record(uow, actor, "company.create", "company", company.id,
                 changes=audit.diff({}, data.model_dump()))
    return company


def create_user(uow: UnitOfWork, actor: Actor, data: UserIn) -> User:
    if actor.role == "company":
        # A company may add colleagues, never regulator accounts or users of another company.
        if data.role != "company" or data.company_id not in (None, actor.company_id):
            raise Forbidden("a company user may only add users of their own company")
        company_id = actor.company_id
    elif actor.role in ("admin", "system"):
        company_id = data.company_id
    else:
        raise Forbidden("only an administrator creates users")
    if data.role == "company" and company_id is None:
        raise Invalid.one("company_id", "required for a company user")
    if data.role != "company" and company_id is not None:
        raise Invalid.one("company_id", "regulator-side users belong to no company")
    if company_id is not None and uow.session.get(Company, company_id) is None:
        raise Invalid.one("company_id", f"no company {company_id}")
    _require_free_email(uow, data.email)
    user = User(email=data.email, name=data.name, role=data.role, company_id=company_id,
                password_hash=hash_password(data.password))
    uow.session.add(user)
    uow.session.flush()
    audit.record(uow, actor, "user.create", "user", user.id, changes=_user_changes(user))
    return user


def _require_free_email(uow: UnitOfWork, email: str) -> None:
    if uow.session.scalars(sa.select(User.id).where(User.email == email)).first():
        raise Invalid.one("email", "already registered")


def _user_changes(user: User) -> dict[str, object]:
    return audit.diff({}, {"email": user.email, "name": user.name, "role": user.role,
                           "company_id": user.company_id})


def get_company(uow: UnitOfWork, actor: Actor, company_id: int) -> Company:
    company = uow.session.get(Company, company_id)
    if company is None or (not actor.is_regulator and actor.company_id != company_id):
        raise NotFound(f"company {company_id} not found")
    return company


def list_companies(uow: UnitOfWork, actor: Actor, limit: int = 100, offset: int = 0) -> list[Company]:
    stmt = sa.select(Company).order_by(Company.id).limit(limit).offset(offset)
    if not actor.is_regulator:
        stmt = stmt.where(Company.id == (actor.company_id or -1))
    return list(uow.session.scalars(stmt))


def issue_token(
    uow: UnitOfWork,
    user: User,
    name: str = "api",
    days: int = DEFAULT_TOKEN_DAYS,
    scope: str = "all",
    parent: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """A new personal token; the plain value is returned once and only its hash is stored.

    Callers have proved who they are with the password (sign-in, `POST /auth/tokens` with
    e-mail and password) or are an administrator minting with a token: ``parent``, whose
    revocation then revokes this one too (mint_token)."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise Invalid.one("days", f"between 1 and {MAX_TOKEN_DAYS}")
    if scope not in TOKEN_SCOPES:
        raise Invalid.one("scope", f"one of {', '.join(TOKEN_SCOPES)}")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_digest(plain), prefix=plain[:11],
                     expires_at=utcnow() + timedelta(days=days), scope=scope,
                     parent_id=parent.id if parent is not None else None)
    uow.session.add(token)
    uow.session.flush()
    audit.record(uow, actor_of(user), "token.issue", "api_token", token.id,
                 changes={"name": {"before": None, "after": name}, "scope": {"before": None, "after": scope},
                          "expires_at": {"before": None, "after": token.expires_at}})
    return token, plain


def mint_token(uow: UnitOfWork, caller: ApiToken, name: str, days: int, scope: str) -> tuple[ApiToken, str]:
    """A token minted with a token, without the password: administrators only, and the new
    token is the caller's child (revoked with it)."""
    if caller.user.role != "admin":
        raise Forbidden("minting a token needs your password (send email and password), or an administrator")
    return issue_token(uow, caller.user, name, days, scope, parent=caller)


def token_for(uow: UnitOfWork, plain: str) -> ApiToken | None:
    """The live token with this value (not revoked, not expired, its user active); records its use."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = uow.session.scalars(sa.select(ApiToken).where(ApiToken.token_hash == _digest(plain))).first()
    now = utcnow()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    token.last_used_at = now
    return token


def list_tokens(uow: UnitOfWork, user_id: int) -> list[ApiToken]:
    return list(uow.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def revoke_token(uow: UnitOfWork, actor: Actor, token_id: int) -> ApiToken:
    token = uow.session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and actor.role != "admin"):
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at:
        raise Conflict("token already revoked")
    now = utcnow()
    token.revoked_at = now
    audit.record(uow, actor, "token.revoke", "api_token", token.id)
    # What it minted goes with it, down the whole lineage.
    parents = [token.id]
    while parents:
        children = list(uow.session.scalars(sa.select(ApiToken).where(ApiToken.parent_id.in_(parents))))
        for child in children:
            if child.revoked_at is None:
                child.revoked_at = now
                audit.record(uow, actor, "token.revoke", "api_token", child.id, reason=f"parent token {token.id} revoked")
        parents = [c.id for c in children]
    return token


def _digest(plain: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 is enough (no slow hash needed).
    return hashlib.sha256(plain.encode()).hexdigest()


def company_users(uow: UnitOfWork, actor: Actor) -> list[User]:
    """The accounts of the actor's company (a company user sees only their own colleagues)."""
    if actor.company_id is None:
        raise Forbidden("only a company has colleagues here")
    stmt = sa.select(User).where(User.company_id == actor.company_id).order_by(User.id)
    return list(uow.session.scalars(stmt))
