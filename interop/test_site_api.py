"""LoadGuard's REST API as documented: a valid OpenAPI 3.1 document, every documented operation answering
as documented, the bearer token on every protected call, and JSON errors a person can act on.

LoadGuard runs standalone (no CSMS) with the site's config and one connected 1.6 charger, so that
every documented operation, the injected call included, can be exercised for real.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from support import sessions
from support.site import DEFAULT_CHARGERS, HttpResponse, Site, SiteSpec

ONE = tuple(c for c in DEFAULT_CHARGERS if c.id == "CP-A16")

# The endpoints issue 5 asks for, each of which the document must describe.
REQUIRED = {
    ("get", "/api/v1/status"),
    ("get", "/api/v1/meter"),
    ("get", "/api/v1/meter/registers"),
    ("get", "/api/v1/chargers"),
    ("get", "/api/v1/allocation"),
    ("get", "/api/v1/limits"),
    ("post", "/api/v1/limits"),
    ("delete", "/api/v1/limits/{source}"),
    ("get", "/api/v1/inputs"),
    ("put", "/api/v1/inputs"),
    ("put", "/api/v1/simulator/building"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/metrics"),
}

# One well-formed request per documented operation, in an order in which each succeeds
# (the command is stored before it is removed).
PROBES: list[tuple[str, str, str, Any]] = [
    ("get", "/api/v1/openapi.json", "/api/v1/openapi.json", None),
    ("get", "/api/v1/status", "/api/v1/status", None),
    ("get", "/api/v1/meter", "/api/v1/meter", None),
    ("get", "/api/v1/meter/registers", "/api/v1/meter/registers", None),
    ("get", "/api/v1/meter/profile", "/api/v1/meter/profile", None),
    ("get", "/api/v1/chargers", "/api/v1/chargers", None),
    ("get", "/api/v1/allocation", "/api/v1/allocation", None),
    ("post", "/api/v1/limits", "/api/v1/limits", {"source": "openapi-probe", "max_current": 50, "expires_after": 30}),
    ("get", "/api/v1/limits", "/api/v1/limits", None),
    ("delete", "/api/v1/limits/{source}", "/api/v1/limits/openapi-probe", None),
    ("get", "/api/v1/inputs", "/api/v1/inputs", None),
    ("put", "/api/v1/inputs", "/api/v1/inputs", {"pattern": "00"}),
    ("put", "/api/v1/simulator/building", "/api/v1/simulator/building", {"currents": [20, 15, 25]}),
    (
        "post",
        "/api/v1/chargers/{id}/calls",
        "/api/v1/chargers/CP-A16/calls",
        {"action": "DataTransfer", "payload": {"vendorId": "LoadGuard.Probe"}},
    ),
    ("get", "/metrics", "/metrics", None),
]

PROMETHEUS_SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? \S+$')


async def api_site(lab, **api: Any) -> Site:
    site = await Site(lab, SiteSpec(), ONE).start(with_csms=False, api=api)
    charger = await site.connect("CP-A16")
    assert await sessions.boot(charger) == "Accepted"
    # The meter's first 1-s reading (GET /api/v1/meter answers 503 before it).
    await site.api.wait_ok("/api/v1/meter")
    return site


def schema_with_components(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the document's components beside it, so that ``#/components/...`` resolves."""
    return {**schema, "components": document.get("components", {})}


def check_against(document: dict[str, Any], schema: dict[str, Any], value: Any, what: str) -> None:
    validator = jsonschema.Draft202012Validator(schema_with_components(document, schema))
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    assert not errors, f"{what}: " + "; ".join(
        f"at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
    )


def template_of(path: str) -> str:
    """The documented path template of a concrete API path."""
    path = re.sub(r"/chargers/[^/]+/", "/chargers/{id}/", path)
    return re.sub(r"/limits/[^/]+$", "/limits/{source}", path)


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in methods
    }


def assert_documented_answer(
    document: dict[str, Any], operation: dict[str, Any], response: HttpResponse, what: str
) -> None:
    """The status is documented for the operation, and the body matches the documented content."""
    documented = operation["responses"]
    assert str(response.status) in documented, (
        f"{what} answered {response.status} ({response.text[:300]}); documented: {sorted(documented)}"
    )
    content = documented[str(response.status)].get("content")
    if not content:
        assert response.text == "", f"{what}: {response.status} documents no body, got {response.text[:300]}"
        return
    media = next((m for m in content if response.content_type.startswith(m)), None)
    assert media is not None, f"{what}: Content-Type {response.content_type!r}, documented {sorted(content)}"
    if media == "application/json":
        assert response.body is not None, f"{what}: not JSON: {response.text[:300]}"
        check_against(document, content[media].get("schema", {}), response.body, what)


async def test_openapi_document_is_valid_openapi_3_1_and_describes_every_endpoint(lab):
    site = await api_site(lab)
    response = await site.api.request("GET", "/api/v1/openapi.json", token=None)
    assert response.status == 200 and response.content_type.startswith("application/json"), response.text[:300]
    document = response.body
    assert str(document.get("openapi", "")).startswith("3.1."), document.get("openapi")
    errors = [e.message for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert not errors, "not a valid OpenAPI 3.1 document:\n" + "\n".join(errors[:10])
    missing = REQUIRED - set(operations(document))
    assert not missing, f"endpoints not described in the OpenAPI document: {sorted(missing)}"
    assert "bearer" in {s.get("scheme") for s in document["components"]["securitySchemes"].values()}


async def test_every_documented_operation_answers_as_documented(lab):
    site = await api_site(lab)
    document = (await site.api.request("GET", "/api/v1/openapi.json", token=None)).body
    documented = operations(document)
    probed = {(method, template) for method, template, _, _ in PROBES}
    assert probed == set(documented), (
        f"operations without a probe here: {sorted(set(documented) - probed)}; "
        f"probed but not documented: {sorted(probed - set(documented))}"
    )
    for method, template, path, body in PROBES:
        operation = documented[(method, template)]
        what = f"{method.upper()} {path}"
        if body is not None:
            request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
            check_against(document, request_schema, body, f"the probe of {what} (a documented request)")
        response = await site.api.request(method.upper(), path, body)
        assert 200 <= response.status < 300, f"{what}: {response.status} {response.text[:500]}"
        assert_documented_answer(document, operation, response, what)
        if template == "/metrics":
            lines = [line for line in response.text.splitlines() if line and not line.startswith("#")]
            bad = [line for line in lines if not PROMETHEUS_SAMPLE.match(line)]
            assert lines and not bad, f"not Prometheus text format: {bad[:5]}"
            names = {line.split("{")[0].split(" ")[0] for line in lines}
            assert {"loadguard_chargers_connected", "loadguard_grid_current_amperes"} <= names, sorted(names)
        if template == "/api/v1/chargers/{id}/calls":
            assert response.body == {"result": {"status": "Accepted"}}, response.body
        if (method, template) == ("post", "/api/v1/limits"):
            assert response.body["source"] == "openapi-probe" and response.body["current"] == 50, response.body
    assert await site.api.get("/api/v1/limits") == []


async def test_every_protected_operation_answers_401_without_the_bearer_token(lab):
    site = await api_site(lab)
    document = (await site.api.request("GET", "/api/v1/openapi.json", token=None)).body
    documented = operations(document)
    checked = 0
    for method, template, path, body in PROBES:
        operation = documented[(method, template)]
        security = operation.get("security", document.get("security", []))
        what = f"{method.upper()} {path}"
        if not security:
            response = await site.api.request(method.upper(), path, body, token=None)
            assert response.status == 200, f"{what} is documented as open but answered {response.status}"
            continue
        for token in (None, "not-the-token"):
            response = await site.api.request(method.upper(), path, body, token=token)
            assert response.status == 401, f"{what} with token {token!r}: {response.status} {response.text[:300]}"
            assert_documented_answer(document, operation, response, f"{what} without the token")
            assert "token" in response.body["error"]["message"].lower(), response.body
            checked += 1
    assert checked >= 2 * 10
    # Nothing was changed by the refused writes.
    assert await site.api.get("/api/v1/limits") == []
    assert (await site.api.get("/api/v1/inputs"))["pattern"] == "00"


async def test_public_read_opens_reads_but_never_writes(lab):
    site = await api_site(lab, public_read=True)
    for method, template, path, body in PROBES:
        response = await site.api.request(method.upper(), path, body, token=None)
        if method == "get":
            assert response.status == 200, f"GET {path} with public_read: {response.status} {response.text[:300]}"
        else:
            assert response.status == 401, f"{method.upper()} {path} without token: {response.status}"


BAD_INPUT = [
    pytest.param("POST", "/api/v1/limits", None, b"not json", 400, "JSON", id="limits-not-json"),
    pytest.param("POST", "/api/v1/limits", [1, 2], None, 400, "JSON object", id="limits-not-an-object"),
    pytest.param("POST", "/api/v1/limits", {"max_current": 20}, None, 400, "source", id="limits-no-source"),
    pytest.param(
        "POST", "/api/v1/limits", {"source": "", "max_current": 20}, None, 400, "source", id="limits-empty-source"
    ),
    pytest.param(
        "POST", "/api/v1/limits", {"source": "x" * 65, "max_current": 20}, None, 400, "64", id="limits-long-source"
    ),
    pytest.param("POST", "/api/v1/limits", {"source": "dso"}, None, 400, "max_current", id="limits-no-level"),
    pytest.param(
        "POST", "/api/v1/limits", {"source": "dso", "max_current": -5}, None, 400, "max_current", id="limits-negative"
    ),
    pytest.param(
        "POST", "/api/v1/limits", {"source": "dso", "max_current": "20"}, None, 400, "max_current", id="limits-string"
    ),
    pytest.param(
        "POST", "/api/v1/limits", {"source": "dso", "max_power": -1}, None, 400, "max_power", id="limits-neg-power"
    ),
    pytest.param("POST", "/api/v1/limits", {"source": "dso", "level": "lots"}, None, 400, "level", id="limits-level"),
    pytest.param(
        "POST",
        "/api/v1/limits",
        {"source": "dso", "max_current": 20, "expires_after": 0},
        None,
        400,
        "expires_after",
        id="limits-expiry-zero",
    ),
    pytest.param("DELETE", "/api/v1/limits/nobody", None, None, 404, "nobody", id="limits-unknown-source"),
    pytest.param("PUT", "/api/v1/inputs", {"pattern": "12"}, None, 400, "pattern", id="inputs-bad-pattern"),
    pytest.param("PUT", "/api/v1/inputs", {}, None, 400, "input1", id="inputs-empty"),
    pytest.param("PUT", "/api/v1/inputs", None, b"{", 400, "JSON", id="inputs-not-json"),
    pytest.param(
        "PUT", "/api/v1/simulator/building", {"currents": [1, 2]}, None, 400, "currents", id="building-two-phases"
    ),
    pytest.param(
        "PUT", "/api/v1/simulator/building", {"currents": [-1, 2, 3]}, None, 400, "currents", id="building-negative"
    ),
    pytest.param(
        "PUT", "/api/v1/simulator/building", {"current": [1, 2, 3]}, None, 400, "currents", id="building-wrong-key"
    ),
    pytest.param(
        "POST", "/api/v1/chargers/CP-X/calls", {"action": "Heartbeat"}, None, 404, "CP-X", id="calls-unknown-charger"
    ),
    pytest.param("POST", "/api/v1/chargers/CP-A16/calls", {"payload": {}}, None, 400, "action", id="calls-no-action"),
]


async def test_bad_input_is_refused_with_a_json_error_saying_what_was_expected(lab):
    site = await api_site(lab)
    document = (await site.api.request("GET", "/api/v1/openapi.json", token=None)).body
    problems: list[str] = []
    for case in BAD_INPUT:
        method, path, body, raw, status, words = case.values
        what = f"[{case.id}] {method} {path} {body if body is not None else raw!r}"
        response = await site.api.request(method, path, body, raw=raw)
        try:
            assert response.status == status, f"answered {response.status} ({response.text[:200]}), expected {status}"
            assert response.content_type.startswith("application/json"), f"Content-Type {response.content_type!r}"
            check_against(document, {"$ref": "#/components/schemas/Error"}, response.body, "the error body")
            message = response.body["error"]["message"]
            assert words.lower() in message.lower(), f"the message should name {words!r}: {message!r}"
            operation = operations(document)[(method.lower(), template_of(path))]
            assert str(status) in operation["responses"], f"{status} is not documented for {method} {template_of(path)}"
        except AssertionError as error:
            problems.append(f"{what}: {error}")
    assert not problems, "\n".join(problems)
    # Nothing was changed by the refused requests.
    assert await site.api.get("/api/v1/limits") == []
    assert (await site.api.get("/api/v1/inputs"))["pattern"] == "00"


async def test_unknown_endpoint_and_wrong_method_answer_json_errors(lab):
    site = await api_site(lab)
    for method, path in (("GET", "/api/v1/no-such-endpoint"), ("PATCH", "/api/v1/limits"), ("POST", "/api/v1/status")):
        response = await site.api.request(method, path, {} if method != "GET" else None)
        assert response.status in (404, 405), f"{method} {path}: {response.status}"
        assert response.content_type.startswith("application/json") and response.body is not None, (
            f"{method} {path} answered {response.status} with Content-Type {response.content_type!r} and body "
            f"{response.text[:200]!r}: expected a JSON error naming what exists"
        )
        assert response.body["error"]["message"], response.body
