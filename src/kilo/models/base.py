"""The base of the contract models (camelCase JSON, strict input, nulls the schema forbids
left out), the Error and PageInfo schemas, and request parsing with one-line errors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, WrapSerializer, model_serializer, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core.core_schema import SerializerFunctionWrapHandler


def _field_name(cls: type[BaseModel], key: str) -> str | None:
    """The field a request key (camelCase alias or snake_case name) sets."""
    if key in cls.model_fields:
        return key
    for name, field in cls.model_fields.items():
        if field.alias == key:
            return name
    return None


class KiloModel(BaseModel):
    """Base of the contract models: camelCase aliases, strict about unknown input keys."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=False
    )
    # Optional fields the schema does not allow to be null: omitted when None.
    _omit_when_none: ClassVar[frozenset[str]] = frozenset()
    # Requests: the fields the schema marks nullable; a null anywhere else is refused
    # (leaving a field out is how a request says "not given").
    _nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _refuse_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict) and cls.__name__.endswith("Request"):
            for key, value in data.items():
                if value is None:
                    name = _field_name(cls, key)
                    if name is not None and name not in cls._nullable:
                        raise ValueError(f"{key} may not be null (leave it out instead)")
        return data

    @model_serializer(mode="wrap")
    def _drop_nones(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if self._omit_when_none and isinstance(data, dict):
            for name in self._omit_when_none:
                field = type(self).model_fields.get(name)
                key = (field.alias or name) if field else name
                for k in (key, name):
                    if k in data and data[k] is None:
                        del data[k]
        return data

    def dump(self) -> dict[str, Any]:
        """The contract's JSON object (camelCase, ISO dates).

        Requests dump only the fields that were given: an update that clears a field says
        ``null``, one that leaves it alone omits it.
        """
        is_request = type(self).__name__.endswith("Request")
        return self.model_dump(mode="json", by_alias=True, exclude_unset=is_request)


class Error(KiloModel):
    code: str
    message: str
    details: dict[str, Any] | None = None
    request_id: str | None = None
    _omit_when_none = frozenset({"details", "request_id"})


class PageInfo(KiloModel):
    next_cursor: str | None = None


def _local_time_json(value: Any, handler: SerializerFunctionWrapHandler) -> Any:
    from kilo.clock import is_floating, wire_time

    if isinstance(value, datetime) and is_floating(value):
        return wire_time(value)
    return handler(value)


#: a photo's capture time: sent with its offset, or, when nobody knows the offset (a
#: :data:`kilo.clock.FLOATING` wall-clock time), as the local time without one, never as UTC
LocalTime = Annotated[datetime, WrapSerializer(_local_time_json, when_used="json")]

_M = TypeVar("_M", bound=KiloModel)


def parse_request(model: type[_M], data: Any) -> _M:
    """Validate input ``data`` as ``model``; errors become one-line :class:`InvalidInput`."""
    from pydantic import ValidationError

    from kilo.errors import InvalidInput

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for e in exc.errors()[:3]:
            where = ".".join(str(p) for p in e.get("loc", ())) or model.__name__
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        raise InvalidInput("; ".join(parts), details={"errors": exc.error_count()}) from None
