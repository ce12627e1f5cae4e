"""Company sign-up confirmed by an e-mail link, answering the same whether or not the address
already has an account (so the form cannot be used to learn who is registered).

``request_signup`` checks the input (credit code included), keeps the request with only a hash
of the link's secret and of the password, and announces ``SignupRequested``; the listener the
composition root wires sends the e-mail. ``confirm_signup`` creates the company and its first
user from a live link, once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from tierwatch.core.actors import Actor, actor_of
from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Invalid, NotFound
from tierwatch.registry import accounts, audit
from tierwatch.registry.events import SignupRequested
from tierwatch.registry.models import Company, SignupRequest, User
from tierwatch.registry.schemas import CompanyIn, SelfRegistrationIn

LINK_LIFETIME = timedelta(hours=24)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_signup(uow: UnitOfWork, data: SelfRegistrationIn) -> None:
    """Keep the request and announce it; the same outcome for a known and an unknown e-mail."""
    email = data.user.email
    if data.company.credit_code and uow.session.scalars(
            sa.select(Company.id).where(Company.credit_code == data.company.credit_code)).first():
        # A credit code is public (the business licence); saying it is registered reveals no account.
        raise Invalid.one("company.credit_code", "a company with this credit code is already registered")
    known = uow.session.scalars(sa.select(User.id).where(User.email == email)).first() is not None
    password_hash = accounts.hash_password(data.user.password)  # the same work either way
    if known:
        uow.publish(SignupRequested(email, None, data.company.name))
        return
    token = secrets.token_urlsafe(32)
    uow.session.add(SignupRequest(
        token_hash=_digest(token), email=email, expires_at=utcnow() + LINK_LIFETIME,
        data={"company": data.company.model_dump(), "name": data.user.name, "password_hash": password_hash}))
    uow.session.flush()
    uow.publish(SignupRequested(email, token, data.company.name))


def confirm_signup(uow: UnitOfWork, token: str) -> User:
    """The company and its first user, from a live, unused link."""
    request = uow.session.scalars(sa.select(SignupRequest).where(
        SignupRequest.token_hash == _digest(token or ""))).first()
    now = utcnow()
    if request is None or request.confirmed_at is not None or request.expires_at <= now:
        raise NotFound("this confirmation link is unknown, used or expired")
    if uow.session.scalars(sa.select(User.id).where(User.email == request.email)).first():
        raise NotFound("this address already has an account")
    company_in = CompanyIn(**request.data["company"])
    company = accounts.add_company(uow, Actor(label=request.email, role="company"), company_in, "registered")
    user = User(email=request.email, name=request.data["name"], role="company", company_id=company.id,
                password_hash=request.data["password_hash"])
    uow.session.add(user)
    request.confirmed_at = now
    uow.session.flush()
    audit.record(uow, actor_of(user), "user.create", "user", user.id,
                 changes=audit.diff({}, {"email": user.email, "name": user.name, "role": user.role,
                                         "company_id": user.company_id}), reason="e-mail address confirmed")
    return user
