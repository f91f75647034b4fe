"""Text that came from outside (file names, titles, comments) made safe to store and show.

File names may hold bytes that are not UTF-8 (Python keeps them as surrogate escapes) and any
text may hold control characters: an ESC sequence in a title would recolor or clear the
photographer's terminal, a newline would forge an extra line of output. Titles refuse them
(:func:`check_title`); everything shown escapes them (:func:`printable`, written with the
error tree, which shows every message through it). A photo is named the same way by every
front end (:func:`display_name`: ``bird_burst.heic [2/4]`` for a frame of a multi-frame file).
"""

from __future__ import annotations

import re
from typing import Protocol

from kilo.errors import CONTROL_CHARACTERS, InvalidInput, printable

__all__ = ["check_title", "display_name", "frame_name", "printable", "redact_paths"]

_PATHLIKE = re.compile(r"[^\s'\"]*[/\\][^\s'\"]*")


class NamedFrame(Protocol):
    """What :func:`display_name` reads: an :class:`kilo.models.Asset`, a clustering row..."""

    @property
    def filename(self) -> str | None: ...
    @property
    def frame_index(self) -> int: ...
    @property
    def frame_count(self) -> int: ...


def frame_name(filename: str, frame_index: int | None = 0, frame_count: int | None = 1) -> str:
    """The name a photo is shown by: its file name, and for a frame of a multi-frame file (a
    phone burst in one HEIC, an MPO) which frame of how many, counted from 1:
    ``bird_burst.heic [2/4]`` (``frame_index`` 1 of 4)."""
    count = int(frame_count or 1)
    if count <= 1:
        return filename
    return f"{filename} [{int(frame_index or 0) + 1}/{count}]"


def display_name(asset: NamedFrame, fallback: str = "") -> str:
    """:func:`frame_name` of an asset (anything with ``filename``, ``frame_index`` and
    ``frame_count``): what every table, reason, title and sheet calls it. ``fallback`` (an
    id) when it has no file name."""
    return frame_name(asset.filename or fallback, asset.frame_index, asset.frame_count)


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
