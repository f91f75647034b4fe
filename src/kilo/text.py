"""Text that came from outside (file names, titles, comments) made safe to store and show.

File names may hold bytes that are not UTF-8 (Python keeps them as surrogate escapes) and any
text may hold control characters: an ESC sequence in a title would recolor or clear the
photographer's terminal, a newline would forge an extra line of output. Titles refuse them
(:func:`check_title`); everything shown escapes them (:func:`printable`, written with the
error tree, which shows every message through it).
"""

from __future__ import annotations

import re

from kilo.errors import CONTROL_CHARACTERS, InvalidInput, printable

__all__ = ["check_title", "printable", "redact_paths"]

_PATHLIKE = re.compile(r"[^\s'\"]*[/\\][^\s'\"]*")


def redact_paths(text: str) -> str:
    """``text`` with every word that holds a path or URL (a ``/`` or ``\\``) replaced by
    ``<file>``: a reason as someone who may not know the server's layout sees it (over
    HTTP no answer names a server path, nor tells whether one exists)."""
    return _PATHLIKE.sub("<file>", text)


def check_title(value: str, *, what: str = "title", max_length: int = 200) -> str:
    """A title or name as given, trimmed; refuses empty, over-long and control characters."""
    text = value.strip()
    if not text:
        raise InvalidInput(f"the {what} is empty")
    if len(text) > max_length:
        raise InvalidInput(f"the {what} is longer than {max_length} characters")
    bad = CONTROL_CHARACTERS.search(text)
    if bad is not None:
        raise InvalidInput(
            f"the {what} holds a control character ({printable(bad.group())}); "
            "use plain text on one line"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"the {what} is not valid text") from None
    return text
