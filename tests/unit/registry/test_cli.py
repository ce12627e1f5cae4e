from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from tierwatch.cli.registry import registry
from tierwatch.registry.models import Company, User
from tests.unit.registry.factories import BAIDU, PASSWORD


def _run(container, *args, input=None):
    return CliRunner().invoke(registry, list(args), obj=container, input=input)


def _companies(container):
    with container.uow() as uow:
        return uow.session.scalar(sa.select(sa.func.count()).select_from(Company))


def test_create_company_validates_the_credit_code(container):
    before = _companies(container)
    bad = _run(container, "create-company", "--name", "北京百度网讯科技有限公司", "--credit-code", "91110108551385082A")
    assert bad.exit_code == 1 and "check digit" in bad.output
    assert _companies(container) == before
    ok = _run(container, "create-company", "--name", "北京百度网讯科技有限公司", "--credit-code", BAIDU)
    assert ok.exit_code == 0, ok.output
    assert _companies(container) == before + 1


def test_create_user_and_token(container, world):
    result = _run(container, "create-user", "--email", "new@example.cn", "--name", "新用户", "--role", "company",
                  "--company-id", str(world.company_a), "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    orphan = _run(container, "create-user", "--email", "x@example.cn", "--name", "x", "--role", "company",
                  "--password", PASSWORD)
    assert orphan.exit_code == 1 and "company_id" in orphan.output
    token = _run(container, "token", "--email", "new@example.cn")
    assert token.exit_code == 0 and token.output.strip().startswith("tw_")
    with container.uow() as uow:
        user = uow.session.scalars(sa.select(User).where(User.email == "new@example.cn")).one()
        assert user.company_id == world.company_a and user.password_hash.startswith("$argon2")
