-- kilo catalog, schema version 4: each asset names its best preview file (the newest
-- preview, else the newest thumbnail) and that file's URI, kept by
-- `kilo.catalog.tables.refresh_previews` whenever renditions are written. A page of photos
-- then needs no scan of asset_files (in DuckDB every join is one).
ALTER TABLE assets ADD COLUMN preview_file_id VARCHAR;
ALTER TABLE assets ADD COLUMN preview_uri VARCHAR;
UPDATE assets SET preview_file_id = best.id, preview_uri = best.uri
FROM (
    SELECT DISTINCT ON (asset_id) asset_id, id, uri FROM asset_files
    WHERE kind IN ('preview', 'thumbnail')
    ORDER BY asset_id, kind = 'preview' DESC, created_at DESC
) AS best
WHERE assets.id = best.asset_id;
