-- kilo catalog, schema version 9: the browser studio's sessions (kilo_server.auth). A session
-- is an HttpOnly cookie whose SHA-256 is kept here; `local` marks one that `kilo open` made
-- for the catalog's local user from a loopback request (it may ingest folders of this
-- machine). `kilo open`'s one-time sign-in links are login_challenges with delivery
-- 'studio_open' (their token's SHA-256 in code_hash).
CREATE TABLE studio_sessions (
    token_hash VARCHAR PRIMARY KEY,
    user_id VARCHAR NOT NULL,
    local BOOLEAN NOT NULL DEFAULT false,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
