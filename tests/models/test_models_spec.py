"""Every contract model serialises to JSON that the spec's own schema accepts.

The spec is ``../shared/openapi.yaml``. Instances are generated from each model's fields (every
optional field filled, then every optional field left empty), so a renamed, missing or
wrongly typed field fails here.
"""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args, get_origin

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from pydantic import BaseModel

from kilo.models import SCHEMA_MODELS, KiloModel
from support.shared import CONTRACT as SPEC_PATH
from support.shared import require_shared

pytestmark = pytest.mark.contract
UUID = "6f1c1f43-6e0c-4a4b-9a8e-2b1d8f0c9a11"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    require_shared(SPEC_PATH, "the HTTP contract (../shared/openapi.yaml)")
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return loaded


def _sample_str(name: str) -> str:
    lowered = name.lower()
    if lowered == "id" or lowered.endswith(("_id", "_ids", "_job", "_jobs")):
        return UUID
    if "email" in lowered:
        return "ana@example.com"
    if lowered in ("code",):
        return "123456"
    if lowered == "share_slug":
        return "abcdefgh12"
    return f"sample {name}"


def _sample(tp: Any, name: str, full: bool) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if not full and type(None) in get_args(tp):
            return None
        return _sample(args[0], name, full)
    if origin is Literal:
        return get_args(tp)[0]
    if origin is list:
        (inner,) = get_args(tp)
        return [_sample(inner, name.rstrip("s"), full)]
    if origin is dict:
        return {"key": "value"}
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _build(tp, full)
    if tp is str:
        return _sample_str(name)
    if tp is bool:
        return True
    if tp is int:
        return 1
    if tp is float:
        return 0.5
    if tp is datetime:
        return datetime(2026, 6, 20, 14, 30, 5, tzinfo=UTC)
    if tp is date:
        return date(2026, 6, 20)
    if tp is Any:
        return {"key": "value"}
    raise AssertionError(f"no sample for {tp!r} ({name})")


def _build(model: type[BaseModel], full: bool) -> BaseModel:
    hints = typing.get_type_hints(model, include_extras=False)
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if not full and not field.is_required():
            continue
        values[name] = _sample(hints[name], name, full)
    return model.model_validate(values)


def _validator(spec: dict[str, Any], name: str) -> OAS30Validator:
    root = {**spec, "$ref": f"#/components/schemas/{name}"}
    return OAS30Validator(root, format_checker=OAS30Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("full", [True, False], ids=["all-fields", "required-only"])
@pytest.mark.parametrize("name", sorted(SCHEMA_MODELS))
def test_model_json_matches_the_contract(spec: dict[str, Any], name: str, full: bool) -> None:
    assert name in spec["components"]["schemas"], f"{name} is not a schema of the contract"
    instance = _build(SCHEMA_MODELS[name], full)
    assert isinstance(instance, KiloModel)
    data = instance.dump()
    errors = sorted(_validator(spec, name).iter_errors(data), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_every_contract_schema_has_a_model(spec: dict[str, Any]) -> None:
    missing = sorted(set(spec["components"]["schemas"]) - set(SCHEMA_MODELS))
    assert not missing, f"schemas without a model: {missing}"


@pytest.mark.parametrize("name", sorted(SCHEMA_MODELS))
def test_model_fields_cover_every_schema_property(spec: dict[str, Any], name: str) -> None:
    schema = spec["components"]["schemas"][name]
    model = SCHEMA_MODELS[name]
    aliases = {(f.alias or n) for n, f in model.model_fields.items()}
    missing = set(schema.get("properties", {})) - aliases
    assert not missing, f"{name} lacks {sorted(missing)}"
    for required in schema.get("required", []):
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == required), None)
        assert field is not None, f"{name}.{required} is required by the contract: no field"
        dumped_when_empty = _build(model, full=False).dump()
        assert required in dumped_when_empty, f"{name}.{required} is required by the contract"


def test_error_model_matches_kilo_errors(spec: dict[str, Any]) -> None:
    from kilo.errors import InvalidInput, NotFound

    for exc in (NotFound("no project with id x"), InvalidInput("bad", path="/x.jpg")):
        errors = list(_validator(spec, "Error").iter_errors(exc.to_error()))
        assert not errors


@pytest.mark.parametrize("name", sorted(n for n in SCHEMA_MODELS if n.endswith("Request")))
def test_requests_refuse_null_exactly_where_the_contract_does(
    spec: dict[str, Any], name: str
) -> None:
    from pydantic.alias_generators import to_camel

    model = SCHEMA_MODELS[name]
    props = spec["components"]["schemas"][name].get("properties", {})
    nullable = {k for k, v in props.items() if v.get("nullable")}
    assert {to_camel(f) for f in model._nullable} == nullable
