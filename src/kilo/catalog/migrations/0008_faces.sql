-- kilo catalog, schema version 8: the faces analysis found in each photo (kilo.faces), for
-- the cull screen's face strip: boxes as shares of the analysed image (0..1), the detector's
-- score, the eyes' state and openness, and which detector found them.
CREATE TABLE faces (
    asset_id VARCHAR NOT NULL,
    idx INTEGER NOT NULL,
    x DOUBLE NOT NULL,
    y DOUBLE NOT NULL,
    w DOUBLE NOT NULL,
    h DOUBLE NOT NULL,
    score DOUBLE,
    eyes VARCHAR NOT NULL,
    openness DOUBLE,
    source VARCHAR NOT NULL,
    PRIMARY KEY (asset_id, idx)
);
