-- kilo catalog, schema version 6: client galleries as kilo.gallery builds them. A gallery
-- keeps what the photographer chose for it (download size, a watermark text, how many
-- favourites a client must or may pick, whether file names are shown), when its link was
-- revoked, and every visit, favourite, comment, download and submitted selection in its
-- activity log. A visitor session is bound to the link it was opened from (a new link ends
-- it) and names its visitor; its token is stored hashed.
ALTER TABLE galleries ADD COLUMN download_size VARCHAR DEFAULT 'web';
ALTER TABLE galleries ADD COLUMN watermark_text VARCHAR;
ALTER TABLE galleries ADD COLUMN min_picks INTEGER;
ALTER TABLE galleries ADD COLUMN max_picks INTEGER;
ALTER TABLE galleries ADD COLUMN show_filenames BOOLEAN DEFAULT false;
ALTER TABLE galleries ADD COLUMN revoked_at TIMESTAMP;
ALTER TABLE gallery_sessions ADD COLUMN session_id VARCHAR;
ALTER TABLE gallery_sessions ADD COLUMN visitor_id VARCHAR;
ALTER TABLE gallery_sessions ADD COLUMN share_slug VARCHAR;
CREATE INDEX gallery_sessions_id ON gallery_sessions (session_id);

CREATE TABLE gallery_selections (
    gallery_id VARCHAR NOT NULL,
    visitor_id VARCHAR NOT NULL,
    name VARCHAR,
    submitted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (gallery_id, visitor_id)
);

CREATE TABLE gallery_activity (
    id VARCHAR PRIMARY KEY,
    gallery_id VARCHAR NOT NULL,
    visitor_id VARCHAR,
    kind VARCHAR NOT NULL,
    asset_id VARCHAR,
    detail JSON,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX gallery_activity_gallery ON gallery_activity (gallery_id, created_at);
