"""Pydantic's errors as field messages in the visitor's language (what forms show)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from tierwatch.core.errors import Invalid
from tierwatch.web.validation import localise, validate


class Report(BaseModel):
    description: str = Field(min_length=5)
    amount_lost: float | None = Field(default=None, ge=0)
    victims: int = 1


@pytest.mark.parametrize(("language", "expected"), [
    ("zh_CN", {"description": "请至少输入 5 个字符。", "amount_lost": "请输入数字，例如 1200 或 99.5。",
               "victims": "请输入整数。"}),
    ("en", {"description": "Enter at least 5 characters.", "amount_lost": "Enter a number, such as 1200 or 99.5.",
            "victims": "Enter a whole number."}),
])
def test_form_errors_name_the_field_in_the_visitors_language(app, language, expected):
    with app.test_request_context("/", headers={"Cookie": f"tw_lang={language}"}):
        with pytest.raises(Invalid) as refused:
            validate(Report, {"description": "太短", "amount_lost": "两万", "victims": "1.5"})
    assert {e["field"]: e["message"] for e in refused.value.errors} == expected
    assert {e["code"] for e in refused.value.errors} == {"string_too_short", "float_parsing", "int_parsing"}


def test_forms_read_strings_as_numbers(app):
    with app.test_request_context("/"):
        assert validate(Report, {"description": "冒充客服退款", "amount_lost": "20000"}).amount_lost == 20000.0


def test_use_case_errors_are_translated_by_code_and_others_kept(app):
    errors = [{"field": "new_password", "message": "at least 12 characters", "code": "password.too_short"},
              {"field": "name", "message": "already registered"}]
    with app.test_request_context("/"):
        assert [e["message"] for e in localise(errors)] == ["请至少使用 12 个字符。", "already registered"]
