"""Running an export plan: render into a staging folder, name, zip, then publish.

Nothing reaches the destination until every file is ready: files are rendered into a hidden
staging folder (inside the destination folder when it is local, so publishing is a rename; in a
temporary folder for object stores) and moved or uploaded at the end. A failure removes the
staging folder and anything already published, so a failed export leaves no partial files.

This module never touches the catalog: :func:`execute_plan` is a function of its plan.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kilo.errors import InvalidInput, KiloError, StoreError, describe_exception
from kilo.executors import is_distributed, open_pool
from kilo.export.contact_sheet import SheetItem, SheetSpec, render_contact_sheet
from kilo.export.naming import NameAllocator, NameFields, format_name, sanitize_component
from kilo.export.presets import PhotoTask, RenderedFile, parse_settings, render_photo
from kilo.jobs.runner import wants_pool
from kilo.progress import ItemResult, Progress, ProgressCallback, report
from kilo.settings import Settings
from kilo.store import filesystem, is_local, local_path

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SheetEntry:
    """One photo of a contact sheet, as the main process found it in the catalog."""

    asset_id: str
    filename: str
    source_uri: str
    thumbnail_uri: str | None
    captured_at: datetime | None
    rating: int | None
    picked: bool
    rejected: bool
    group: str | None
    frame: int = 0
    #: the name the sheet prints (kilo.text.display_name: "bird_burst.heic [2/4]")
    name: str = ""


@dataclass(slots=True)
class ExportPlan:
    """Everything needed to run one export, with no catalog access."""

    export_id: str
    preset: str
    settings: dict[str, Any]
    dest: str
    project_title: str
    export_date: date
    store_settings: Settings
    workers: int = 1
    photos: list[PhotoTask] = field(default_factory=list)
    sheet: list[SheetEntry] = field(default_factory=list)
    sheet_facts: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class ExportOutcome:
    artifact: str
    files: list[str]
    results: list[ItemResult]
    byte_size: int

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.results if r.status == "failed"]

    def to_result(self) -> dict[str, Any]:
        return {
            "artifact": self.artifact,
            "files": self.files,
            "byteSize": self.byte_size,
            "failed": [
                {"assetId": r.asset_id, "item": r.item, "reason": r.reason} for r in self.failed
            ],
            "results": [r.model_dump(mode="json", by_alias=True) for r in self.results],
        }


def _render_one(task: PhotoTask) -> tuple[int, list[RenderedFile] | None, str | None]:
    try:
        return task.index, render_photo(task), None
    except Exception as exc:  # one bad photo never stops an export
        log.debug("export of %s failed", task.source_uri, exc_info=True)
        return task.index, None, describe_exception(exc)


def _render_elsewhere(
    task: PhotoTask,
) -> tuple[int, list[tuple[RenderedFile, bytes]] | None, str | None]:
    """:func:`_render_one` on a Dask worker, which may be another machine: it renders into a
    temporary folder of its own and sends the files' bytes back to be staged here."""
    with tempfile.TemporaryDirectory(prefix="kilo-render-") as tmp:
        task.staging_dir = tmp
        index, files, error = _render_one(task)
        if files is None:
            return index, None, error
        return index, [(f, Path(f.path).read_bytes()) for f in files], None


def _stage(staging: Path, sent: list[tuple[RenderedFile, bytes]]) -> list[RenderedFile]:
    """Write files rendered on another machine into the staging folder."""
    out = []
    for file, data in sent:
        path = staging / Path(file.path).name
        path.write_bytes(data)
        file.path = str(path)
        out.append(file)
    return out


def _existing_names(dest: str, settings: Settings) -> list[str]:
    if is_local(dest):
        path = local_path(dest)
        return [p.name for p in path.iterdir()] if path.is_dir() else []
    fs, path_in = filesystem(dest, settings)
    try:
        return [str(p).rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(path_in, detail=False)]
    except FileNotFoundError:
        return []


def _staging_prefix(export_id: str, local: bool) -> str:
    return f"{'.' if local else ''}kilo-export-{export_id}-"


#: in the staging folder while its files are moved out: the destinations, one a line
PUBLISHING = "publishing.txt"


def remove_staging(export_id: str, dest: str) -> int:
    """Clean up after an export whose process was killed: its staging folders (in a local
    destination, or the temporary folder of a remote one) and, when it died while
    publishing, the files it had already moved (an export is all or nothing). Returns the
    number of folders removed."""
    local = is_local(dest)
    where = local_path(dest) if local else Path(tempfile.gettempdir())
    removed = 0
    for folder in where.glob(_staging_prefix(export_id, local) + "*"):
        manifest = folder / PUBLISHING
        if local and manifest.is_file():
            for line in manifest.read_text(encoding="utf-8", errors="surrogateescape").split("\n"):
                target = Path(line)
                if line and target.parent == where and not (folder / target.name).exists():
                    target.unlink(missing_ok=True)  # moved out before the kill
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _make_staging(plan: ExportPlan) -> Path:
    prefix = _staging_prefix(plan.export_id, is_local(plan.dest))
    if is_local(plan.dest):
        dest = local_path(plan.dest)
        try:
            dest.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(prefix=prefix, dir=dest))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise StoreError(f"the destination is not writable: {reason}", path=str(dest)) from None
    return Path(tempfile.mkdtemp(prefix=prefix))


def _publish(staged: list[tuple[Path, str]], plan: ExportPlan) -> list[str]:
    """Move (local) or upload (remote) the staged files; all or nothing. Returns their URIs."""
    done: list[str] = []
    try:
        if is_local(plan.dest):
            dest = local_path(plan.dest)
            manifest = "\n".join(str(dest / name) for _, name in staged)
            (staged[0][0].parent / PUBLISHING).write_text(
                manifest, encoding="utf-8", errors="surrogateescape"
            )
            for path, name in staged:
                os.replace(path, dest / name)
                done.append(str(dest / name))
            return done
        fs, base = filesystem(plan.dest, plan.store_settings)
        for path, name in staged:
            fs.put_file(str(path), f"{base.rstrip('/')}/{name}")
            done.append(f"{plan.dest.rstrip('/')}/{name}")
        return done
    except Exception as exc:
        _unpublish(done, plan)
        if isinstance(exc, KiloError):
            raise
        reason = getattr(exc, "strerror", None) or str(exc)
        raise StoreError(f"cannot write to the destination: {reason}", path=plan.dest) from None


def _unpublish(uris: list[str], plan: ExportPlan) -> None:
    for uri in uris:
        try:
            if is_local(uri):
                Path(uri).unlink(missing_ok=True)
            else:
                fs, path_in = filesystem(uri, plan.store_settings)
                fs.rm_file(path_in)
        except Exception:  # best effort: the original error is what the caller needs
            log.debug("cannot remove %s", uri, exc_info=True)
            continue


def _rendered_result(label: str, asset_id: str, files: list[RenderedFile]) -> ItemResult:
    """An ok result; a carousel or story photo says what its crop was framed on, and why
    when a detector was missing (``reason``)."""
    framing = files[0].framing if files else ""
    if not framing:
        return ItemResult(item=label, status="ok", asset_id=asset_id)
    note = files[0].framing_note or None
    return ItemResult(
        item=label, status="ok", asset_id=asset_id, reason=note, extra={"framing": framing}
    )


def _render_photos(
    plan: ExportPlan, staging: Path, progress: ProgressCallback | None
) -> tuple[dict[int, list[RenderedFile]], list[ItemResult]]:
    tasks = plan.photos
    for task in tasks:
        task.staging_dir = str(staging)
        task.settings_obj = plan.store_settings
    rendered: dict[int, list[RenderedFile]] = {}
    results: list[ItemResult] = []
    by_index = {t.index: t for t in tasks}
    total = len(tasks)

    def record(index: int, files: list[RenderedFile] | None, error: str | None) -> None:
        task = by_index[index]
        label = str(task.meta.get("filename") or task.asset_id)
        if files is not None:
            rendered[index] = files
            results.append(_rendered_result(label, task.asset_id, files))
        else:
            results.append(
                ItemResult(item=label, status="failed", reason=error, asset_id=task.asset_id)
            )
        report(
            progress,
            Progress(
                "render",
                len(results),
                total,
                item=label,
                status=results[-1].status,
                message=error,
            ),
        )

    executor = plan.store_settings.executor
    if wants_pool(len(tasks), plan.workers, executor):
        with open_pool(executor, min(plan.workers, len(tasks)), preload=_PRELOAD) as pool:
            if not is_distributed(pool):
                for index, files, error in pool.map(_render_one, tasks, chunksize=1):
                    record(index, files, error)
            else:
                for index, sent, error in pool.map(_render_elsewhere, tasks):
                    record(index, None if sent is None else _stage(staging, sent), error)
    else:
        for task in tasks:
            record(*_render_one(task))
    return rendered, results


#: what export workers need: decoding, the render pipeline, encoders
_PRELOAD = ("kilo.export.render", "kilo.imaging", "kilo.edit.render", "kilo.store", "cv2")


def _name_photos(
    plan: ExportPlan, rendered: dict[int, list[RenderedFile]], allocator: NameAllocator
) -> list[tuple[Path, str]]:
    opts = parse_settings(plan.preset, plan.settings)
    staged: list[tuple[Path, str]] = []
    seq = 0
    for task in plan.photos:
        files = rendered.get(task.index)
        if not files:
            continue
        seq += 1
        captured = task.meta.get("captured_at")
        fields = NameFields(
            seq=seq,
            project=plan.project_title,
            captured_at=captured if isinstance(captured, datetime) else None,
            export_date=plan.export_date,
            filename=str(task.meta.get("filename") or ""),
            asset_id=task.asset_id,
            preset=plan.preset,
            camera=str(task.meta.get("camera_model") or ""),
        )
        stem = format_name(opts.name_template, fields)
        for f in files:
            part_stem = f"{stem}_{f.part + 1:02d}" if f.parts > 1 else stem
            staged.append((Path(f.path), allocator.allocate(part_stem, f.ext)))
    return staged


def _sheet_thumbnail(entry: SheetEntry, settings: Settings) -> Any:
    from kilo.imaging import decode_image, read_source

    uri = entry.thumbnail_uri
    if uri and is_local(uri) and local_path(uri).is_file():
        return str(local_path(uri))
    try:
        if uri:
            return read_source(uri, settings)
        data = read_source(entry.source_uri, settings)
        return decode_image(data, name=entry.filename, max_px=512, frame=entry.frame).image
    except KiloError:
        return None


def _render_sheet(plan: ExportPlan, staging: Path, progress: ProgressCallback | None) -> Path:
    opts = parse_settings(plan.preset, plan.settings)
    items: list[SheetItem] = []
    total = len(plan.sheet)
    for n, entry in enumerate(plan.sheet, start=1):
        items.append(
            SheetItem(
                filename=entry.name or entry.filename,
                thumbnail=_sheet_thumbnail(entry, plan.store_settings),
                captured_at=entry.captured_at,
                rating=entry.rating,
                picked=entry.picked,
                rejected=entry.rejected,
                group=entry.group,
            )
        )
        report(progress, Progress("thumbnails", n, total, item=entry.filename, status="ok"))
    report(progress, Progress("layout", 0, 1, item="contact sheet"))
    spec = SheetSpec(
        title=opts.title or plan.project_title,
        paper=opts.paper,
        columns=opts.columns,
        sheet_date=plan.export_date,
        facts=list(plan.sheet_facts),
    )
    pdf = render_contact_sheet(items, spec)
    path = staging / "contact_sheet.pdf"
    path.write_bytes(pdf)
    report(progress, Progress("layout", 1, 1, item="contact sheet", status="ok"))
    return path


def execute_plan(plan: ExportPlan, progress: ProgressCallback | None = None) -> ExportOutcome:
    """Render, name, (zip) and publish an export. Raises when nothing could be exported or
    the destination cannot be written; then nothing is left at the destination."""
    opts = parse_settings(plan.preset, plan.settings)
    staging = _make_staging(plan)
    try:
        allocator = NameAllocator(_existing_names(plan.dest, plan.store_settings))
        project_slug = sanitize_component(plan.project_title, fallback="project", max_len=60)
        day = plan.export_date.isoformat()
        results: list[ItemResult] = []
        if plan.preset == "contact_sheet_pdf":
            if not plan.sheet:
                raise InvalidInput("nothing to put on the contact sheet")
            pdf = _render_sheet(plan, staging, progress)
            staged = [(pdf, allocator.allocate(f"{project_slug}_contact-sheet_{day}", "pdf"))]
            results = [
                ItemResult(item=e.filename, status="ok", asset_id=e.asset_id) for e in plan.sheet
            ]
        else:
            if not plan.photos:
                raise InvalidInput("no photos to export")
            rendered, results = _render_photos(plan, staging, progress)
            if not rendered:
                reasons = "; ".join(sorted({r.reason or "" for r in results}))[:500]
                raise InvalidInput(f"no photo could be exported: {reasons}")
            staged = _name_photos(plan, rendered, allocator)
        if opts.zip:
            zip_name = allocator.allocate(f"{project_slug}_{plan.preset}_{day}", "zip")
            zip_path = staging / zip_name
            with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_STORED) as zf:
                for path, name in staged:
                    zf.write(path, arcname=name)
            staged = [(zip_path, zip_name)]
        report(progress, Progress("publish", 0, len(staged)))
        size = sum(path.stat().st_size for path, _ in staged)
        uris = _publish(staged, plan)
        report(progress, Progress("publish", len(staged), len(staged), status="ok"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    single = plan.preset == "contact_sheet_pdf" or opts.zip
    artifact = uris[0] if single else plan.dest.rstrip("/")
    return ExportOutcome(artifact, [u.rsplit("/", 1)[-1] for u in uris], results, size)


ProgressHook = Callable[[Progress], None]
