"""OpenAPI 3.1 from the code. The URL map gives paths, methods and path parameters (each URL
converter states its schema); ``@operation`` on a view gives its summary and pydantic models;
``@allow`` gives who may call it (security, x-roles, 401/403) and ``@rate_limit`` a 429. Pydantic
writes JSON Schema 2020-12, OpenAPI 3.1's own dialect, so model schemas go in unchanged.

Nothing here parses requests: views parse their own input, with the same models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from flask import Flask
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from tierwatch.web.auth import ANYONE

F = TypeVar("F", bound=Callable[..., Any])
_PARAM = re.compile(r"<(?:(?P<conv>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


class Error(BaseModel):
    error: str = Field(description="a machine-readable code: not_found, forbidden, conflict, ...")
    message: str | None = None


class FieldError(BaseModel):
    field: str = Field(description="dotted path of the field, '(body)' for the whole body")
    message: str


class ValidationErrors(BaseModel):
    errors: list[FieldError]


@dataclass(frozen=True)
class Operation:
    summary: str
    body: type[BaseModel] | None = None
    raw_body: tuple[str, ...] = ()  # media types of a body taken as text (a rule file)
    query: type[BaseModel] | None = None
    responses: dict[int, type[BaseModel] | None] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


def operation(summary: str, *, body: type[BaseModel] | None = None, raw_body: tuple[str, ...] = (),
              query: type[BaseModel] | None = None, responses: dict[int, type[BaseModel] | None] | None = None,
              tags: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Document an API view. ``responses``: status -> model (None: no body, e.g. 204); the
    errors every operation can give (401/403/404/413/422/429) are added from what it declares."""

    def decorate(view: F) -> F:
        view.openapi = Operation(summary, body, raw_body, query, responses or {}, tags)  # type: ignore[attr-defined]
        return view

    return decorate


def build_document(app: Flask, title: str = "tierwatch API", version: str = "1") -> dict[str, Any]:
    found = []
    models: set[tuple[type[BaseModel], str]] = {(Error, "serialization"), (ValidationErrors, "serialization")}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        op: Operation | None = getattr(view, "openapi", None)
        if op is None:
            continue
        path, params = _path(rule.rule, app.url_map.converters)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, path, method.lower(), op, params, view))
        models.update((m, "validation") for m in (op.body, op.query) if m is not None)
        models.update((m, "serialization") for m in op.responses.values() if m is not None)

    keyed, defs = models_json_schema(sorted(models, key=lambda m: (m[0].__name__, m[1])),
                                     ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for endpoint, path, method, op, params, view in found:
        roles = getattr(view, "allowed_roles", frozenset())
        doc: dict[str, Any] = {"summary": op.summary, "operationId": _operation_id(endpoint, method),
                               "responses": {}}
        if op.tags:
            doc["tags"] = list(op.tags)
        parameters = list(params) + (_query_parameters(op.query) if op.query else [])
        if parameters:
            doc["parameters"] = parameters
        if op.body:
            doc["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": keyed[(op.body, "validation")]}}}
        elif op.raw_body:
            doc["requestBody"] = {"required": True, "content": {
                media: {"schema": {"type": "string"}} for media in op.raw_body}}
        for status, model in sorted(op.responses.items()):
            doc["responses"][str(status)] = _response(status, keyed[(model, "serialization")] if model else None)
        for status, model in _standard_errors(op, bool(parameters), roles, hasattr(view, "rate_limit")).items():
            doc["responses"].setdefault(str(status), _response(status, keyed[(model, "serialization")]))
        if ANYONE not in roles:
            doc["security"] = [{"bearer": []}]
            doc["x-roles"] = sorted(roles)
        paths.setdefault(path, {})[method] = doc
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "Personal API tokens: POST /api/v1/auth/tokens with e-mail and password, "
                                "then send `Authorization: Bearer <token>`."},
        "paths": paths,
        "components": {"schemas": defs.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _operation_id(endpoint: str, method: str) -> str:
    return f"{endpoint.rpartition('.')[2]}_{method}"


def _path(rule: str, converters: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """'/a/<int:x>' -> '/a/{x}' and its parameter; a converter class may state its own schema."""
    params: list[dict[str, Any]] = []

    def sub(m: re.Match[str]) -> str:
        conv, name = m.group("conv") or "default", m.group("name")
        converter = converters[conv]
        schema = dict(getattr(converter, "openapi_schema", {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}))
        choices = _any_choices(m.group(0)) if conv == "any" else None
        if choices:
            schema = {"type": "string", "enum": choices}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _PARAM.sub(sub, rule), params


def _any_choices(placeholder: str) -> list[str]:
    inside = placeholder[placeholder.index("(") + 1: placeholder.rindex(")")]
    return [c.strip().strip("'\"") for c in inside.split(",") if c.strip()]


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required,
             "schema": {k: v for k, v in prop.items() if k != "title"}}
            for name, prop in schema["properties"].items()]


def _standard_errors(op: Operation, has_parameters: bool, roles: frozenset[str],
                     limited: bool) -> dict[int, type[BaseModel]]:
    out: dict[int, type[BaseModel]] = {}
    if has_parameters:
        out[400] = Error  # a NUL character in the URL (jsonio)
    if op.body or op.raw_body or op.query:
        out[422] = ValidationErrors
    if op.body or op.raw_body:
        out[413] = Error
    if has_parameters:
        out[404] = Error
    if ANYONE not in roles:
        out[401] = Error
        out[403] = Error
    if limited:
        out[429] = Error
    return out


_DESCRIBED = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content", 400: "Bad request",
              401: "Not signed in", 403: "Forbidden", 404: "Not found", 409: "Conflict",
              413: "Body too large", 422: "Invalid input", 429: "Too many requests",
              503: "Not accepted; retry later"}


def _response(status: int, schema: dict[str, Any] | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"description": _DESCRIBED.get(status, str(status))}
    if schema is not None:
        doc["content"] = {"application/json": {"schema": schema}}
    return doc
