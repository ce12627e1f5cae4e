"""The OpenAPI 3.1 document: valid, complete, generated from the code. (It is also true: the
fuzz test in tests/integration/test_api_fuzz.py checks every answer against it.)"""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.versions.shortcuts import get_spec_version

from tierwatch.registry.schemas import SelfRegistrationIn

NOT_DOCUMENTED = {"api.openapi_document", "api.docs", "api.docs_asset"}  # the description itself


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def test_the_document_is_valid_openapi_31(document):
    validate(document)  # raises with the failing path
    assert str(get_spec_version(document)) == "OpenAPIV3.1"


def test_every_api_route_is_documented_with_who_may_call_it(app, document):
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint in NOT_DOCUMENTED:
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if (path, method.lower()) not in documented:
                missing.append(f"{method} {rule.rule}")
            else:
                op = document["paths"][path][method.lower()]
                roles = app.view_functions[rule.endpoint].allowed_roles
                if "anyone" in roles:
                    assert "security" not in op, rule.rule
                else:
                    assert op["x-roles"] == sorted(roles) and op["security"] == [{"bearer": []}], rule.rule
                    assert {"401", "403"} <= set(op["responses"]), rule.rule
    assert missing == []


def test_path_parameters_carry_their_converters_limits(document):
    [app_id] = document["paths"]["/api/v1/applications/{app_id}"]["get"]["parameters"]
    assert app_id["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    action = next(p for p in document["paths"]["/api/v1/applications/{app_id}/{action}"]["post"]["parameters"]
                  if p["name"] == "action")
    assert action["schema"]["enum"] == ["submit", "start-review", "approve", "return", "reject", "deregister"]


def test_request_models_are_the_use_cases_own(document):
    generated = document["components"]["schemas"]["SelfRegistrationIn"]
    assert generated["required"] == SelfRegistrationIn.model_json_schema()["required"]
    assert generated["additionalProperties"] is False
    scam = document["paths"]["/api/v1/reports/scam"]["post"]
    assert scam["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ScamReportIn"}
    assert set(scam["responses"]) == {"202", "413", "422", "429", "503"}  # public, rate-limited
    rules = document["paths"]["/api/v1/rulesets/validate"]["post"]["requestBody"]["content"]
    assert set(rules) == {"application/yaml", "text/plain"}


def test_the_browsable_page_uses_installed_assets_only(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<script src="/api/v1/docs/assets/swagger-ui-bundle.js">' in html and "//" not in html.split("<body>")[1]
    bundle = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.data) > 500_000
    bundle.close()
    for name in ("../../__init__.py", "LICENSE", "oauth2-redirect.html"):
        assert client.get(f"/api/v1/docs/assets/{name}").status_code == 404
