"""Password rules (NIST SP 800-63B): length, leaked lists, not the e-mail, typed as is."""

from __future__ import annotations

import pytest

from tierwatch.core.errors import Invalid
from tierwatch.registry.passwords import password_problem
from tierwatch.registry.schemas import AccountIn, LoginIn, SelfRegistrationIn, UserIn, parse


@pytest.mark.parametrize(("password", "why"), [
    ("1234567890", "at least 12"),
    ("123456789012", "sequence"),
    ("leavemealone", "leaked"),
    ("1qaz2wsx3edc", "leaked"),
    ("passwordpassword", "leaked"),
    ("lilei@example.cn", "e-mail"),
    ("LILEI@EXAMPLE.CN", "e-mail"),
    ("aaaaaaaaaaaaaaaa", "repeat"),
    ("abababababababab", "repeat"),
    ("qwertyuiopasdf", "sequence"),
    ("9876543210987", "sequence"),
])
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    problem = password_problem(password, "lilei@example.cn", "李雷")
    assert problem is not None and why in problem


def test_long_uncommon_passwords_of_any_script_pass() -> None:
    assert password_problem("correct horse battery", "a@example.cn") is None
    assert password_problem("我家的猫叫咪咪今年三岁了", "a@example.cn") is None


def test_a_password_is_kept_exactly_as_typed() -> None:
    typed = "  spaces count too  "
    user = parse(UserIn, {"email": "x@example.cn", "name": "x", "password": typed})
    assert user.password == typed
    assert parse(LoginIn, {"email": "x@example.cn", "password": typed}).password == typed


def test_the_error_names_the_field_even_when_nested() -> None:
    with pytest.raises(Invalid) as caught:
        parse(SelfRegistrationIn, {"company": {"name": "某公司", "country": "NL"},
                                   "user": {"email": "a@example.cn", "name": "a", "password": "a@example.cn"}})
    assert caught.value.errors == [{"field": "user.password", "message": "must not be your e-mail address or name"}]
    with pytest.raises(Invalid) as caught:
        parse(AccountIn, {"email": "a@example.cn", "name": "a", "password": "short"})
    assert caught.value.errors[0]["field"] == "password"


@pytest.mark.parametrize(("password", "code"), [
    ("short", "too_short"), ("x" * 201, "too_long"), ("password1234", "common"),
    ("lilei@example.cn", "personal"), ("abababababababab", "repetitive"), ("qwertyuiopasdf", "sequence"),
    ("lychee season in Zengcheng", None),
])
def test_each_problem_has_a_code_the_pages_translate(password: str, code: str | None) -> None:
    from tierwatch.registry.passwords import PROBLEMS, password_check

    assert password_check(password, "lilei@example.cn", "李雷") == code
    assert password_problem(password, "lilei@example.cn", "李雷") == (PROBLEMS[code] if code else None)


def test_a_password_change_needs_the_current_one_and_a_good_new_one(container, world) -> None:  # type: ignore[no-untyped-def]
    from tierwatch.registry import accounts
    from tierwatch.registry.models import User
    from tests.unit.registry.factories import PASSWORD

    with container.uow() as uow:
        user = uow.session.get(User, world.a.user_id)
        with pytest.raises(Invalid) as refused:
            accounts.change_password(uow, user, "wrong", "password1234")
        assert [(e["field"], e["code"]) for e in refused.value.errors] == [
            ("current_password", "password.wrong"), ("new_password", "password.common")]
        with pytest.raises(Invalid) as same:
            accounts.change_password(uow, user, PASSWORD, PASSWORD)
        assert [e["code"] for e in same.value.errors] == ["password.unchanged"]
        accounts.change_password(uow, user, PASSWORD, "lychee season in Zengcheng")
        uow.commit()
    with container.uow() as uow:
        assert accounts.authenticate(uow, "a@example.cn", "lychee season in Zengcheng") is not None
        assert accounts.authenticate(uow, "a@example.cn", PASSWORD) is None
