"""The app against ../shared/openapi.yaml: every served operation has the contract's path,
method, parameters (name, place, required, type, format, bounds), request body schema,
status codes and response schemas; nothing is served outside the contract but the
documented ``/x-kilo/`` extensions. Operations still to be built are listed by name, and
the list may only shrink: serving one of them without taking it off the list fails too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from kilo.settings import Settings
from kilo_server import create_app
from support.shared import require_shared

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "openapi.yaml"
pytestmark = pytest.mark.contract  # skipped when ../shared is missing (tests/conftest.py)
METHODS = ("get", "post", "put", "patch", "delete")
NOT_YET_SERVED: set[tuple[str, str]] = set()
Op = tuple[str, str]


@dataclass(frozen=True)
class Deviation:
    """One way the server differs from the contract. docs/api.md ("Where kilo differs from
    the contract") gives each one's reason, tests/server/test_contract_edges.py shows each one
    and tests/server/test_fuzz.py runs schemathesis against the contract amended by them."""

    name: str
    operations: frozenset[Op]
    statuses: frozenset[str] = frozenset()  # answered there beyond the contract's statuses
    refuses_valid_data: bool = False  # a request the contract's schemas allow can be a 400


def _ops(*ops: str) -> frozenset[Op]:
    return frozenset((m.lower(), p) for m, p in (op.split(" ", 1) for op in ops))


_BODY_OPS = _ops(
    "POST /auth/login",
    "POST /auth/verify",
    "POST /projects",
    "PATCH /projects/{projectId}",
    "POST /projects/{projectId}/assets:prepareUpload",
    "POST /projects/{projectId}/assets:finalizeUpload",
    "PATCH /assets/{assetId}",
    "POST /assets/{assetId}/ratings",
    "PATCH /clusters/{clusterId}",
    "POST /clusters/{clusterId}/winner",
    "POST /projects/{projectId}/cull:applyAction",
    "POST /assets/{assetId}/edits",
    "POST /edits/{editId}/applyTo",
    "POST /projects/{projectId}/search",
    "POST /projects/{projectId}/galleries",
    "PATCH /galleries/{galleryId}",
    "POST /galleries/{galleryId}/assets",
    "DELETE /galleries/{galleryId}/assets",
    "POST /share/{shareSlug}/auth",
    "POST /share/{shareSlug}/favorite",
    "POST /share/{shareSlug}/comment",
    "POST /projects/{projectId}/exports",
)
DEVIATIONS = (
    Deviation(
        "login-rate-limit",
        _ops("POST /auth/login", "POST /auth/verify"),
        statuses=frozenset({"429"}),
    ),
    Deviation(
        "listing-query-400",
        _ops("GET /projects", "GET /projects/{projectId}/jobs"),
        statuses=frozenset({"400"}),
        refuses_valid_data=True,
    ),
    Deviation(
        "gallery-remove-400",
        _ops("DELETE /galleries/{galleryId}/assets"),
        statuses=frozenset({"400"}),
        refuses_valid_data=True,
    ),
    Deviation("share-auth-400", _ops("POST /share/{shareSlug}/auth"), statuses=frozenset({"400"})),
    Deviation("unknown-fields", _BODY_OPS),
    Deviation(
        "foreign-ids-400",
        _ops(
            "POST /projects/{projectId}/assets:prepareUpload",
            "POST /projects/{projectId}/assets:finalizeUpload",
            "POST /edits/{editId}/applyTo",
            "GET /projects/{projectId}/search",
            "POST /projects/{projectId}/search",
            "POST /projects/{projectId}/galleries",
            "PATCH /galleries/{galleryId}",
            "POST /galleries/{galleryId}/assets",
            "DELETE /galleries/{galleryId}/assets",
            "POST /projects/{projectId}/exports",
        ),
        refuses_valid_data=True,
    ),
    Deviation(
        "blank-titles",
        _ops(
            "POST /projects",
            "PATCH /projects/{projectId}",
            "POST /projects/{projectId}/galleries",
            "PATCH /galleries/{galleryId}",
        ),
        refuses_valid_data=True,
    ),
    Deviation(
        "unique-titles",
        _ops("POST /projects", "PATCH /projects/{projectId}"),
        refuses_valid_data=True,
    ),
    Deviation(
        "blank-filenames",
        _ops("POST /projects/{projectId}/assets:prepareUpload"),
        refuses_valid_data=True,
    ),
    Deviation("email-addresses", _ops("POST /auth/login"), refuses_valid_data=True),
    Deviation(
        "timezones", _ops("POST /projects", "PATCH /projects/{projectId}"), refuses_valid_data=True
    ),
    Deviation(
        "floating-capture-times",
        _ops(
            "GET /projects/{projectId}/assets",
            "GET /assets/{assetId}",
            "PATCH /assets/{assetId}",
            "GET /projects/{projectId}/clusters",
            "GET /clusters/{clusterId}",
            "PATCH /clusters/{clusterId}",
            "POST /clusters/{clusterId}/winner",
        ),
    ),
)
#: "floating-capture-times": these capture times go without an offset when none is known
FLOATING_TIMES = {"Asset": ("capturedAt",), "Cluster": ("startTime", "endTime")}
DEVIATION_NAMES = {d.name for d in DEVIATIONS}
# Statuses served beyond the contract, by operation (each one's reason: DEVIATIONS)
EXTRA_STATUSES: dict[Op, set[str]] = {}
for _d in DEVIATIONS:
    for _op in _d.operations:
        EXTRA_STATUSES.setdefault(_op, set()).update(_d.statuses)
# Operations where a request the contract's schemas allow may be refused (400)
REFUSES_VALID_DATA = {op for d in DEVIATIONS if d.refuses_valid_data for op in d.operations}
_STATUS_RESPONSES = {"400": "BadRequest", "404": "NotFound", "429": "RateLimited"}


def served_contract() -> dict[str, Any]:
    """The contract as kilo serves it: the statuses of DEVIATIONS added where they are
    answered, and every request body object closed to unknown fields ("unknown-fields")."""
    spec = _load(CONTRACT)
    for (method, path), statuses in EXTRA_STATUSES.items():
        responses = spec["paths"][path][method]["responses"]
        for status in statuses:
            ref = f"#/components/responses/{_STATUS_RESPONSES[status]}"
            responses.setdefault(status, {"$ref": ref})
    closed: set[str] = set()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method in METHODS and "requestBody" in op:
                assert (method, path) in _BODY_OPS, f"{method} {path}: add it to _BODY_OPS"
                body = op["requestBody"]["content"]["application/json"]["schema"]
                _close_objects(spec, body, closed)
    for name, fields in FLOATING_TIMES.items():
        props = spec["components"]["schemas"][name]["properties"]
        for field in fields:
            props[field] = {k: v for k, v in props[field].items() if k != "format"}
    return spec


def _close_objects(spec: dict[str, Any], node: Any, seen: set[str]) -> None:
    """additionalProperties: false on each object schema under ``node`` that names its
    properties and says nothing of others (a free-form ``additionalProperties: true``
    stays free)."""
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        if node["$ref"] not in seen:
            seen.add(node["$ref"])
            _close_objects(spec, _deref(spec, node), seen)
        return
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    children = [*node.get("properties", {}).values(), node.get("items")]
    for keyword in ("allOf", "anyOf", "oneOf"):
        children += node.get(keyword, [])
    for child in children:
        _close_objects(spec, child, seen)


def _load(path: Path) -> dict[str, Any]:
    require_shared(path, "the HTTP contract (../shared/openapi.yaml)", module=True)
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        target: Any = spec
        for p in parts:
            target = target[p]
        node = target
    return node


def _schema_name(spec: dict[str, Any], node: dict[str, Any] | None) -> str | None:
    """The component schema a body refers to (through a response $ref too)."""
    if not node:
        return None
    node = _deref(spec, node) if "$ref" in node and "responses" in node["$ref"] else node
    schema = (node.get("content") or {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else None


def _scalar(schema: dict[str, Any]) -> dict[str, Any]:
    """The comparable part of a parameter schema (FastAPI writes Optional as anyOf)."""
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            schema = {**option, **{k: v for k, v in schema.items() if k != "anyOf"}}
    keys = ("type", "format", "minimum", "maximum", "minLength", "maxLength", "enum")
    out = {k: schema[k] for k in keys if k in schema}
    if "enum" in out:
        out["enum"] = sorted(out["enum"])
    return out


def _params(spec: dict[str, Any], op: dict[str, Any]) -> dict[tuple[str, str], Any]:
    out = {}
    for p in op.get("parameters", []):
        p = _deref(spec, p)
        if p["in"] == "header" and p["name"].lower() == "authorization":
            continue
        schema = (
            _deref(spec, p.get("schema", {}))
            if "$ref" in p.get("schema", {})
            else p.get("schema", {})
        )
        required = bool(p.get("required", False))
        out[(p["in"], p["name"])] = (required, _scalar(schema))
    return out


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    home = tmp_path_factory.mktemp("contract")
    app = create_app(Settings(home=home, clip_enabled=False), run_jobs=False)
    return _load(CONTRACT), app.openapi()


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (m, path): op
        for path, ops in spec["paths"].items()
        for m, op in ops.items()
        if m in METHODS
    }


def test_nothing_is_served_outside_the_contract_but_extensions(specs: Any) -> None:
    contract, app = specs
    extra = set(_operations(app)) - set(_operations(contract))
    assert all(path.startswith("/x-kilo/") for _, path in extra), sorted(extra)


def test_the_list_of_operations_still_to_build_is_true(specs: Any) -> None:
    contract, app = specs
    served, wanted = set(_operations(app)), set(_operations(contract))
    assert wanted >= NOT_YET_SERVED
    assert not (NOT_YET_SERVED & served), "served now: take them off NOT_YET_SERVED"
    assert wanted - served == NOT_YET_SERVED


def test_every_served_operation_matches_the_contract(specs: Any) -> None:
    contract, app = specs
    ours = _operations(app)
    drift: list[str] = []
    for key, want in _operations(contract).items():
        if key in NOT_YET_SERVED:
            continue
        got = ours[key]
        name = f"{key[0].upper()} {key[1]}"
        if _params(contract, want) != _params(app, got):
            drift.append(f"{name}: parameters {_params(app, got)} != {_params(contract, want)}")
        want_body = _schema_name(contract, want.get("requestBody"))
        got_body = _schema_name(app, got.get("requestBody"))
        if want_body != got_body:
            drift.append(f"{name}: request body {got_body} != {want_body}")
        want_status = set(want["responses"])
        got_status = set(got["responses"]) - EXTRA_STATUSES.get(key, set())
        if want_status != got_status:
            drift.append(f"{name}: statuses {sorted(got_status)} != {sorted(want_status)}")
        for status in want_status & got_status:
            w = _schema_name(contract, want["responses"][status])
            g = _schema_name(app, got["responses"][status])
            if w is not None and w != g:
                drift.append(f"{name} {status}: schema {g} != {w}")
        if (want.get("security") == []) != (got.get("security") is None):
            drift.append(f"{name}: public in one, behind the token in the other")
    assert not drift, "\n".join(drift)


def test_each_deviation_is_about_operations_of_the_contract(specs: Any) -> None:
    contract, _ = specs
    ops = _operations(contract)
    assert len(DEVIATION_NAMES) == len(DEVIATIONS)
    for d in DEVIATIONS:
        assert d.operations <= set(ops), (d.name, sorted(d.operations - set(ops)))
        for op in d.operations:  # a status the contract documents is no deviation
            assert not d.statuses & set(ops[op]["responses"]), (d.name, op)
    bodies = {op for op, spec in ops.items() if "requestBody" in spec}
    assert bodies == _BODY_OPS
