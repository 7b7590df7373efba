"""The OpenAPI document is generated from the same route table the app registers."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from tests.unit.admin_fakes import SETTINGS, make_client
from web.admin.openapi import REF, build, error_statuses, for_shop
from web.admin.routes import API_ROOT, ROUTES

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def client():
    return make_client()[0]


@pytest.fixture(scope="module")
def document(client):
    response = client.get(f"{API_ROOT}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_document_lists_exactly_the_apps_routes(client, document):
    registered = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith(API_ROOT)  # not /healthz and /readyz: the API is what it documents
        for method in rule.methods - IGNORED_METHODS
    }
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert documented == registered
    assert len(registered) == len(ROUTES)


def test_document_is_the_one_built_from_the_route_table(document):
    assert document == build(SETTINGS)


def test_request_bodies_are_the_models_json_schemas(document):
    schemas = document["components"]["schemas"]
    for route in ROUTES:
        op = document["paths"][API_ROOT + route.path][route.method.lower()]
        if route.body is None:
            assert "requestBody" not in op
            continue
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        name = route.body.__name__
        assert ref == REF.format(model=name)
        expected = route.body.model_json_schema(ref_template=REF)
        for nested, schema in expected.pop("$defs", {}).items():  # nested models (ImageIn) are components
            assert schemas[nested] == for_shop(schema, SETTINGS)
        assert schemas[name] == for_shop(expected, SETTINGS)


def test_amounts_are_documented_as_strings(document):
    for name in ("PriceIn", "OfferIn"):
        assert document["components"]["schemas"][name]["properties"]["amount"]["type"] == "string"


def test_security_is_bearer_except_for_the_document_itself(document):
    assert document["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert document["security"] == [{"bearer": []}]
    for route in ROUTES:
        op = document["paths"][API_ROOT + route.path][route.method.lower()]
        if route.public:
            assert op["security"] == [] and "401" not in op["responses"]
        else:
            assert "security" not in op and {"401", "403", "503"} <= set(op["responses"])
            assert op["x-required-role"] == (route.role or "any")


def test_path_parameters_are_described_with_their_constraints(document):
    op = document["paths"][f"{API_ROOT}/prices/{{sku}}/{{currency}}"]["put"]
    params = {p["name"]: p for p in op["parameters"]}
    assert params["currency"]["schema"] == {"type": "string", "enum": list(SETTINGS.currencies)}
    assert re.match(params["sku"]["schema"]["pattern"], "SKU-1.a") and all(p["required"] for p in params.values())


def test_error_responses_follow_from_what_a_route_does():
    by_name = {r.name: r for r in ROUTES}
    assert set(error_statuses(by_name["putPrice"])) == {400, 401, 403, 404, 413, 415, 422, 503}
    assert set(error_statuses(by_name["deleteProduct"])) == {401, 403, 404, 422, 503}
    assert set(error_statuses(by_name["getOpenApi"])) == set()
    assert "unknown category" in error_statuses(by_name["putProduct"])[422]
    movement = by_name["postMovement"]
    assert set(movement.success) == {200, 201} and 409 in error_statuses(movement)


def test_locale_keys_are_the_shops_locales(document):
    schemas = document["components"]["schemas"]
    locales = {"enum": list(SETTINGS.locales)}
    assert schemas["CategoryIn"]["properties"]["name"]["propertyNames"] == locales
    assert schemas["ProductIn"]["properties"]["name"]["propertyNames"] == locales
    assert schemas["ProductIn"]["properties"]["description"]["propertyNames"] == locales


def test_every_response_documents_its_headers(document):
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                headers = response["headers"]
                assert headers["Cache-Control"]["schema"] == {"type": "string", "const": "no-store"}
                assert ("WWW-Authenticate" in headers) == (status == "401"), (method, path, status)
                assert ("Retry-After" in headers) == (status == "503"), (method, path, status)


def test_a_route_with_path_parameters_documents_the_404_of_a_slash_in_them():
    by_name = {r.name: r for r in ROUTES}
    assert "'/'" in error_statuses(by_name["putCategory"])[404]
    assert "unknown product" in error_statuses(by_name["getProduct"])[404]
