"""``kilo cull PROJECT``: keyboard culling in the terminal.

Left: the stacks (bursts and duplicate groups under their moment, then the moment's singles)
with reviewed state and confidence. Centre: the current frame (real pixels through
textual-image: Kitty or Sixel graphics where the terminal has them, half-block cells
elsewhere), the "why winner" chips, the frame's decision and the cluster's filmstrip.

Keys (the seed's map): F pick winner and advance, D reject (toggle), Shift+D reject the
stack, 1-5 rating, S star, C compare 2-up, arrows navigate, Z undo, Shift+Z redo, ? keys.
Every key calls a ``kilo.cull`` function and then redraws from the catalog: the screen holds
no culling state of its own beyond where the cursor is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Static

from kilo_cli.tui.cull_parts import (
    CULL_CSS,
    KEY_HELP,
    KIND_ICON,
    draw_eyes,
    draw_stars,
    load_image_widget,
)

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

    from kilo.catalog import Catalog
    from kilo.cull.review_order import CullFrame, CullQueue, CullStack

REFRESH_S = 2.0  # how often the screen looks for new frames


class CullApp(App[None]):
    """The culling screen over one project of an open catalog."""

    TITLE = "kilo cull"
    CSS = CULL_CSS
    #: the footer shows these in order and cuts what does not fit: help and quit come first
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "keys", key_display="?"),
        Binding("q", "quit", "quit"),
        Binding("f", "pick", "pick"),
        Binding("d", "reject", "reject"),
        Binding("D", "reject_stack", "reject stack", key_display="⇧D"),
        *[Binding(str(n), f"rate({n})", f"rate {n}", show=False) for n in range(1, 6)],
        Binding("s", "star", "star"),
        Binding("c", "compare", "compare"),
        Binding("e", "faces", "faces"),
        Binding("left", "frame(-1)", "prev", show=False),
        Binding("right", "frame(1)", "next", show=False),
        Binding("up", "stack(-1)", "prev stack", show=False),
        Binding("down", "stack(1)", "next stack", show=False),
        Binding("z", "undo", "undo"),
        Binding("Z", "redo", "redo", key_display="⇧Z"),
        # Ctrl-C leaves as q does (textual only says "press ctrl+q"): every decision is
        # saved as it is made, and the CLI closes the catalog on the way out
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
    ]

    def __init__(
        self,
        catalog: Catalog,
        project_id: str,
        *,
        user_id: str | None = None,
        images: bool = True,
    ) -> None:
        super().__init__()
        self.catalog = catalog
        self.project_id = project_id
        self.user_id = user_id or catalog.local_user_id
        self.image_widget = load_image_widget() if images else None
        self.images = self.image_widget is not None
        self.images_missing = images and not self.images
        self.stack_index = 0
        self.frame_index = 0
        self.compare = False
        self.faces = False  # the face strip in place of the photo (E)
        self.queue: CullQueue = self._load()
        self._pixels: dict[str, PILImage | None] = {}
        self._current_line = 0  # the current stack's line in the stack list
        first = self.queue.next_open(-1)
        self.stack_index = first if first is not None else 0

    # -- data -----------------------------------------------------------------------------
    def _load(self) -> CullQueue:
        from kilo.cull.review_order import load_queue

        return load_queue(self.catalog, self.project_id, self.user_id)

    @property
    def stack(self) -> CullStack | None:
        if not self.queue.stacks:
            return None
        return self.queue.stacks[min(self.stack_index, len(self.queue.stacks) - 1)]

    @property
    def frame(self) -> CullFrame | None:
        stack = self.stack
        if stack is None or not stack.frames:
            return None
        return stack.frames[min(self.frame_index, len(stack.frames) - 1)]

    def _pixels_of(self, asset_id: str | None) -> PILImage | None:
        if asset_id is None or not self.images:
            return None
        if asset_id not in self._pixels:
            from kilo.assets import open_rendition
            from kilo.errors import KiloError

            try:
                self._pixels[asset_id] = open_rendition(self.catalog, asset_id, "thumbnail")
            except KiloError:
                self._pixels[asset_id] = None
        return self._pixels[asset_id]

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal():
            # not focusable: the arrow keys move between stacks, they never scroll the list
            with VerticalScroll(id="stacks", can_focus=False):
                yield Static(id="stack-list")
            with Vertical(id="centre"):
                yield Static(id="header")
                with Horizontal(id="viewer"):
                    for side in ("a", "b"):  # b: the frame compare (C) puts beside it
                        with Vertical(id=f"pane-{side}", classes="pane"):
                            yield Static(id=f"label-{side}", classes="label")
                            with Container(classes="box"):  # the frame, letterboxed
                                yield self._frame_widget(side)
                if self.image_widget is not None:
                    yield self.image_widget(None, id="face-strip")  # type: ignore[arg-type]
                else:
                    yield Static(id="face-strip")
                yield Static(id="face-info")
                yield Static(id="chips")
                yield Static(id="info")
                yield Static(id="filmstrip")
        yield Static(KEY_HELP, id="help")
        yield Footer()

    def _frame_widget(self, side: str) -> Widget:
        if self.image_widget is None:
            return Static(id=f"frame-{side}", classes="frame")
        # width and height auto: the photo at its true aspect ratio, as large as fits
        return self.image_widget(None, id=f"frame-{side}", classes="frame photo")  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.sub_title = self._project_title()
        if self.images_missing:
            self.notify("This terminal cannot show images here; showing file names.")
        self.redraw()
        self.set_interval(REFRESH_S, self.refresh_queue)

    def refresh_queue(self) -> None:
        """Frames a running ingest makes ready (and decisions made elsewhere) appear without
        a restart; the screen stays on the stack and frame it shows."""
        queue = self._load()
        if queue == self.queue:
            return
        stack, frame = self.stack, self.frame
        self.queue = queue
        self.stack_index, self.frame_index = queue.position_of(
            stack.cluster_id if stack else None, frame.asset_id if frame else None
        )
        self.redraw()

    def _project_title(self) -> str:
        from kilo.projects import get_project

        return get_project(self.catalog, self.project_id).title

    def redraw(self) -> None:
        stack, frame = self.stack, self.frame
        self.query_one("#stack-list", Static).update(self._stack_list())
        self.call_after_refresh(self._scroll_to_current)
        header = self.query_one("#header", Static)
        if stack is None or frame is None:
            header.update("No photos in this project yet: kilo ingest FOLDER --project NAME")
            return
        mode = "" if self.queue.ai_ready else "  [yellow]AI not ready: chronological filmstrip[/]"
        state = "[green]reviewed[/]" if stack.reviewed else "open"
        conf = f"  confidence {stack.confidence:.0%}" if stack.confidence is not None else ""
        moment = f"{stack.moment_title} › " if stack.moment_title else ""
        header.update(
            f"[b]{moment}{stack.title}[/b]  {stack.kind.replace('_', ' ')}  {state}{conf}{mode}\n"
            f"frame {self.frame_index + 1}/{len(stack.frames)}"
        )
        chips = self.query_one("#chips", Static)
        if frame.asset_id == stack.winner_asset_id:
            chips.update(
                "  ".join(f"[reverse] {c} [/]" for c in stack.why_winner[:3])
                or "[dim]suggested winner[/]"
            )
        elif stack.winner_asset_id:
            name = self._name_of(stack, stack.winner_asset_id)
            chips.update(f"[dim]suggested winner: {name} (C to compare)[/]")
        else:
            chips.update("")
        self.query_one("#info", Static).update(self._info(frame, stack))
        self.query_one("#filmstrip", Static).update(self._filmstrip(stack))
        self.set_class(self.compare, "compare")
        self.set_class(self.faces, "faces")
        if self.faces:
            self._show_faces(stack)
        viewer = self.query_one("#viewer")
        viewer.set_class(self.compare, "compare")
        other = self._compare_with(stack, frame)
        self._label_compare(stack, frame, other)
        if self.images:
            self.query_one("#frame-a").image = self._pixels_of(frame.asset_id)  # type: ignore[attr-defined]
            if self.compare:
                self.query_one("#frame-b").image = self._pixels_of(other)  # type: ignore[attr-defined]
        else:
            self.query_one("#frame-a", Static).update(frame.filename)
            self.query_one("#frame-b", Static).update(
                self._name_of(stack, other) if self.compare else ""
            )

    def _scroll_to_current(self) -> None:
        """Keep the current stack's line (and its moment's heading) in sight."""
        from textual.geometry import Region

        stacks = self.query_one("#stacks", VerticalScroll)
        top = max(0, self._current_line - 1)
        region = Region(0, top, stacks.size.width, self._current_line - top + 1)
        stacks.scroll_to_region(region, animate=False, immediate=True)

    def _show_faces(self, stack: CullStack) -> None:
        """Every person of the stack, a face per frame, eyes marked (the face strip)."""
        from kilo.cull.faces import face_strip, render_face_strip

        strip = face_strip(self.catalog, [f.asset_id for f in stack.frames])
        info = self.query_one("#face-info", Static)
        if not strip.people:
            info.update("[dim]No faces found in this stack (E to go back).[/]")
            return
        lines = [f"person {p + 1}: {draw_eyes(strip, p)}" for p in range(len(strip.people))]
        info.update(
            "\n".join(lines[:6])
            + (
                "  [dim](eyes per frame, each face outlined in its colour: [green]open[/], "
                "[red]closed[/], [grey62]can't tell[/])[/]"
            )
        )
        widget = self.query_one("#face-strip")
        if self.images:
            widget.image = render_face_strip(self.catalog, strip)  # type: ignore[attr-defined]

    def _label_compare(self, stack: CullStack, frame: CullFrame, other: str | None) -> None:
        """What each side of compare shows: this frame, and the winner or the next frame."""
        if not self.compare:
            return

        def marks(f: CullFrame | None) -> str:
            if f is None:
                return ""
            return (" [green b]PICK[/]" if f.picked else "") + (
                " [red b]REJECT[/]" if f.rejected else ""
            )

        b = next((f for f in stack.frames if f.asset_id == other), None)
        role = "suggested winner" if other == stack.winner_asset_id else "next frame"
        self.query_one("#label-a", Static).update(f"[b]A[/b]{marks(frame)} {frame.filename}")
        self.query_one("#label-b", Static).update(
            f"[b]B[/b]{marks(b)} {b.filename} [dim]({role})[/]"
            if b
            else "[dim]B: no other frame[/]"
        )

    def on_resize(self, event: Any) -> None:
        """A small terminal (80 columns) gives the photo more room than the stack list."""
        self.query_one("#stacks").set_class(event.size.width < 110, "narrow")

    def _compare_with(self, stack: CullStack, frame: CullFrame) -> str | None:
        if stack.winner_asset_id and stack.winner_asset_id != frame.asset_id:
            return stack.winner_asset_id
        others = [f.asset_id for f in stack.frames if f.asset_id != frame.asset_id]
        return others[0] if others else None

    @staticmethod
    def _name_of(stack: CullStack, asset_id: str | None) -> str:
        return next((f.filename for f in stack.frames if f.asset_id == asset_id), "")

    def _stack_list(self) -> Text:
        text = Text()
        moment = None
        room = 10 if self.query_one("#stacks").has_class("narrow") else 20
        self._current_line = 0
        for i, s in enumerate(self.queue.stacks):
            if s.moment_title and s.moment_title != moment:
                moment = s.moment_title
                text.append(f"{moment}\n", style="bold dim")
            if i == self.stack_index:
                self._current_line = text.plain.count("\n")
            rejected = s.decided and all(f.rejected for f in s.frames)
            mark = ("✗" if rejected else "✓") if s.decided else "●"  # Shift+D is not a pick
            conf = f" {s.confidence:.0%}" if s.confidence is not None else ""
            line = f" {mark} {KIND_ICON.get(s.kind, '?')} {s.title[:room]} ·{len(s.frames)}{conf}\n"
            style = "reverse" if i == self.stack_index else ("dim" if s.decided else "")
            text.append(line, style=style)
        return text

    @staticmethod
    def _info(frame: CullFrame, stack: CullStack) -> str:
        badges = []
        if frame.picked:
            badges.append("[green b]PICK[/]")
        if frame.rejected:
            badges.append("[red b]REJECT[/]")
        if frame.starred:
            badges.append("[yellow]✦ starred[/]")
        if frame.asset_id == stack.winner_asset_id:
            badges.append("[cyan]winner[/]")
        blur = f"blur {frame.blur:.2f}" if frame.blur is not None else "blur –"
        return f"[b]{frame.filename}[/b]  {draw_stars(frame.rating)}  {' '.join(badges)}  {blur}"

    def _filmstrip(self, stack: CullStack) -> Text:
        text = Text()
        for j, f in enumerate(stack.frames):
            mark = "P" if f.picked else ("X" if f.rejected else " ")
            win = "W" if f.asset_id == stack.winner_asset_id else " "
            blur = f" b{f.blur:.2f}" if f.blur is not None and not self.queue.ai_ready else ""
            style = "reverse" if j == self.frame_index else ("red" if f.rejected else "")
            text.append(f"[{j + 1}{win}{mark}{blur}]", style=style)
            text.append(" ")
        return text

    # -- actions: each calls the library, then reloads ----------------------------------
    def _after(self, *, advance_stack: bool = False, advance_frame: bool = False) -> None:
        self.queue = self._load()
        if advance_frame and self.stack is not None:
            if self.frame_index + 1 < len(self.stack.frames):
                self.frame_index += 1
            else:
                advance_stack = True
        if advance_stack:
            nxt = self.queue.next_open(self.stack_index)
            if nxt is None:
                self.notify("Every stack is decided.", title="Done")
            else:
                self.stack_index, self.frame_index = nxt, 0
        self.redraw()

    def action_pick(self) -> None:
        from kilo.cull import pick_asset, pick_winner

        stack, frame = self.stack, self.frame
        if stack is None or frame is None:
            return
        if stack.cluster_id is not None:
            pick_winner(self.catalog, stack.cluster_id, frame.asset_id, user_id=self.user_id)
            self._after(advance_stack=True)
        else:
            pick_asset(self.catalog, frame.asset_id, user_id=self.user_id)
            self._after(advance_frame=True)

    def action_reject(self) -> None:
        from kilo.cull import toggle_reject

        if self.frame is not None:
            toggle_reject(self.catalog, self.frame.asset_id, user_id=self.user_id)
            self._after()

    def action_reject_stack(self) -> None:
        from kilo.cull import reject_cluster

        stack = self.stack
        if stack is None:
            return
        if stack.cluster_id is None:
            self.notify("Not a cluster: reject frames one by one with D.", severity="warning")
            return
        reject_cluster(self.catalog, stack.cluster_id, user_id=self.user_id)
        self._after(advance_stack=True)

    def action_rate(self, rating: int) -> None:
        from kilo.cull import set_rating

        if self.frame is not None:
            set_rating(self.catalog, self.frame.asset_id, rating, user_id=self.user_id)
            self._after()

    def action_star(self) -> None:
        from kilo.cull import toggle_star

        if self.frame is not None:
            toggle_star(self.catalog, self.frame.asset_id, user_id=self.user_id)
            self._after()

    def action_compare(self) -> None:
        self.compare = not self.compare
        self.redraw()

    def action_faces(self) -> None:
        self.faces = not self.faces
        self.redraw()

    def action_frame(self, step: int) -> None:
        stack = self.stack
        if stack is not None and stack.frames:
            self.frame_index = (self.frame_index + step) % len(stack.frames)
            self.redraw()

    def action_stack(self, step: int) -> None:
        if self.queue.stacks:
            self.stack_index = (self.stack_index + step) % len(self.queue.stacks)
            self.frame_index = 0
            self.redraw()

    def _step(self, redo: bool) -> None:
        from kilo.cull import redo as redo_action
        from kilo.cull import undo as undo_action

        fn = redo_action if redo else undo_action
        action = fn(self.catalog, self.project_id, self.user_id)
        if action is None:
            self.notify(f"Nothing to {'redo' if redo else 'undo'}.")
            return
        self.queue = self._load()
        cluster = action.cluster_ids[0] if action.cluster_ids else None
        asset = action.asset_ids[0] if action.asset_ids else None
        if cluster is not None or asset is not None:
            self.stack_index, self.frame_index = self.queue.position_of(cluster, asset)
        self.notify(f"{'Redid' if redo else 'Undid'} {action.kind.replace('_', ' ')}.")
        self.redraw()

    def action_undo(self) -> None:
        self._step(redo=False)

    def action_redo(self) -> None:
        self._step(redo=True)

    def action_help(self) -> None:
        self.query_one("#help").toggle_class("shown")


def run_cull(catalog: Catalog, project_id: str, **kwargs: Any) -> None:
    """Open the culling screen (blocks until the user quits).

    Ctrl-C as a signal (``kill -INT``; the key itself quits, the terminal being raw) asks
    the screen to close as ``q`` does, so it hands the terminal back whole, then ends the
    command as interrupted (exit 130). Killed in its teardown, the screen left the
    terminal in its alternate screen: a second signal while it closes goes to the handler
    there was before (the CLI's: the first stops, raising KeyboardInterrupt, which textual
    also tears down cleanly), and only a third leaves at once."""
    import asyncio
    import signal
    import threading

    app = CullApp(catalog, project_id, **kwargs)
    if threading.current_thread() is not threading.main_thread():
        app.run()
        return
    previous = signal.getsignal(signal.SIGINT)
    asked: list[bool] = []

    def on_interrupt(signum: int, frame: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # not drawing yet, or done: nothing to close
        if asked or loop is None:
            if callable(previous):
                previous(signum, frame)
                return
            raise KeyboardInterrupt
        asked.append(True)
        loop.call_soon_threadsafe(app.exit)

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        app.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    if asked:
        raise KeyboardInterrupt
