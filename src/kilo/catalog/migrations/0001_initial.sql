-- kilo catalog, schema version 1.
-- Timestamps are UTC (TIMESTAMP columns hold naive UTC). Ids are uuid text (VARCHAR) so that
-- they print, join and export the same everywhere. JSON columns hold objects.
-- DuckDB foreign keys forbid updating referenced rows, so references are kept by the library.

CREATE TABLE meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE users (
    id VARCHAR PRIMARY KEY,
    email VARCHAR NOT NULL UNIQUE,
    display_name VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE login_challenges (
    id VARCHAR PRIMARY KEY,
    email VARCHAR NOT NULL,
    code_hash VARCHAR NOT NULL,
    delivery VARCHAR NOT NULL DEFAULT 'email_code',
    attempts INTEGER NOT NULL DEFAULT 0,
    expires_at TIMESTAMP NOT NULL,
    consumed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE refresh_tokens (
    id VARCHAR PRIMARY KEY,
    user_id VARCHAR NOT NULL,
    token_hash VARCHAR NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE projects (
    id VARCHAR PRIMARY KEY,
    studio_id VARCHAR,
    owner_user_id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    description VARCHAR,
    shoot_date DATE,
    timezone VARCHAR,
    status VARCHAR NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX projects_owner ON projects (owner_user_id);

-- One row per photo (per frame for multi-frame files) in a project.
-- state: registered (row exists, processing pending) | ready | quarantined | pending_upload
CREATE TABLE assets (
    id VARCHAR PRIMARY KEY,
    project_id VARCHAR NOT NULL,
    filename VARCHAR NOT NULL,
    source_uri VARCHAR NOT NULL,
    frame_index INTEGER NOT NULL DEFAULT 0,
    frame_count INTEGER NOT NULL DEFAULT 1,
    sha256 VARCHAR,
    byte_size BIGINT,
    source_mtime DOUBLE,
    content_type VARCHAR,
    format VARCHAR,
    captured_at TIMESTAMP,
    captured_offset_min INTEGER,
    captured_at_source VARCHAR,
    ingested_at TIMESTAMP NOT NULL,
    width_px INTEGER,
    height_px INTEGER,
    orientation INTEGER,
    camera_make VARCHAR,
    camera_model VARCHAR,
    camera_serial VARCHAR,
    lens_model VARCHAR,
    focal_length_mm DOUBLE,
    shutter_speed VARCHAR,
    exposure_time_s DOUBLE,
    aperture DOUBLE,
    iso INTEGER,
    exposure_bias_ev DOUBLE,
    gps_lat DOUBLE,
    gps_lon DOUBLE,
    gps_alt_m DOUBLE,
    exif JSON,
    iptc JSON,
    keywords VARCHAR[],
    notes VARCHAR,
    flags JSON,
    sidecar_uri VARCHAR,
    state VARCHAR NOT NULL DEFAULT 'registered',
    error VARCHAR,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX assets_project ON assets (project_id);
CREATE INDEX assets_sha ON assets (project_id, sha256);
CREATE INDEX assets_source ON assets (project_id, source_uri);

-- What ingest has seen at a source location, so an unchanged re-run skips before hashing.
CREATE TABLE source_files (
    project_id VARCHAR NOT NULL,
    source_uri VARCHAR NOT NULL,
    byte_size BIGINT NOT NULL,
    source_mtime DOUBLE NOT NULL,
    sha256 VARCHAR,
    asset_id VARCHAR,
    outcome VARCHAR NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (project_id, source_uri)
);

-- Files that could not be ingested: the seed's quarantine rows.
CREATE TABLE quarantine (
    id VARCHAR PRIMARY KEY,
    project_id VARCHAR NOT NULL,
    source_uri VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    byte_size BIGINT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX quarantine_project ON quarantine (project_id);

-- kind: original | thumbnail | preview | export | sidecar
CREATE TABLE asset_files (
    id VARCHAR PRIMARY KEY,
    asset_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    uri VARCHAR NOT NULL,
    content_type VARCHAR,
    byte_size BIGINT,
    sha256 VARCHAR,
    width_px INTEGER,
    height_px INTEGER,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX asset_files_asset ON asset_files (asset_id);

CREATE TABLE ratings (
    asset_id VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    rating INTEGER CHECK (rating IS NULL OR (rating >= 1 AND rating <= 5)),
    picked BOOLEAN,
    rejected BOOLEAN,
    starred BOOLEAN,
    notes VARCHAR,
    updated_at TIMESTAMP,
    PRIMARY KEY (asset_id, user_id)
);

-- Undo/redo log of cull actions: before/after state of everything an action touched.
CREATE SEQUENCE cull_actions_seq START 1;
CREATE TABLE cull_actions (
    id BIGINT PRIMARY KEY DEFAULT nextval('cull_actions_seq'),
    project_id VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    before_state JSON NOT NULL,
    after_state JSON NOT NULL,
    undone BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX cull_actions_project ON cull_actions (project_id, user_id);

-- kind: moment | burst | duplicate_group. parent_id: the moment a burst belongs to.
CREATE TABLE clusters (
    id VARCHAR PRIMARY KEY,
    project_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    parent_id VARCHAR,
    title VARCHAR,
    start_time TIMESTAMP,
    end_time TIMESTAMP,
    score DOUBLE,
    confidence DOUBLE,
    reviewed BOOLEAN NOT NULL DEFAULT false,
    winner_asset_id VARCHAR,
    winner_source VARCHAR,
    why_winner VARCHAR[],
    manual_overrides JSON,
    signature VARCHAR,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX clusters_project ON clusters (project_id, kind);

-- role: winner | alt | candidate
CREATE TABLE cluster_members (
    cluster_id VARCHAR NOT NULL,
    asset_id VARCHAR NOT NULL,
    rank INTEGER NOT NULL,
    role VARCHAR,
    score DOUBLE,
    signals JSON,
    PRIMARY KEY (cluster_id, asset_id)
);
CREATE INDEX cluster_members_asset ON cluster_members (asset_id);

-- Technical quality signals per asset, each value in [0, 1]; version names the algorithm.
CREATE TABLE signals (
    asset_id VARCHAR PRIMARY KEY,
    version VARCHAR NOT NULL,
    values JSON NOT NULL,
    computed_at TIMESTAMP NOT NULL
);

-- Perceptual hashes (64-bit, as signed BIGINT) per asset.
CREATE TABLE perceptual_hashes (
    asset_id VARCHAR PRIMARY KEY,
    phash BIGINT NOT NULL,
    dhash BIGINT NOT NULL,
    ahash BIGINT,
    computed_at TIMESTAMP NOT NULL
);

-- Image embeddings; model_id names the exact model so a model change re-embeds.
CREATE TABLE embeddings (
    asset_id VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    dim INTEGER NOT NULL,
    vector FLOAT[] NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (asset_id, model_id)
);

CREATE TABLE edit_versions (
    id VARCHAR PRIMARY KEY,
    asset_id VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    parent_id VARCHAR,
    name VARCHAR,
    params JSON NOT NULL,
    source VARCHAR NOT NULL DEFAULT 'user',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX edit_versions_asset ON edit_versions (asset_id);

-- Style DNA: per user, the sufficient statistics of each context bucket (never pixels).
CREATE TABLE style_profiles (
    id VARCHAR PRIMARY KEY,
    user_id VARCHAR NOT NULL UNIQUE,
    version VARCHAR NOT NULL,
    state JSON NOT NULL,
    event_count INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE style_events (
    id VARCHAR PRIMARY KEY,
    user_id VARCHAR NOT NULL,
    asset_key VARCHAR NOT NULL,
    bucket VARCHAR NOT NULL,
    features FLOAT[] NOT NULL,
    context FLOAT[] NOT NULL,
    delta FLOAT[] NOT NULL,
    weight DOUBLE NOT NULL DEFAULT 1.0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE galleries (
    id VARCHAR PRIMARY KEY,
    project_id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    share_slug VARCHAR NOT NULL UNIQUE,
    password_hash VARCHAR,
    expires_at TIMESTAMP,
    watermark BOOLEAN NOT NULL DEFAULT false,
    allow_downloads BOOLEAN NOT NULL DEFAULT false,
    status VARCHAR NOT NULL DEFAULT 'active',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE gallery_assets (
    gallery_id VARCHAR NOT NULL,
    asset_id VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (gallery_id, asset_id)
);

CREATE TABLE gallery_sessions (
    token_hash VARCHAR PRIMARY KEY,
    gallery_id VARCHAR NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE favorites (
    gallery_id VARCHAR NOT NULL,
    asset_id VARCHAR NOT NULL,
    client_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (gallery_id, asset_id, client_id)
);

CREATE TABLE comments (
    id VARCHAR PRIMARY KEY,
    gallery_id VARCHAR NOT NULL,
    asset_id VARCHAR NOT NULL,
    client_id VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX comments_gallery ON comments (gallery_id, asset_id);

CREATE TABLE exports (
    id VARCHAR PRIMARY KEY,
    project_id VARCHAR NOT NULL,
    preset VARCHAR NOT NULL,
    settings JSON NOT NULL,
    asset_ids VARCHAR[],
    dest_uri VARCHAR,
    artifact_uri VARCHAR,
    status VARCHAR NOT NULL DEFAULT 'queued',
    progress DOUBLE,
    error VARCHAR,
    job_id VARCHAR,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX exports_project ON exports (project_id);

-- The job queue. status: queued | running | done | failed | canceled
CREATE TABLE jobs (
    id VARCHAR PRIMARY KEY,
    project_id VARCHAR,
    asset_id VARCHAR,
    type VARCHAR NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'queued',
    progress DOUBLE,
    error VARCHAR,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    priority INTEGER NOT NULL DEFAULT 100,
    payload JSON,
    result JSON,
    dedupe_key VARCHAR,
    run_after TIMESTAMP,
    claimed_by VARCHAR,
    claimed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_status ON jobs (status, priority);
CREATE INDEX jobs_project ON jobs (project_id);
CREATE INDEX jobs_dedupe ON jobs (dedupe_key);

-- Append-only event log for the realtime stream; ids are monotonic.
CREATE SEQUENCE events_seq START 1;
CREATE TABLE events (
    id BIGINT PRIMARY KEY DEFAULT nextval('events_seq'),
    type VARCHAR NOT NULL,
    project_id VARCHAR,
    job_id VARCHAR,
    asset_id VARCHAR,
    data JSON,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_project ON events (project_id);

CREATE TABLE smart_collections (
    id VARCHAR PRIMARY KEY,
    user_id VARCHAR NOT NULL,
    project_id VARCHAR,
    name VARCHAR NOT NULL,
    query VARCHAR NOT NULL,
    filters JSON,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, name)
);

-- Idempotency keys: a replayed request returns the stored response instead of acting twice.
CREATE TABLE idempotency_keys (
    scope VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    request_hash VARCHAR NOT NULL,
    response JSON,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Learned culling taste per user (pairwise preference weights over signals).
CREATE TABLE preference_models (
    user_id VARCHAR PRIMARY KEY,
    version VARCHAR NOT NULL,
    weights JSON NOT NULL,
    pair_count INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL
);
