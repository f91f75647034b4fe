-- kilo catalog, schema version 5: a queued job may be reserved for the process that queued
-- it to run it itself (`host:pid:start`, as claims name processes). A `kilo ingest` in a
-- terminal processes its own photos, and `kilo serve` beside it leaves them alone instead
-- of sharing the same cores; the reservation ends with the run, or with its process (the
-- next reclaim), and the server then takes over what is left.
ALTER TABLE jobs ADD COLUMN reserved_for VARCHAR;
