"""Rule files as a denial of service: each known bomb is refused with a line-numbered 422,
quickly, without the server's memory growing; and the sandbox bounds whatever else is tried."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tierwatch.risk import sandbox
from tierwatch.risk.engine import load_and_compile
from tierwatch.risk.ruleset import RuleSetInvalid

SHIPPED = Path(__file__).resolve().parents[3] / "rules" / "cn-gd.yaml"

# 392 bytes that expand to 9^9 strings if anchors are followed (the "billion laughs").
ALIAS_BOMB = textwrap.dedent("""\
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    """)
DEEP_FILE = "rules: " + "[" * 50_000 + "]" * 50_000 + "\n"


def _nested_macros(levels: int = 10) -> str:
    """A valid rule set whose one condition nests `exists` ten deep over ten-element lists."""
    fields = "[name, description, scenario, version, domain, human_oversight, name, scenario, description, version]"
    condition = "true"
    for level in reversed(range(levels)):
        condition = f"{fields}.exists(v{level}, v{level} == 'x' || {condition})"
    text = SHIPPED.read_text(encoding="utf-8")
    marker = "\nrules:\n"
    head, _, _ = text.partition(marker)
    rule = textwrap.dedent(f"""\
        rules:
          - id: CN-BOMB-01
            tier: high
            points: 1
            reason: {{zh: 炸弹, en: bomb}}
            legal_basis:
              - source: ds
                article: {{zh: 第一条, en: Art. 1}}
                text: {{zh: 测试, en: test}}
            condition: "{condition}"
        """)
    return head + "\n" + rule


def _refused_fast(text: str) -> tuple[RuleSetInvalid, float]:
    started = time.perf_counter()
    with pytest.raises(RuleSetInvalid) as caught:
        load_and_compile(text, "<upload>")
    return caught.value, time.perf_counter() - started


def test_the_alias_bomb_is_refused_at_its_first_anchor() -> None:
    exc, took = _refused_fast(ALIAS_BOMB)
    assert took < 0.5
    assert exc.errors[0].line == 1 and "anchors and aliases" in exc.errors[0].message


def test_the_deep_file_is_refused_with_its_line_not_a_recursion_error() -> None:
    exc, took = _refused_fast(DEEP_FILE)
    assert took < 0.5 and exc.errors[0].line == 1 and "nested deeper" in exc.errors[0].message


def test_nested_macros_are_refused_with_the_rule_and_its_line() -> None:
    exc, took = _refused_fast(_nested_macros())
    assert took < 2
    [error] = [e for e in exc.errors if e.rule_id == "CN-BOMB-01"]
    assert "nested 10 deep" in error.message and error.line is not None


def test_the_sandbox_passes_a_real_rule_file_and_times_it() -> None:
    sandbox.check(SHIPPED.read_text(encoding="utf-8"), "cn-gd.yaml")


def test_the_sandbox_stops_what_runs_too_long_or_too_slowly() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    with pytest.raises(RuleSetInvalid, match="longer than"):
        sandbox.check(text, "cn-gd.yaml", sandbox.Budget(seconds=0.05))
    with pytest.raises(RuleSetInvalid, match="ms per application"):
        sandbox.check(text, "cn-gd.yaml", sandbox.Budget(max_ms_per_application=0.0))
    with pytest.raises(RuleSetInvalid, match="needed more than"):
        sandbox.check(text, "cn-gd.yaml", sandbox.Budget(memory_bytes=16 * 1024 * 1024))


def test_each_bomb_answers_422_within_2s_and_the_server_grows_less_than_100mb(tmp_path: Path) -> None:
    """In a fresh server process: post each bomb to /rulesets/validate and /rulesets/simulate,
    then compare the process's peak memory with what it held before the first bomb."""
    script = textwrap.dedent("""\
        import json, resource, sys, time
        from tierwatch.bootstrap import build
        from tierwatch.core.migrate import upgrade
        from tierwatch.core.settings import load_settings
        from tierwatch.registry import accounts
        from tierwatch.registry.models import User
        from tierwatch.registry.schemas import UserIn
        from tierwatch.core.actors import Actor
        from tierwatch.web import create_app

        data = sys.argv[1]
        url = f"sqlite:///{data}/t.db"
        container = build(load_settings(database_url=url, data_dir=data))
        upgrade(url, keys=container.keys)
        with container.uow() as uow:
            user = accounts.create_user(uow, Actor.system("t"), UserIn(
                email="reg@example.cn", name="r", password="correct horse battery", role="regulator"))
            token = accounts.issue_token(uow, user)[1]
            uow.commit()
        client = create_app({"TESTING": True}, container).test_client()
        headers = {"Authorization": "Bearer " + token, "Content-Type": "application/yaml"}
        client.post("/api/v1/rulesets/validate", data="x: 1\\n", headers=headers)  # warm
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = []
        for name, text in json.loads(sys.stdin.read()).items():
            for path in ("/api/v1/rulesets/validate", "/api/v1/rulesets/simulate"):
                started = time.perf_counter()
                resp = client.post(path, data=text.encode(), headers=headers)
                out.append([name, path, resp.status_code, time.perf_counter() - started,
                            resp.get_json()["errors"][0]["line"]])
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(json.dumps({"results": out, "grown_kb": grown}))
        """)
    bombs = {"alias": ALIAS_BOMB, "deep": DEEP_FILE, "macros": _nested_macros()}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], input=json.dumps(bombs),
                          capture_output=True, text=True, timeout=120, check=True)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    for name, path, status, seconds, line in answer["results"]:
        assert status == 422, (name, path)
        assert seconds < 2, (name, path, seconds)
        assert line is not None, (name, path)
    assert answer["grown_kb"] < 100 * 1024
