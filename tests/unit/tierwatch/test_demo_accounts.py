"""Demo accounts: one per role, passwords only in <data dir>/demo-credentials.txt (mode 600)."""

from __future__ import annotations

from tierwatch.bootstrap import build
from tierwatch.core.migrate import upgrade
from tierwatch.core.settings import load_settings
from tierwatch.demo import _accounts
from tierwatch.registry import accounts


def test_one_demo_account_per_role_signs_in_with_the_password_from_the_file(tmp_path):
    settings = load_settings(data_dir=tmp_path, secret_key="k" * 32)
    upgrade(settings.resolved_database_url)
    container = build(settings)
    said: list[str] = []
    _accounts(container, said.append)
    _accounts(container, said.append)  # idempotent: nothing new the second time
    credentials = tmp_path / "demo-credentials.txt"
    assert said == [f"5 demo accounts created; passwords in {credentials}"]  # never the passwords
    assert credentials.stat().st_mode & 0o777 == 0o600
    lines = [line.split() for line in credentials.read_text(encoding="utf-8").splitlines()]
    assert sorted(role for role, _email, _password in lines) == ["admin", "analyst", "company", "partner", "regulator"]
    with container.uow() as uow:
        for role, email, password in lines:
            user = accounts.authenticate(uow, email, password)
            assert user is not None and user.role == role
            assert (user.company is not None) == (role == "company")
    container.close()
