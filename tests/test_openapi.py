"""The OpenAPI 3 document at /api/v1/openapi.json (DESIGN §9, §10): valid, complete, honest
about authentication and errors."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

#: The core row of the resource map (DESIGN §10), in the document's path syntax.
CORE_PATHS = {
    "/api/v1/auth/token": {"post", "delete"},
    "/api/v1/me": {"get", "patch"},
    "/api/v1/agencies": {"get", "post"},
    "/api/v1/agencies/{code}": {"get", "patch"},
    "/api/v1/users": {"get", "post"},
    "/api/v1/users/{user_id}": {"get", "patch"},
    "/api/v1/exchange-rates": {"get", "post"},
    "/api/v1/requests": {"get"},
    "/api/v1/requests/{reference}": {"get"},
    "/api/v1/requests/{reference}/transitions": {"post"},
    "/api/v1/notifications": {"get"},
    "/api/v1/audit": {"get"},
}
METHODS = {"get", "put", "post", "patch", "delete"}
PROBLEM_REF = "#/components/schemas/Problem"


@pytest.fixture(scope="module")
def spec(app):
    r = app.test_client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    return r.get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def resolve(spec, obj: dict) -> dict:
    while "$ref" in obj:
        _, *parts = obj["$ref"].split("/")
        obj = spec
        for part in parts:
            obj = obj[part]
    return obj


def test_document_is_a_valid_openapi_3_document(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises on any violation of the OpenAPI 3 schema


def test_every_core_path_of_the_resource_map_is_documented(spec):
    for path, methods in CORE_PATHS.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, set(spec["paths"][path]))


def test_every_api_route_of_the_app_is_documented(app, spec):
    """A route served under /api/v1 but missing from the document is invisible to clients."""
    documented = {(re.sub(r"\{[^}]+\}", "{}", p), m) for p, m, _ in operations(spec)}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs."):
            continue
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "{}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (rule.rule, method)


def test_bearer_security_is_declared_and_only_the_token_exchange_is_open(spec):
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["security"] == [{"bearer": []}]
    open_ops = [(p, m) for p, m, op in operations(spec) if op.get("security", spec["security"]) == []]
    assert open_ops == [("/api/v1/auth/token", "post")]


def test_problem_schema_is_the_error_shape_of_design_9(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert {"status", "title", "detail", "errors"} <= set(problem["required"])
    assert problem["properties"]["errors"]["additionalProperties"]["type"] == "array"


def test_error_responses_reference_the_problem_schema(spec):
    seen = set()
    for path, method, op in operations(spec):
        for code, response in op["responses"].items():
            if code == "default" or int(code) >= 400:
                body = resolve(spec, response)
                schema = body["content"]["application/json"]["schema"]
                assert schema == {"$ref": PROBLEM_REF}, (path, method, code)
                seen.add(code)
    assert {"401", "403", "404", "409", "422", "429"} <= seen


def test_protected_operations_document_401_and_changes_document_403(spec):
    for path, method, op in operations(spec):
        if op.get("security") == []:
            continue
        assert "401" in op["responses"], (path, method)
        if method in {"post", "put", "patch", "delete"}:
            assert "403" in op["responses"], (path, method)


@pytest.mark.parametrize("path,method,codes", [
    ("/api/v1/auth/token", "post", {"201", "401", "422", "429"}),
    ("/api/v1/agencies/{code}", "get", {"200", "401", "404"}),
    ("/api/v1/agencies", "post", {"201", "401", "403", "422"}),
    ("/api/v1/requests", "get", {"200", "401", "422"}),
    ("/api/v1/requests/{reference}", "get", {"200", "401", "404"}),
    ("/api/v1/requests/{reference}/transitions", "post", {"200", "401", "403", "404", "409", "422"}),
    ("/api/v1/audit", "get", {"200", "401", "403", "422"}),
])
def test_core_operations_document_their_answers(spec, path, method, codes):
    assert codes <= set(spec["paths"][path][method]["responses"])


def test_core_operations_say_what_they_do(spec):
    for path, method, op in operations(spec):
        if path in CORE_PATHS:
            assert op.get("summary"), (path, method)


def test_amounts_are_documented_as_decimal_strings(spec):
    limit = spec["components"]["schemas"]["AgencyIn"]["properties"]["approval_limit_usd"]
    assert (limit["type"], limit["format"]) == ("string", "decimal")
    rate = spec["components"]["schemas"]["RateIn"]["properties"]["units_per_usd"]
    assert rate["type"] == "string"


def test_collections_carry_the_total_and_take_page_parameters(spec):
    for path in ("/api/v1/agencies", "/api/v1/users", "/api/v1/exchange-rates", "/api/v1/requests",
                 "/api/v1/notifications", "/api/v1/audit"):
        op = spec["paths"][path]["get"]
        params = {p["name"] for p in op["parameters"] if p["in"] == "query"}
        assert {"page", "per_page"} <= params, path
        body = resolve(spec, op["responses"]["200"]["content"]["application/json"]["schema"])
        assert {"items", "total", "page", "per_page"} <= set(body["properties"]), path


def test_request_filters_are_documented(spec):
    params = {p["name"] for p in spec["paths"]["/api/v1/requests"]["get"]["parameters"]}
    assert {"line", "agency", "status", "min_age_days", "sla_breached", "open_only"} <= params


def test_transition_body_is_action_comment_version_and_payload(spec):
    body = spec["paths"]["/api/v1/requests/{reference}/transitions"]["post"]["requestBody"]
    schema = resolve(spec, body["content"]["application/json"]["schema"])
    assert set(schema["properties"]) == {"action", "comment", "version", "payload"}
    assert schema["properties"]["payload"]["type"] == "object"
    assert set(schema["required"]) == {"action", "version"}


def test_document_is_served_without_a_token(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
