-- kilo catalog, schema version 3: an export keeps the outcome of each photo (ok, or failed
-- with the reason), so `Export.results` and `--json` say which photo failed.
ALTER TABLE exports ADD COLUMN results JSON;
