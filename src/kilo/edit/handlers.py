"""The ``edit.apply`` job: write one version's params to many assets.

Creating versions is catalog work only (rendering happens at export or preview time), so the
handler is not pooled: ``prepare`` reads the source params, ``apply`` writes every version in
one transaction. Re-running it after a crash writes the same params again (idempotent for
``overwrite_latest``; ``create_versions`` adds versions again only if the first run did not
commit, since the whole batch is one transaction).
"""

from __future__ import annotations

from typing import Any

from kilo.catalog import Catalog
from kilo.edit.params import EditParams
from kilo.edit.versions import apply_params_to_assets, get_version, version_params
from kilo.errors import InvalidInput
from kilo.jobs import JobRow
from kilo.jobspec import JobHandler, JobType
from kilo.progress import ItemResult


class ApplyHandler(JobHandler):
    type = JobType.EDIT_APPLY
    pooled = False

    def prepare(self, catalog: Catalog, job: JobRow) -> dict[str, Any]:
        payload = dict(job.payload)
        if not payload.get("editId") or not payload.get("assetIds"):
            raise InvalidInput(f"{JobType.EDIT_APPLY} needs editId and assetIds")
        params = version_params(get_version(catalog, str(payload["editId"])))
        payload["params"] = params.dump()
        return payload

    def compute(self, payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    def apply(self, catalog: Catalog, job: JobRow, result: dict[str, Any]) -> None:
        made = apply_params_to_assets(
            catalog,
            EditParams.parse(result["params"]),
            [str(a) for a in result["assetIds"]],
            result.get("mode", "create_versions"),
            name=result.get("name"),
            user_id=str(result.get("userId") or catalog.local_user_id),
            exclude_geometry=bool(result.get("excludeGeometry")),
        )
        targets = [str(a) for a in result["assetIds"]]
        results = [
            ItemResult(item=a, status="ok", asset_id=a, extra={"editId": vid}).model_dump(
                mode="json", by_alias=True
            )
            for a, vid in zip(targets, made, strict=True)
        ]
        result.clear()
        result.update({"editIds": made, "count": len(made), "results": results})


APPLY_HANDLER = ApplyHandler()
