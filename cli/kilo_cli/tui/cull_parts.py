"""The culling screen's fixed parts (kilo_cli.tui.cull): its style sheet, the keys' help,
and how a stack kind, a rating and a face's eyes are drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.widget import Widget

    from kilo.cull.faces import FaceStrip

CULL_CSS = """
    #stacks { width: 38; border-right: solid $primary-background; }
    #stacks.narrow { width: 26; }
    /* one line a row (cut, not wrapped): the current stack's line is the row scrolled to */
    #stack-list { text-wrap: nowrap; text-overflow: ellipsis; }
    .compare #stacks { display: none; }
    #centre { width: 1fr; }
    #header { height: 2; padding: 0 1; }
    #viewer { height: 1fr; }
    #viewer > .pane { width: 1fr; height: 1fr; }
    #viewer .label { height: 1; padding: 0 1; display: none; text-wrap: nowrap;
                     text-overflow: ellipsis; }
    #viewer.compare .label { display: block; }
    #viewer .box { width: 1fr; height: 1fr; align: center middle; }
    #viewer .frame { width: 1fr; height: 1fr; }
    #viewer .frame.photo { width: auto; height: auto; }
    #viewer > #pane-b { display: none; }
    #viewer.compare > #pane-b { display: block; }
    #face-strip, #face-info { display: none; }
    .faces #viewer { display: none; }
    .faces #face-strip { display: block; width: auto; height: 1fr; }
    .faces #face-info { display: block; height: auto; padding: 0 1; }
    #chips { height: 1; padding: 0 1; color: $success; }
    #info { height: 1; padding: 0 1; }
    #filmstrip { height: 3; padding: 0 1; border-top: solid $primary-background; }
    #help { display: none; layer: overlay; dock: right; width: 80; height: auto;
            border: round $accent; background: $panel; padding: 1 2; }
    #help.shown { display: block; }
    """

KEY_HELP = """\
[b]Keys[/b]
  [b]F[/b]        pick this frame as the winner, mark the stack reviewed, go to the next
  [b]D[/b]        reject this frame (again: un-reject)
  [b]Shift+D[/b]  reject the whole stack
  [b]1[/b]-[b]5[/b]      rating
  [b]S[/b]        star
  [b]C[/b]        compare 2-up with the suggested winner
  [b]E[/b]        the face strip: every person's face in each frame, eyes marked
  [b]← →[/b]      previous / next frame     [b]↑ ↓[/b]  previous / next stack
  [b]Z[/b]        undo      [b]Shift+Z[/b]  redo
  [b]?[/b]        show / hide this help     [b]Q[/b]  quit"""

KIND_ICON = {"burst": "▤", "duplicate_group": "⧉", "singles": "·", "filmstrip": "▭"}


def load_image_widget() -> type[Widget] | None:
    """textual-image's widget (Kitty / Sixel / half-block, chosen for this terminal), or None
    when it cannot size the terminal. It must be imported before the app starts."""
    import logging

    # its terminal probe logs a traceback when the terminal does not answer; it then falls
    # back by itself, so keep the screen clean
    logging.getLogger("textual_image").setLevel(logging.CRITICAL)
    try:
        from textual_image.widget import Image as ImageWidget
    except Exception:  # e.g. ZeroDivisionError on a 0x0 pseudo-terminal
        return None
    return ImageWidget


#: a face's eyes as the strip outlines them: green open, red closed, grey can't tell
EYES_STYLE = {"open": "green", "closed": "red b"}


def draw_eyes(strip: FaceStrip, person: int) -> str:
    """``open open CLOSED -`` across the frames, each word in its outline's colour."""
    words = strip.eyes_line(person).split(" ")
    faces = strip.people[person]
    return " ".join(
        f"[{EYES_STYLE.get(f.eyes, 'grey62') if f else 'dim'}]{w}[/]"
        for w, f in zip(words, faces, strict=True)
    )


def draw_stars(rating: int | None) -> str:
    return "★" * (rating or 0) + "☆" * (5 - (rating or 0))
