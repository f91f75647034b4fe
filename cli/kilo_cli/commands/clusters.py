"""``kilo clusters ...``: list, show, rename/review, set winners, split and merge clusters."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kilo.clock import UNDATED, wire_time
from kilo.models import ClusterKind
from kilo_cli.commands._listing import CursorOpt, LimitOpt, collect_pages, print_listing
from kilo_cli.context import STATE, find_project
from kilo_cli.output import JsonOpt, emit, message, print_record, print_table, safe
from kilo_cli.table_layout import Col

clusters_app = typer.Typer(
    help="Moments, bursts and duplicate groups with their suggested winners.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(clusters_app, name="clusters")


#: the kinds as a table shows them (``--json`` keeps the API's values)
_KIND_LABELS = {"duplicate_group": "duplicates"}


def _show(c: Any) -> None:
    from kilo.assets import asset_names

    names = asset_names(STATE.catalog(), [m.asset_id for m in c.assets])
    print_record(
        [
            ("id", c.id),
            ("kind", c.kind),
            ("title", c.title),
            ("start", wire_time(c.start_time, "seconds") if c.start_time else UNDATED),
            ("end", wire_time(c.end_time, "seconds") if c.end_time else UNDATED),
            ("reviewed", c.reviewed),
            ("winner", _named(c.winner_asset_id, names)),
            ("confidence", c.confidence),
            ("why", "; ".join(c.why_winner)),
        ]
    )
    print_table(
        [
            (
                m.rank,
                m.role or "",
                names.get(m.asset_id, ""),
                m.asset_id,
                m.signals.get("sharpness"),
                m.signals.get("exposure"),
                m.signals.get("noise"),
            )
            for m in c.assets
        ],
        [
            Col("rank", "num"),
            Col("role"),
            Col("file", "name"),
            Col("id", "id", drop=1),
            Col("sharpness", "num", drop=2),
            Col("exposure", "num", drop=3),
            Col("noise", "num", drop=4),
        ],
    )


def _named(asset_id: str | None, names: dict[str, str]) -> str | None:
    """``file.jpg (1a2b3c4d)``: a member as a person reads it and a command takes it."""
    if not asset_id:
        return None
    return f"{names[asset_id]} ({asset_id[:8]})" if asset_id in names else asset_id


@clusters_app.command("list")
def list_(
    project: Annotated[
        str, typer.Argument(help="Project id, id prefix, title or start of the title.")
    ],
    kind: Annotated[ClusterKind | None, typer.Option(help="The kind of group.")] = None,
    limit: LimitOpt = 200,
    cursor: CursorOpt = None,
    all_pages: Annotated[bool, typer.Option("--all/--one-page", help="Follow cursors.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """List a project's clusters in time order, with members and suggested winners."""
    from kilo.assets import asset_names
    from kilo.group import list_clusters

    cat = STATE.catalog()
    pid = find_project(cat, project).id
    items, nxt = collect_pages(
        lambda at: list_clusters(cat, pid, kind=kind, cursor=at, limit=limit), cursor, all_pages
    )
    names = {} if as_json else asset_names(cat, [c.winner_asset_id for c in items])
    print_listing(
        items,
        as_json,
        lambda c: (
            c.id,
            _KIND_LABELS.get(c.kind, c.kind),
            c.title,
            len(c.assets),
            names.get(c.winner_asset_id or "", c.winner_asset_id),
            "; ".join(c.why_winner),
            "yes" if c.reviewed else "",
        ),
        [
            Col("id", "id"),
            Col("kind", "name", drop=3),
            Col("title", drop=2),
            Col("size", "num"),
            Col("winner", "name"),
            Col("why", drop=4),
            Col("reviewed", drop=5),
        ],
        empty="no clusters yet: kilo analyze PROJECT",
        next_cursor=nxt,
    )


@clusters_app.command("show")
def show(
    cluster_id: Annotated[str, typer.Argument(help="Cluster id or id prefix.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one cluster with its ranked members and their signals."""
    from kilo.group import get_cluster

    c = get_cluster(STATE.catalog(), cluster_id)
    emit(c, as_json, lambda: _show(c))


@clusters_app.command("update")
def update(
    cluster_id: Annotated[str, typer.Argument(help="Cluster id or id prefix.")],
    title: Annotated[str | None, typer.Option(help="New title ('' clears).")] = None,
    reviewed: Annotated[
        bool | None, typer.Option("--reviewed/--not-reviewed", help="Mark (not) reviewed.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rename a cluster or mark it reviewed; both survive re-clustering."""
    from kilo.group import update_cluster
    from kilo.models import UpdateClusterRequest

    c = update_cluster(
        STATE.catalog(), cluster_id, UpdateClusterRequest(title=title, reviewed=reviewed)
    )
    emit(c, as_json, lambda: _show(c))


@clusters_app.command("winner")
def winner(
    cluster_id: Annotated[str, typer.Argument(help="Cluster id or id prefix.")],
    asset_id: Annotated[
        str, typer.Argument(help="The member that wins: asset id, id prefix or file name.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Choose a cluster's winner yourself, as the cull screen's F does: the photo is picked
    and the cluster marked reviewed (kept through re-clustering; kilo cull undo reverts)."""
    from kilo.assets import asset_names
    from kilo.cull import pick_winner
    from kilo.group import get_cluster

    cat = STATE.catalog()
    action = pick_winner(cat, cluster_id, asset_id)
    c = get_cluster(cat, action.cluster_ids[0])
    if not as_json:
        name = _named(c.winner_asset_id, asset_names(cat, [c.winner_asset_id or ""]))
        message(
            f"winner of {c.id[:8]}: {safe(name)} (picked, cluster reviewed); "
            "[b]kilo cull undo[/b] reverts"
        )
    emit(c, as_json, lambda: _show(c))


@clusters_app.command("split")
def split(
    cluster_id: Annotated[str, typer.Argument(help="Cluster id or id prefix.")],
    asset_ids: Annotated[list[str], typer.Argument(help="Members to move to a new cluster.")],
    as_json: JsonOpt = False,
) -> None:
    """Move some members into a new cluster of the same kind."""
    from kilo.group import split_cluster

    rest, new = split_cluster(STATE.catalog(), cluster_id, asset_ids)
    if not as_json:
        message(f"split {rest.id}: {len(new.assets)} member(s) now in {new.id}")

    def human() -> None:
        _show(rest)
        _show(new)

    emit([rest, new], as_json, human)


@clusters_app.command("merge")
def merge(
    cluster_ids: Annotated[list[str], typer.Argument(help="Clusters to merge (into the first).")],
    as_json: JsonOpt = False,
) -> None:
    """Merge clusters of the same kind into the first one."""
    from kilo.group import merge_clusters

    c = merge_clusters(STATE.catalog(), cluster_ids)
    if not as_json:
        message(f"merged into {c.id} ({len(c.assets)} members)")
    emit(c, as_json, lambda: _show(c))
