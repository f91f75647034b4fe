-- kilo catalog, schema version 2: a failed job keeps the traceback of its last failure
-- (`kilo jobs show ID`, `kilo.jobs.get_job_detail`), beside its one-line `error`.
ALTER TABLE jobs ADD COLUMN error_detail VARCHAR;
