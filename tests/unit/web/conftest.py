from __future__ import annotations

import pytest

from tierwatch.registry import accounts
from tierwatch.registry.models import User
from tests.unit.registry.factories import _template, container, world  # noqa: F401


@pytest.fixture
def client(container):  # noqa: F811
    from tierwatch.web import create_app

    return create_app({"TESTING": True}, container).test_client()


@pytest.fixture
def tokens(container, world):  # noqa: F811
    """A bearer header per world user: admin, regulator, analyst, a, b."""
    out = {}
    with container.uow() as uow:
        for key in ("admin", "regulator", "analyst", "a", "b"):
            user = uow.session.get(User, getattr(world, key).user_id)
            out[key] = {"Authorization": f"Bearer {accounts.issue_token(uow, user)[1]}"}
        uow.commit()
    return out
