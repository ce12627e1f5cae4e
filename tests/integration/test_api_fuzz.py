"""Fuzzing the JSON API from its own OpenAPI document (schemathesis), in-process, on the real
services (PostgreSQL, Kafka). Every operation gets a bounded number of generated requests, as an
administrator (who may call every operation); every answer must be no 5xx, a documented status,
of the documented content type, and match its documented schema.

Why a plain test and not ``@schema.parametrize()``: the schema is built from an app on a
throw-away database made by a fixture, and schemathesis' lazy fixture loader does not work on
pytest 9 (schemathesis 4.32: AttributeError '_nodeid').
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tierwatch.registry import accounts
from tierwatch.registry.models import User
from tierwatch.web import create_app
from tests.live import live_container
from tests.unit.registry.factories import make_world

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.slow]

EXAMPLES = int(os.environ.get("TIERWATCH_FUZZ_EXAMPLES", "50"))  # per operation: ~100 s here
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed_app(postgres_url, kafka_bootstrap, tmp_path_factory) -> Iterator[tuple[Any, str]]:
    # The API reads no search index: PostgreSQL and Kafka are what its answers depend on.
    with live_container(postgres_url, kafka_bootstrap, None, tmp_path_factory.mktemp("fuzz"), "fuzz") as container:
        world = make_world(container)
        with container.uow() as uow:
            # Token ids far from 1, so generated ids rarely revoke the token the fuzzer calls with.
            admin = uow.session.get(User, world.admin.user_id)
            for _ in range(3):
                accounts.issue_token(uow, admin, "spare")
            token = accounts.issue_token(uow, admin, "fuzz")[1]
            uow.commit()
        yield create_app({"TESTING": True, "RATELIMIT_ENABLED": False}, container), token


def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(fuzzed_app):
    app, token = fuzzed_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures, seconds = [], {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            case.validate_response(response, checks=CHECKS)

        started = time.perf_counter()
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
            failures.append(f"{operation.label}: {exc}")
        seconds[operation.label] = round(time.perf_counter() - started, 1)
    print(f"fuzzed {len(seconds)} operations x {EXAMPLES} examples in {sum(seconds.values()):.0f} s; slowest:",
          sorted(seconds.items(), key=lambda kv: -kv[1])[:3])
    assert len(seconds) >= 30
    assert failures == [], "\n\n".join(failures)
