"""The admin API against its own OpenAPI document, with schemathesis on the real app and PostgreSQL.

Every operation of ``/admin/api/v1/openapi.json`` gets generated requests: valid ones
(positive), invalid ones (negative), and valid ones on the seeded product and category so that
writes succeed. As an admin, as a role that may not make most calls, without a token and with a
bad one. Every answer must be no server error, with a status, content type, headers and body
the document states for that operation, and ``Cache-Control: no-store``; a request the document
calls invalid must be refused (4xx). The example budget is fixed and the generation
derandomized: every run sends the same requests.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.admin_support import API, dump

pytestmark = pytest.mark.integration

#: Examples per operation and generation mode, by caller; derandomized, so the same every run.
BUDGET = {"admin": 40, "stock": 15, "no token": 8, "bad token": 8}
#: Values of the seeded catalog (tests/integration/admin_support.py), for requests that succeed.
KNOWN = {"sku": "B1", "key": "bags", "currency": "EUR", "code": "color"}


def no_store(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every admin answer, success or problem, must be kept by no cache."""
    value = response.headers.get("cache-control") or response.headers.get("Cache-Control")
    value = value[0] if isinstance(value, list) else value
    if value != "no-store":
        raise AssertionError(f"Cache-Control is {value!r}, not 'no-store'")
    return None


#: Invalid data must be refused with one of these: 413 (too large) is a refusal too.
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422]}}}
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    no_store,
]


def _headers(who: str, tokens: dict[str, dict[str, str]]) -> dict[str, str]:
    if who == "no token":
        return {}
    if who == "bad token":
        return {"Authorization": "Bearer sst_" + "b" * 43}
    return tokens[who]


def _passes(operation) -> list[tuple[str, Any]]:
    known = {name: KNOWN[name] for name in KNOWN if name in operation.path}
    passes = [
        ("positive", operation.as_strategy(GenerationMode.POSITIVE)),
        ("negative", operation.as_strategy(GenerationMode.NEGATIVE)),
    ]
    if known:
        passes.append(("known", operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known)))
    return passes


@pytest.mark.parametrize("who", list(BUDGET))
def test_every_answer_conforms_to_the_document(app, tokens, seeded, who):
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app, config=CONFIG)
    headers = _headers(who, tokens)
    failures: list[str] = []
    counts: dict[str, int] = {}
    statuses: dict[int, int] = {}
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        for name, strategy in _passes(operation):
            label = f"{operation.label} [{name}]"
            counts[label] = 0

            @hypothesis_settings(
                max_examples=BUDGET[who],
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            )
            @given(case=strategy)
            def run(case):
                counts[label] += 1  # noqa: B023 - run() is called in this iteration
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

            try:
                run()
            except Exception as error:  # noqa: BLE001 - every failing operation is reported at once
                failures.append(f"{label}: {error}")
    print(
        f"\n{who}: {len(counts)} operation passes, {sum(counts.values())} requests,"
        f" {time.monotonic() - started:.1f}s; statuses {dict(sorted(statuses.items()))}"
    )
    assert not failures, "\n\n".join(failures)


# What the check found, pinned: each was a 500 (or a refused valid value) before.
NUL = "a\x00b"
PRODUCT = {"name": {"en_US": "Tent"}, "categories": ["gear"]}
NUL_BODIES = {
    "product name": ("PUT", "/products/T1", "editor", {**PRODUCT, "name": {"en_US": NUL}}),
    "product description": ("PUT", "/products/T1", "editor", {**PRODUCT, "description": {"en_US": NUL}}),
    "brand": ("PUT", "/products/T1", "editor", {**PRODUCT, "brand": NUL}),
    "attribute value": ("PUT", "/products/T1", "editor", {**PRODUCT, "attributes": {"color": [NUL]}}),
    "category name": ("PUT", "/categories/tents", "editor", {"name": {"en_US": NUL}}),
    "attribute label": ("PUT", "/attributes/color", "editor", {"label": {"en_US": NUL}}),
    "movement id": ("POST", "/stock/B1/movements", "stock", {"movement_id": NUL, "delta": 1}),
    "movement reason": ("POST", "/stock/B1/movements", "stock", {"movement_id": "m", "delta": 1, "reason": NUL}),
}


@pytest.mark.parametrize("method, path, role, body", NUL_BODIES.values(), ids=NUL_BODIES.keys())
def test_a_nul_character_is_a_422_not_a_500(client, pool, tokens, seeded, sent, method, path, role, body):
    before = dump(pool)
    response = client.open(API + path, method=method, json=body, headers=tokens[role])
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "must not contain a NUL character" in response.get_json(force=True)["detail"]
    assert dump(pool) == before


@pytest.mark.parametrize(
    "starts_at, ends_at",
    [
        ("9999-12-31T22:00:00-05:00", "9999-12-31T23:00:00-05:00"),
        ("0001-01-01T00:00:00+01:00", "0001-01-01T12:00:00+01:00"),
    ],
)
def test_an_offer_outside_the_calendar_in_utc_is_a_422(client, pool, tokens, seeded, sent, starts_at, ends_at):
    before = dump(pool)
    offer = {"amount": "1.00", "starts_at": starts_at, "ends_at": ends_at}
    response = client.put(f"{API}/offers/B1/USD", json=offer, headers=tokens["pricing"])
    assert response.status_code == 422 and "9999" in response.get_data(as_text=True)
    assert dump(pool) == before
    assert client.get(f"{API}/products/B1", headers=tokens["pricing"]).status_code == 200


def test_rfc_3339_lower_case_t_and_z_are_accepted(client, tokens, seeded, sent):
    offer = {"amount": "1.00", "starts_at": "2030-01-01t00:00:00z", "ends_at": "2030-01-02t00:00:00+01:00"}
    assert client.put(f"{API}/offers/B1/USD", json=offer, headers=tokens["pricing"]).status_code == 200
    offers = client.get(f"{API}/products/B1", headers=tokens["pricing"]).get_json()["offers"]
    assert [(o["currency"], o["starts_at"][:19]) for o in offers if o["currency"] == "USD"] == [
        ("USD", "2030-01-01T00:00:00")
    ]
