"""Text from outside made harmless on the photographer's terminal: control characters,
bytes that are not text, bidirectional overrides and rich markup shown as written
(:mod:`kilo_cli.output` and :mod:`kilo_cli.table_layout` print through here)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["printable_text", "safe"]

#: bidirectional overrides and isolates: they reorder what a terminal shows ("Trojan source")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def printable_text(text: str) -> str:
    """``text`` with nothing a terminal acts on: control characters, bytes that are not
    text and bidirectional overrides as ``\\x1b``/``\\u202e``-style escapes."""
    from kilo.text import printable

    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", printable(text))


def safe(value: Any) -> str:
    """A value as text to print: control characters, bidirectional overrides and bytes that
    are not text escaped (a title holding ESC sequences cannot recolor or clear the
    terminal) and rich markup escaped (a title ``[red]x`` prints as written)."""
    from rich.markup import escape

    return "" if value is None else escape(printable_text(str(value)))
