"""Parsing option values that the library takes as data."""

from __future__ import annotations

import json
from typing import Any


def json_object_option(text: str | None, option: str) -> dict[str, Any]:
    """The JSON object given to ``option`` ({} when not given); InvalidInput otherwise."""
    from kilo.errors import InvalidInput

    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{option} must be a JSON object such as '{{\"exposure\": 0.5}}'")
    return value
