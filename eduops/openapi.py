"""`GET /api/openapi.json`: the OpenAPI 3.1 document, generated from the models that validate requests.

A route joins the document with one decorator naming its models:

    @bp.post("/api/v1/enroll")
    @openapi.operation("Exchange an enrollment token for an agent key", body=EnrollRequest,
                       answers={201: EnrollAnswer, 400: ErrorAnswer})
    def enroll(): ...

``query=Model`` names a route's query parameters: each field is one parameter.
The document is built from the app's own URL map, so there is no registry to keep in step;
tests/test_openapi.py fails for an /api/ route that does not describe itself.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from flask import Blueprint, Flask, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from eduops import __version__

_SPEC = "eduops_openapi"
PATH_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

bp = Blueprint("openapi", __name__)


def operation(summary: str, body: type[BaseModel] | None = None,
              answers: dict[int, type[BaseModel] | None] | None = None,
              security: str | None = None,
              query: type[BaseModel] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe a view for the OpenAPI document: its request body and query models, answer models by status."""
    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, _SPEC, {"summary": summary, "body": body, "answers": answers or {}, "security": security,
                              "query": query})
        return view
    return mark


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI query parameters of a model's fields; an optional field's null is left out,
    since a query string cannot say null: the parameter is simply not sent."""
    schema = model.model_json_schema()
    found = []
    for name, field in schema["properties"].items():
        field = {k: v for k, v in field.items() if k != "title"}
        description = field.pop("description", None)
        for option in field.pop("anyOf", []):
            if option != {"type": "null"}:
                field.update(option)
        if "default" in field and field["default"] is None:
            del field["default"]
        parameter = {"name": name, "in": "query", "required": name in schema.get("required", ()), "schema": field}
        found.append(parameter | ({"description": description} if description else {}))
    return found


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every described route of ``app``."""
    described = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        spec = getattr(app.view_functions.get(rule.endpoint), _SPEC, None)
        if spec:
            described.append((rule, spec))
    models = {m for _, s in described for m in [s["body"], *s["answers"].values()] if m is not None}
    keys, schemas = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for rule, spec in described:
        path = PATH_PARAM.sub(r"{\1}", rule.rule)
        op: dict[str, Any] = {"summary": spec["summary"], "operationId": rule.endpoint, "responses": {}}
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in PATH_PARAM.findall(rule.rule)]
        params += query_parameters(spec["query"]) if spec["query"] else []
        if params:
            op["parameters"] = params
        if spec["body"] is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": keys[(spec["body"], "validation")]}}}
        for status, model in sorted(spec["answers"].items()):
            answer: dict[str, Any] = {"description": _REASONS.get(status, str(status))}
            if model is not None:
                answer["content"] = {"application/json": {"schema": keys[(model, "validation")]}}
            op["responses"][str(status)] = answer
        if spec["security"]:
            op["security"] = [{spec["security"]: []}]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "EduOps hub API", "version": __version__,
                 "description": "The agent protocol is described in docs/protocol.md."},
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {}), "securitySchemes": {
            "agentKey": {"type": "http", "scheme": "bearer", "description": "The agent key from enrollment."},
            "userToken": {"type": "http", "scheme": "bearer", "description": (
                "A person's API token, made on their account page; a browser signed in to the hub "
                "sends its session cookie instead.")}}},
    }


_REASONS = {200: "OK", 201: "Created", 400: "Bad request: malformed JSON, invalid fields or query parameters",
            401: "Missing, unknown or revoked credentials", 403: "Not allowed for this role or school",
            404: "Not found",
            409: "Conflict with the current state", 413: "Body or batch too large",
            503: "Busy: retry after Retry-After seconds"}


@bp.get("/api/openapi.json")
@operation("This document: the hub's API in OpenAPI 3.1", answers={200: None})
def openapi_json():
    if _SPEC not in current_app.extensions:  # built once: the URL map does not change after start
        current_app.extensions[_SPEC] = document(current_app)
    return jsonify(current_app.extensions[_SPEC])
