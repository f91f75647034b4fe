"""The cull view's frame states: "embedding..." only while an embed job of the project is
queued or running (found as a photographer would: with CLIP on by default and no weights,
every frame of the example shoot said "embedding..." for ever)."""

from __future__ import annotations

from pathlib import Path

from kilo.catalog import Catalog, open_catalog
from kilo.cull.view import build_cull_view
from kilo.ingest import ingest
from kilo.jobs import enqueue
from kilo.jobspec import JobType
from kilo.models import Project
from kilo.projects import create_project
from kilo.settings import Settings

PHOTOS = Path(__file__).resolve().parents[1] / "photos"


def _states(catalog: Catalog, project_id: str) -> set[str]:
    def urls(asset_id: str) -> tuple[str, str, str]:
        return (f"t/{asset_id}", f"p/{asset_id}", f"l/{asset_id}")

    view = build_cull_view(catalog, project_id, None, urls)
    return {m.state for s in view.stacks for m in s.members}


def test_frames_say_embedding_only_while_an_embed_job_waits(settings: Settings) -> None:
    # CLIP on, as by default (the tests' settings turn it off), and no weights here
    with open_catalog(settings.model_copy(update={"clip_enabled": True})) as catalog:
        _check_states(catalog, create_project(catalog, "embed states"))


def _check_states(catalog: Catalog, project: Project) -> None:
    photo = next(p for p in sorted(PHOTOS.iterdir()) if p.suffix.lower() == ".jpg")
    assert ingest(catalog, project.id, [str(photo)]).ok
    assert _states(catalog, project.id) == {"analyzing"}  # no signals yet, no embed job
    enqueue(catalog, JobType.EMBED, project_id=project.id)
    assert _states(catalog, project.id) == {"analyzing"}  # analysis comes first
    from kilo.analyze import analyze

    analyze(catalog, project.id)  # runs the embed job too: no weights, nothing embedded
    assert _states(catalog, project.id) == {"ready"}
    enqueue(catalog, JobType.EMBED, project_id=project.id)
    assert _states(catalog, project.id) == {"embedding"}
