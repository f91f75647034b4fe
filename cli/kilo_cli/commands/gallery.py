"""``kilo gallery``: client galleries from the terminal: make one and print its link, change
it, see what clients did, and bring their favorites back as picks."""

from __future__ import annotations

from datetime import UTC, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kilo_cli.commands._listing import AllUsersOpt
from kilo_cli.context import STATE, find_project
from kilo_cli.output import (
    JsonOpt,
    emit,
    message,
    out_console,
    print_record,
    print_table,
    safe,
    write_csv,
)
from kilo_cli.table_layout import Col

gallery_app = typer.Typer(
    help="Client galleries: a link to send, favorites and comments that come back.",
    no_args_is_help=True,
)
GalleryArg = Annotated[str, typer.Argument(help="Gallery id, id prefix or title.")]
AssetsOpt = Annotated[
    list[str] | None,
    typer.Option("--assets", help="Photos: ids, id prefixes or file names (repeat or comma)."),
]


class Downloads(StrEnum):
    none = "none"
    web = "web"
    original = "original"


def register(app: typer.Typer) -> None:
    app.add_typer(gallery_app, name="gallery")


def public_base() -> str:
    """Where clients reach the server: KILO_PUBLIC_URL when set, else the running ``kilo
    serve`` of this library (its real port), else the default (port 8080)."""
    from kilo_cli.serve_state import running_url

    settings = STATE.catalog().settings
    if "public_url" in settings.model_fields_set:
        return settings.public_url.rstrip("/")
    return (running_url(settings) or settings.public_url).rstrip("/")


def _link(g: Any) -> str:
    return f"{public_base()}{g.share_path}"


def _say_if_no_server() -> None:
    """A printed link works only while a server answers it: say so when none runs."""
    from kilo_cli.serve_state import running_url

    settings = STATE.catalog().settings
    if "public_url" not in settings.model_fields_set and not running_url(settings):
        message(
            f"no kilo serve is running on this library: the link works once 'kilo serve' "
            f"answers at {settings.public_url}; set KILO_PUBLIC_URL to the address clients use"
        )


def _show(g: Any) -> None:
    print_record(
        [
            ("id", g.id),
            ("title", g.title),
            ("link", _link(g)),
            ("status", g.status),
            ("photos", g.asset_count),
            ("password", "yes" if g.requires_password else "no"),
            ("expires", g.expires_at.date().isoformat() if g.expires_at else "never"),
            (
                "watermark",
                ("logo" if g.watermark_logo else g.watermark_text or "PROOF")
                if g.watermark
                else "no",
            ),
            ("downloads", g.download_size if g.allow_downloads else "no"),
            ("picks", _bounds(g.min_picks, g.max_picks)),
            ("created", g.created_at.isoformat(timespec="seconds")),
        ]
    )


def _bounds(low: int | None, high: int | None) -> str:
    if low and high:
        return f"{low} to {high}"
    return f"at least {low}" if low else f"at most {high}" if high else "any"


def _expiry(value: str | None) -> dict[str, Any]:
    """--expires DATE (the end of that day, UTC), an ISO time, 'never'; not given: {}."""
    from kilo.errors import InvalidInput

    if value is None:
        return {}
    if value.strip().lower() == "never":
        return {"expires_at": None}
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"--expires wants a date (2027-01-31) or 'never', not {value!r}"
        ) from None
    if len(value.strip()) == 10:
        when = datetime.combine(when.date(), time(23, 59, 59))
    return {"expires_at": when if when.tzinfo else when.replace(tzinfo=UTC)}


def _split(items: list[str] | None) -> list[str]:
    return [a.strip() for item in items or [] for a in item.split(",") if a.strip()]


def _options(
    password: str | None,
    ask: bool,
    expires: str | None,
    watermark: str | None,
    downloads: Downloads | None,
    min_picks: int | None,
    max_picks: int | None,
    show_filenames: bool | None,
) -> dict[str, Any]:
    fields: dict[str, Any] = _expiry(expires)
    if ask:
        password = typer.prompt("gallery password", hide_input=True, confirmation_prompt=True)
    if password is not None:
        fields["password"] = password or None
    if watermark is not None:
        fields["watermark"] = watermark.lower() != "off"
        if fields["watermark"] and watermark.lower() != "on":
            fields["watermark_text"] = watermark
    if downloads is not None:
        fields["allow_downloads"] = downloads is not Downloads.none
        if downloads is not Downloads.none:
            fields["download_size"] = downloads.value
    for name, value in (
        ("min_picks", min_picks),
        ("max_picks", max_picks),
        ("show_filenames", show_filenames),
    ):
        if value is not None:
            fields[name] = value
    return fields


PasswordOpt = Annotated[str | None, typer.Option(help="A password clients must give.")]
AskOpt = Annotated[bool, typer.Option("--ask-password", help="Type the password (hidden).")]
ExpiresOpt = Annotated[
    str | None, typer.Option(help="Last day (2027-01-31) or 'never'; default: 30 days.")
]
WatermarkOpt = Annotated[
    str | None, typer.Option(help="'on' (the text PROOF), a text of your own, or 'off'.")
]
LogoOpt = Annotated[
    Path | None, typer.Option("--watermark-logo", help="An image file (PNG with alpha) to tile.")
]
DownloadsOpt = Annotated[Downloads | None, typer.Option(help="What clients may download.")]
MinOpt = Annotated[int | None, typer.Option("--min-picks", min=0, help="Favorites required.")]
MaxOpt = Annotated[int | None, typer.Option("--max-picks", min=0, help="Favorites allowed.")]
NamesOpt = Annotated[
    bool | None, typer.Option("--show-filenames/--hide-filenames", help="Show file names.")
]


@gallery_app.command("create")
def create(
    title: Annotated[str, typer.Argument(help="The gallery's title, as clients see it.")],
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Project (default: the title).")
    ] = None,
    assets: AssetsOpt = None,
    picked: Annotated[bool, typer.Option("--picked", help="The project's picks.")] = False,
    all_photos: Annotated[bool, typer.Option("--all", help="Every photo.")] = False,
    password: PasswordOpt = None,
    ask_password: AskOpt = False,
    expires: ExpiresOpt = None,
    watermark: WatermarkOpt = None,
    watermark_logo: LogoOpt = None,
    downloads: DownloadsOpt = None,
    min_picks: MinOpt = None,
    max_picks: MaxOpt = None,
    show_filenames: NamesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a gallery of a project's photos and print its link (expires in 30 days unless
    --expires says otherwise)."""
    from kilo.assets import select_assets
    from kilo.errors import InvalidInput
    from kilo.gallery import create_gallery

    cat = STATE.catalog()
    proj = find_project(cat, project or title)
    if sum((bool(assets), picked, all_photos)) > 1:
        raise InvalidInput("use only one of --assets, --picked, --all")
    ids = _split(assets) or select_assets(cat, proj.id, "all" if all_photos else "picked")
    if not ids:
        raise InvalidInput("no photos to share: pick some first, or give --assets or --all")
    fields = _options(
        password, ask_password, expires, watermark, downloads, min_picks, max_picks, show_filenames
    )
    if (end := fields.get("expires_at")) is not None and end <= datetime.now(UTC):
        raise InvalidInput(
            f"--expires {expires} is in the past: the link would be dead before anyone opens "
            "it; give a later date, or 'never'"
        )
    if watermark_logo is not None:
        fields["watermark"] = True
    g = create_gallery(
        cat, proj.id, title=title, asset_ids=ids, watermark_logo=watermark_logo, **fields
    )
    if not as_json:
        message(f"made gallery [bold]{safe(g.title)}[/bold] of {g.asset_count} photos")
        _say_if_no_server()
        typer.echo(_link(g))  # the link on stdout, for a script or the clipboard
        return
    emit(g.model_copy(update={"share_path": _link(g)}), True, lambda: None)


@gallery_app.command("list")
def list_(
    project: Annotated[
        str | None, typer.Argument(help="Project id or title (default: all of yours).")
    ] = None,
    all_users: AllUsersOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Your galleries, newest first, with their links (--all-users: every user's, with
    their project's owner)."""
    from kilo.gallery import list_galleries
    from kilo.projects import project_owners

    STATE.all_users = STATE.all_users or all_users
    cat = STATE.catalog()
    pid = find_project(cat, project).id if project else None
    items = list_galleries(cat, pid, owner_user_id=STATE.owner())
    owners = project_owners(cat, [g.project_id for g in items]) if STATE.all_users else None

    def human() -> None:
        hidden = print_table(
            [
                (
                    g.id,
                    g.title,
                    *([owners.get(g.project_id, "")] if owners is not None else []),
                    g.status,
                    g.asset_count,
                    g.expires_at.date().isoformat() if g.expires_at else "never",
                    _link(g),
                )
                for g in items
            ],
            [
                Col("id", "id"),
                Col("title", "name"),
                *([Col("owner", "name", drop=1)] if owners is not None else []),
                Col("status", drop=2),
                Col("photos", "num"),
                Col("expires", "time", drop=3),
                Col("link", "link", drop=9),
            ],
            empty="no galleries yet: kilo gallery create TITLE --picked",
        )
        if "link" in hidden:  # a link is never cut: one per line under the table
            for g in items:
                out_console().print(
                    f"{g.id[:8]}  {safe(_link(g))}", highlight=False, soft_wrap=True
                )

    emit(items, as_json, human)


def _gallery(ref: str) -> Any:
    """The gallery ``ref`` names among your projects' (every user's with --all-users)."""
    from kilo.gallery import get_gallery, resolve_gallery

    cat = STATE.catalog()
    return get_gallery(cat, resolve_gallery(cat, ref, owner_user_id=STATE.owner()))


@gallery_app.command("show")
def show(gallery: GalleryArg, as_json: JsonOpt = False) -> None:
    """One gallery: its link, photos, password, expiry and what clients may do."""
    g = _gallery(gallery)
    emit(g, as_json, lambda: _show(g))


@gallery_app.command("update")
def update(
    gallery: GalleryArg,
    title: Annotated[str | None, typer.Option(help="A new title.")] = None,
    password: Annotated[str | None, typer.Option(help="A new password ('' takes it off).")] = None,
    ask_password: AskOpt = False,
    expires: ExpiresOpt = None,
    watermark: WatermarkOpt = None,
    watermark_logo: LogoOpt = None,
    downloads: DownloadsOpt = None,
    min_picks: MinOpt = None,
    max_picks: MaxOpt = None,
    show_filenames: NamesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a gallery; what is not given stays. A new password sends every client back to
    the password page."""
    from kilo.gallery import update_gallery

    fields = _options(
        password, ask_password, expires, watermark, downloads, min_picks, max_picks, show_filenames
    )
    if title is not None:
        fields["title"] = title
    if watermark_logo is not None:
        fields["watermark"] = True
    g = update_gallery(
        STATE.catalog(), _gallery(gallery).id, watermark_logo=watermark_logo, **fields
    )
    if (end := fields.get("expires_at")) is not None and end <= datetime.now(UTC):
        # a date in the past closes the link now (a way to take a gallery down): said plainly
        message(f"the link is closed: it expired {end.date().isoformat()}; clients can't open it")
    emit(g, as_json, lambda: _show(g))


@gallery_app.command("add")
def add(
    gallery: GalleryArg,
    assets: Annotated[list[str], typer.Argument(help="Photos.")],
    as_json: JsonOpt = False,
) -> None:
    """Add photos (of the gallery's project) at the end."""
    from kilo.gallery import add_gallery_assets

    g = add_gallery_assets(STATE.catalog(), _gallery(gallery).id, _split(assets))
    emit(g, as_json, lambda: message(f"{g.asset_count} photos in {safe(g.title)}"))


@gallery_app.command("remove")
def remove(
    gallery: GalleryArg,
    assets: Annotated[list[str], typer.Argument(help="Photos.")],
    as_json: JsonOpt = False,
) -> None:
    """Take photos out; their links stop working at once."""
    from kilo.catalog.ids import resolve_ids
    from kilo.gallery import remove_gallery_assets

    cat, g = STATE.catalog(), _gallery(gallery)
    ids = resolve_ids(cat, "assets", _split(assets), project_id=g.project_id)
    g = remove_gallery_assets(cat, g.id, ids)
    emit(g, as_json, lambda: message(f"{g.asset_count} photos in {safe(g.title)}"))


@gallery_app.command("revoke")
def revoke(gallery: GalleryArg, as_json: JsonOpt = False) -> None:
    """End the link: the page, every image link and every client session stop working."""
    from kilo.gallery import revoke_gallery

    g = revoke_gallery(STATE.catalog(), _gallery(gallery).id)
    emit(g, as_json, lambda: message(f"revoked {safe(g.title)}; kilo gallery link makes a new one"))


@gallery_app.command("link")
def link(gallery: GalleryArg, as_json: JsonOpt = False) -> None:
    """A new link for the gallery (the old one stops working); prints it."""
    from kilo.gallery import rotate_link

    g = rotate_link(STATE.catalog(), _gallery(gallery).id)
    emit(g, as_json, lambda: typer.echo(_link(g)))


class By(StrEnum):
    asset = "asset"
    visitor = "visitor"


@gallery_app.command("activity")
def activity(
    gallery: GalleryArg,
    by: Annotated[By | None, typer.Option(help="Counts per photo or per visitor instead.")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Views, favorites, comments, downloads and submitted selections, oldest first; or,
    with --by, their counts per photo or per visitor."""
    from kilo.gallery import list_activity
    from kilo.gallery.selections import summarise_activity

    gid = _gallery(gallery).id
    if by is not None:
        sums = summarise_activity(STATE.catalog(), gid, by.value)
        columns = [by.value, "views", "favorites", "comments", "downloads"]
        table = [[r[c] for c in columns] for r in sums]
        _rows_out(sums, table, columns, as_csv, as_json)
        return
    items = list_activity(STATE.catalog(), gid)
    rows = [
        [a.at.isoformat(timespec="seconds"), a.visitor, a.kind, a.filename or "", a.text or ""]
        for a in items
    ]
    _rows_out(items, rows, ["at", "visitor", "kind", "photo", "text"], as_csv, as_json)


def _rows_out(
    data: Any, rows: list[list[Any]], columns: list[str], as_csv: bool, as_json: bool
) -> None:
    if as_csv:
        write_csv(columns, rows)
        return
    emit(data, as_json, lambda: print_table(rows, columns, empty="no visits yet"))


@gallery_app.command("selections")
def selections(
    gallery: GalleryArg,
    apply: Annotated[bool, typer.Option("--apply", help="Pick the favorites in culling.")] = False,
    submitted_only: Annotated[
        bool, typer.Option("--submitted-only", help="Only selections clients submitted.")
    ] = False,
    write_xmp: Annotated[
        bool, typer.Option("--write-xmp", help="With --apply: write their XMP sidecars.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Each client's favorites; --apply turns them into picks (one action: kilo cull undo
    takes it back), --write-xmp into the sidecars Lightroom reads."""
    from kilo.errors import InvalidInput
    from kilo.gallery import apply_selections, list_selections

    cat, g = STATE.catalog(), _gallery(gallery)
    if write_xmp and not apply:
        raise InvalidInput("--write-xmp goes with --apply")
    if apply:
        done = apply_selections(
            cat, g.id, who="submitted" if submitted_only else "all", write_xmp=write_xmp
        )
        emit(
            {"picked": done.picked, "alreadyPicked": done.already, "xmpWritten": done.xmp_written},
            as_json,
            lambda: message(
                f"picked {len(done.picked)} photos ({done.already} were already picks)"
                + (f"; wrote {done.xmp_written} XMP sidecars" if write_xmp else "")
            ),
        )
        return
    sels = list_selections(cat, g.id)
    emit(
        sels,
        as_json,
        lambda: print_table(
            [
                (
                    s.visitor,
                    s.name or "",
                    len(s.asset_ids),
                    s.submitted_at.isoformat(timespec="seconds") if s.submitted_at else "not yet",
                    ", ".join(n or "?" for n in s.filenames[:6])
                    + (" ..." if len(s.filenames) > 6 else ""),
                )
                for s in sels
            ],
            ["visitor", "name", "favorites", "submitted", "photos"],
            empty="no favorites yet",
        ),
    )
